// Test and benchmark helpers of cc-delivery: a LEMF receiver harness.
export { ACK, KA_TAIL, KEEPALIVE_RESPONSE, LemfHarness, type LemfOptions } from './testing/lemf-harness.ts';
