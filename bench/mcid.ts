// bench/mcid: MCID calls/s end to end on the real broker — SIP events of permanent-mode calls
// published to li.<t>.events, handled by mcid-store, reports stored in local ACR files —
// beside the raw bus reference measured in the same run. The end of the measured phase is the
// service's group committing the last event's offset (after the batch's state commit and report
// delivery), polled through the admin client like bench:match; the report listing is read once,
// after the measurement. BENCH_MCID_DONE=listing polls the listing instead (the method before the
// fifth pass: a REST request and a walk of every report per poll, charged to the service's CPU).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBus, deploymentGroupId, topicName } from '@li/bus';
import { createLogger } from '@li/log';
import { mcidStoreService } from '@li/mcid-store/service';
import { invite, response } from '@li/mcid-store/testing';
import { startService } from '@li/runtime';
import type { NormalizedEvent } from '@li/schemas';
import { serviceEnv, testInfra } from '@li/testing';
import { measureBusReference } from './lib/bus-reference.ts';
import { benchDeadline, waitUntil, within } from './lib/deadline.ts';
import { profilePhase } from './lib/profile.ts';
import { cpuMeter, fmt, printMachine, printRows } from './lib/report.ts';

// 100 002 events, as many as the reference's records: with 6 000 calls (18 000 events, about 1 s)
// the run was mostly the service's warm-up (0.45 x against 0.82 x at 90 000 events, 18:21 UTC).
const calls = Number(process.env.BENCH_CALLS ?? 33_334);
const infra = testInfra();
const { brokers } = infra;
benchDeadline('bench/mcid', 900);
printMachine();
const reference = await measureBusReference({ brokers });

const tenant = `bench-${Date.now().toString(36)}`;
const dir = mkdtempSync(join(tmpdir(), 'bench-mcid-'));
const bus = await createBus({ ...infra, clientId: 'bench-mcid' }, createLogger({ service: 'bench', level: 'error' }));
await bus.ensureTopics(tenant, ['events', 'mcid', 'dlq']);
// The REST API needs a token; the operator-wide admin may set both administrative states.
const OPERATOR = 'bench-operator-admin-token';
const tokensDir = mkdtempSync(join(tmpdir(), 'bench-mcid-tokens-'));
const tokensFile = join(tokensDir, 'tokens.json');
writeFileSync(tokensFile, JSON.stringify({ [OPERATOR]: { subject: 'bench', tenant: '*', role: 'admin' } }));
const svc = await within(
  'the mcid-store service to start',
  120_000,
  startService(
    mcidStoreService,
    await serviceEnv('mcid-store', [tenant], {
      LI_TENANTS: tenant,
      LI_TOKENS_FILE: tokensFile,
      LI_HTTP__PORT: '0',
      LI_REPORTING_TYPE: 'LOCAL',
      LI_LOCAL_STORAGE__DIRECTORY: dir,
    }),
  ),
);
const api = `http://127.0.0.1:${svc.ports.http}/v1`;
const put = (path: string, body: unknown) =>
  fetch(`${api}${path}`, {
    method: path.endsWith('subscribers') ? 'POST' : 'PUT',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${OPERATOR}` },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
await put('/admin-state', { state: 'UNLOCKED' });
await put(`/tenants/${tenant}/admin-state`, { state: 'UNLOCKED' });
const subscribers = 100;
for (let i = 0; i < subscribers; i++) {
  await put(`/tenants/${tenant}/subscribers`, { identities: [`tel:+3906${String(1_000_000 + i)}`], mode: 'PERMANENT' });
}

const topic = topicName(tenant, 'events');
const codec = await bus.codec<NormalizedEvent>(topic, 'NormalizedEvent');
const t0 = Date.now() * 1000;
const records = [];
for (let c = 0; c < calls; c++) {
  const callId = `bench-${c}@ims.example.net`;
  const at = t0 + c * 10;
  const ruri = `sip:+3906${String(1_000_000 + (c % subscribers))}@ims.example.net;user=phone`;
  for (const e of [
    invite({ callId, at, requestUri: ruri }),
    response({ callId, at: at + 1, status: 180, toTag: 't' }),
    response({ callId, at: at + 2, status: 200, toTag: 't' }),
  ]) {
    records.push({ topic, key: callId, value: await codec.encode({ ...e, tenant }) });
  }
}
const reported = async () => {
  const res = await fetch(`${api}/tenants/${tenant}/reports?limit=1`, {
    headers: { authorization: `Bearer ${OPERATOR}` },
    signal: AbortSignal.timeout(10_000),
  });
  const total = ((await res.json()) as { total: number }).total;
  return total >= calls || `${total} reports`;
};
const admin = await bus.admin();
const groupId = deploymentGroupId('mcid-store', [tenant]);
const pollListing = process.env.BENCH_MCID_DONE === 'listing';
const waitMs = Number(process.env.BENCH_WAIT_S ?? 300) * 1000;
const profile = await profilePhase();
const cpu = cpuMeter();
const started = performance.now();
for (let i = 0; i < records.length; i += 500) await bus.send(records.slice(i, i + 500));
if (pollListing) {
  await waitUntil(`mcid-store to report ${calls} calls`, reported, { intervalMs: 20, timeoutMs: waitMs });
} else {
  const ends = await admin.fetchTopicOffsets(topic);
  const end = ends.reduce((n, p) => n + Number(p.high), 0);
  await waitUntil(
    `${groupId} to commit the ${fmt(end)} events of ${topic}`,
    async () => {
      const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
      const committed = (offsets?.partitions ?? []).reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
      return committed >= end || `committed ${committed}`;
    },
    { intervalMs: 20, timeoutMs: waitMs },
  );
}
const seconds = (performance.now() - started) / 1000;
const cpuSec = cpu.seconds();
await profile.stop();
// Every call reported (not measured): the committed offsets say the events were handled.
await waitUntil(`mcid-store to report ${calls} calls`, reported, { intervalMs: 200, timeoutMs: 30_000 });
await svc.stop();
await bus.close();
rmSync(dir, { recursive: true, force: true });
rmSync(tokensDir, { recursive: true, force: true });

console.log(
  `bench/mcid: ${fmt(calls)} permanent-mode calls (${fmt(records.length)} SIP events), ${subscribers} subscribers, local ACR storage; end: ${pollListing ? 'report listing' : 'committed offsets'}`,
);
printRows([
  { name: 'bus reference produce→consume', value: reference.pipelineRecordsPerSec, unit: 'records/s' },
  {
    name: 'mcid events handled',
    value: records.length / seconds,
    unit: 'events/s',
    reference: reference.pipelineRecordsPerSec,
  },
  { name: 'mcid calls reported', value: calls / seconds, unit: 'calls/s', reference: reference.pipelineRecordsPerSec },
  { name: 'bus reference per CPU second', value: reference.recordsPerCpuSec, unit: 'records/CPU-s' },
  {
    name: 'mcid events per CPU second',
    value: records.length / cpuSec,
    unit: 'events/CPU-s',
    reference: reference.recordsPerCpuSec,
  },
]);
process.exit(0);
