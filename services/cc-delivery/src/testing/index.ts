// Test and benchmark helpers of cc-delivery (@li/cc-delivery/testing): a LEMF receiver harness.
export { LemfHarness, type LemfOptions } from './lemf-harness.ts';
