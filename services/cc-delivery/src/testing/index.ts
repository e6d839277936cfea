// Test and benchmark helpers of cc-delivery (@li/cc-delivery/testing): a LEMF receiver harness, and the
// delivery core with real transports but no Kafka.

export { record, recordingLogger, testDeliveries, waitFor } from './deliveries.ts';
export { LemfHarness, type LemfOptions } from './lemf-harness.ts';
