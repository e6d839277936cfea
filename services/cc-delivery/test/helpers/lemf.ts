// The LEMF receiver harness lives in the package (@li/cc-delivery/testing) so benchmarks share it.
export { LemfHarness, type LemfOptions } from '../../src/testing/lemf-harness.ts';
