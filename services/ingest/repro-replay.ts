import { replayPcapFile } from './src/adapters/pcap-file.ts';
import { createCapture } from './src/domain/capture/capture.ts';
import { mailDecoderFactories } from './src/domain/mail/factories.ts';
import { msnpDecoderFactory } from './src/domain/msnp/msnp.ts';

const ports = JSON.parse(process.argv[2]!);
const events: string[] = [];
const capture = createCapture({
  factories: [
    ...mailDecoderFactories({ smtp: [ports.smtp], pop3: [], imap: [ports.imap] }),
    msnpDecoderFactory({ ports: [ports.msn] }),
  ],
  sink: {
    event: (e) =>
      events.push(`${e.occurredAtMicros} ${e.protocol} ${e.communicationId.slice(0, 60)} ${e.category} ${e.action}`),
    problem: (p) => events.push(`PROBLEM ${p.code} ${p.reason}`),
  },
});
const r = await replayPcapFile(process.argv[3]!, capture);
console.log(r.ok, events.join('\n'));
console.log(JSON.stringify(capture.stats().tcp));
