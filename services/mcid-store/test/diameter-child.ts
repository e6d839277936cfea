// Child process for diameter-malformed.int.test.ts: one CDS sink, reports delivered one after
// another to the port given; prints each result as a JSON line. Its exit code tells whether an
// unreadable message from the CDS took the process down.
import { CdsSink } from '../src/adapters/reporters.ts';
import { silentLog } from '../src/testing/logger.ts';
import { sampleReports } from '../src/testing/reports.ts';

const port = Number(process.argv[2]);
const count = Number(process.argv[3]);
const identity = {
  originHost: 'mcid-as.test.local',
  originRealm: 'test.local',
  destinationRealm: 'test.local',
  serviceContextId: '32275@3gpp.org',
  privateVendorId: 32473,
};
const sink = new CdsSink(
  {
    host: '127.0.0.1',
    port,
    originHost: identity.originHost,
    originRealm: identity.originRealm,
    hostIp: '127.0.0.1',
    productName: 'li-mcid-store',
    vendorId: 0,
    privateVendorId: identity.privateVendorId,
    watchdogMs: 30_000,
    answerTimeoutMs: 2_000,
    connectTimeoutMs: 2_000,
  },
  identity,
  { log: silentLog },
);
for (const report of sampleReports(count)) {
  const r = await sink.deliver(report);
  process.stdout.write(`${JSON.stringify(r.ok ? { ok: true } : { ok: false, code: r.code })}\n`);
}
await sink.close();
