// Child process for diameter-malformed.int.test.ts: one CDS sink, reports delivered one after
// another to the port given; prints each result as a JSON line. Its exit code tells whether an
// unreadable message from the CDS took the process down.

import { silentLogger } from '@li/log/testing';
import { CdsSink } from '../src/adapters/reporters.ts';
import { sampleReports } from '../src/testing/reports.ts';
import { identity, peerConfig } from './rf-peer.ts';

const port = Number(process.argv[2]);
const count = Number(process.argv[3]);
const sink = new CdsSink(peerConfig(port, { answerTimeoutMs: 2_000, connectTimeoutMs: 2_000 }), identity, {
  log: silentLogger,
});
for (const report of sampleReports(count)) {
  const r = await sink.deliver(report);
  process.stdout.write(`${JSON.stringify(r.ok ? { ok: true } : { ok: false, code: r.code })}\n`);
}
await sink.close();
