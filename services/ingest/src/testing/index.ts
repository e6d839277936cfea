// "@li/ingest/testing": what other packages use. bench/ingest: the generator of SIP-call
// captures and the throughput of the whole decode path; bench/spool: the disk spool.

export { DiskSpool } from '../adapters/spool.ts';
export { type SyntheticOptions, syntheticSipPcap } from './synthetic.ts';
export {
  type SyntheticRtpOptions,
  syntheticRtpPcap,
  type VoiceCaptureCounts,
  type VoiceCaptureOptions,
  writeVoiceCapture,
} from './synthetic-rtp.ts';
export { type MediaThroughput, measureMediaThroughput, measureThroughput, type Throughput } from './throughput.ts';
