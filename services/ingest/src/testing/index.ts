// "@li/ingest/testing": what other packages use. bench/ingest: the generator of SIP-call
// captures and the throughput of the whole decode path.
export { type SyntheticOptions, syntheticSipPcap } from './synthetic.ts';
export { measureThroughput, type Throughput } from './throughput.ts';
