// What bench/ingest needs from the capture path: the generator of SIP-call captures and the
// pure throughput measurement.
export type { SyntheticOptions } from './synthetic.ts';
export { syntheticSipPcap } from './synthetic.ts';
export type { Throughput } from './throughput.ts';
export { measureThroughput } from './throughput.ts';
