// bench/match: target matching with 100 000 active targets of every type, beside the raw bus
// reference of the same run. Two figures: the warrant index alone (events/s, heap), and the
// target-match service on the real broker (index loaded from the compacted topic, then events
// consumed from li.<t>.events and MatchedEvents produced in transactions). BENCH_CPU_PROFILE=<file>
// profiles the service phase only.
import { createBus, deploymentGroupId, topicName } from '@li/bus';
import { createLogger } from '@li/log';
import { startService } from '@li/runtime';
import type { NormalizedEvent, Warrant } from '@li/schemas';
import { targetMatchService } from '@li/target-match/service';
import { WarrantIndex } from '@li/target-match/testing';
import { serviceEnv, testInfra } from '@li/testing';
import { measureBusReference } from './lib/bus-reference.ts';
import { benchDeadline, waitUntil, within } from './lib/deadline.ts';
import { generateEvents, generateWarrants } from './lib/match-data.ts';
import { profilePhase } from './lib/profile.ts';
import { cpuMeter, fmt, printMachine, printRows } from './lib/report.ts';

const TARGETS = Number(process.env.BENCH_TARGETS ?? 100_000);
// As many events as the reference's records: at 50 000 (about 1.4 s) the service's warm-up (its
// event path compiled during the run) and the 100 ms offset polls were a visible share.
const EVENTS = Number(process.env.BENCH_EVENTS ?? 100_000);
const infra = testInfra();
const { brokers } = infra;
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const now = Date.now() * 1000;
const tenant = `bench-${Date.now().toString(36)}`;

benchDeadline('bench/match', 900);
printMachine();
const reference = await measureBusReference({ brokers });

// 1. The index alone.
const warrants = generateWarrants(TARGETS, tenant, now);
const events = generateEvents(10_000, TARGETS, tenant, now);
gc();
const heap0 = process.memoryUsage().heapUsed;
const index = new WarrantIndex(() => ({ defaultCountryCode: '39' }));
const t0 = performance.now();
for (const w of warrants) index.upsert(w);
const buildMs = performance.now() - t0;
gc();
const indexMiB = (process.memoryUsage().heapUsed - heap0) / 2 ** 20;
for (let i = 0; i < 20_000; i++) index.match(events[i % events.length]!, now);
const rounds = 300_000;
let matched = 0;
const t1 = performance.now();
for (let i = 0; i < rounds; i++) matched += index.match(events[i % events.length]!, now).length;
const indexRate = rounds / ((performance.now() - t1) / 1000);

// 2. The service on the broker.
const log = createLogger({ service: 'bench', level: 'error' });
const bus = await createBus({ ...infra, clientId: 'bench-match' }, log);
await bus.ensureTopics(tenant, ['warrants', 'events', 'matched', 'dlq']);
const wTopic = topicName(tenant, 'warrants');
const wCodec = await bus.codec<Warrant>(wTopic, 'Warrant');
for (let i = 0; i < warrants.length; i += 1000) {
  const slice = warrants.slice(i, i + 1000);
  await bus.send(
    await Promise.all(slice.map(async (w) => ({ topic: wTopic, key: `IT:${w.liid}`, value: await wCodec.encode(w) }))),
  );
}
const t2 = performance.now();
const svc = await within(
  'the target-match service to start (index loaded from the warrants topic)',
  300_000,
  startService(targetMatchService, await serviceEnv('target-match', [tenant], { LI_TENANTS: tenant })),
);
const loadSec = (performance.now() - t2) / 1000;
const eTopic = topicName(tenant, 'events');
const eCodec = await bus.codec<NormalizedEvent>(eTopic, 'NormalizedEvent');
const records = [];
for (let i = 0; i < EVENTS; i++) {
  const e = { ...events[i % events.length]!, eventId: `b${i}` };
  records.push({ topic: eTopic, key: e.communicationId, value: await eCodec.encode(e) });
}
const admin = await bus.admin();
const profile = await profilePhase();
const cpu = cpuMeter();
const t3 = performance.now();
for (let i = 0; i < records.length; i += 1000) await bus.send(records.slice(i, i + 1000));
// The service commits its input offsets under its deployment's group, not a fixed name.
const groupId = deploymentGroupId('target-match', [tenant]);
await waitUntil(
  `${groupId} to commit offset ${EVENTS} on ${eTopic}`,
  async () => {
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [eTopic] });
    const offset = Number(offsets?.partitions[0]?.offset ?? -1);
    return offset >= EVENTS || `committed offset ${offset}`;
  },
  { timeoutMs: Number(process.env.BENCH_WAIT_S ?? 300) * 1000 },
);
const serviceRate = EVENTS / ((performance.now() - t3) / 1000);
const cpuSec = cpu.seconds();
await profile.stop();
const rssMiB = process.memoryUsage().rss / 2 ** 20;
await svc.stop();
await bus.close();

console.log(
  `bench/match: ${fmt(TARGETS)} targets in ${fmt(warrants.length)} warrants; events with 3 parties + addresses, ` +
    `${((matched / rounds) * 100).toFixed(0)} matches per 100 events`,
);
printRows([
  { name: 'bus reference produce→consume', value: reference.pipelineRecordsPerSec, unit: 'records/s' },
  { name: 'index: match', value: indexRate, unit: 'events/s', reference: reference.pipelineRecordsPerSec },
  { name: 'index: build', value: buildMs, unit: 'ms' },
  { name: 'index: heap', value: indexMiB, unit: 'MiB' },
  { name: 'service: load index from topic', value: loadSec * 1000, unit: 'ms' },
  {
    name: 'service: events in → matched out',
    value: serviceRate,
    unit: 'events/s',
    reference: reference.pipelineRecordsPerSec,
  },
  { name: 'bus reference per CPU second', value: reference.recordsPerCpuSec, unit: 'records/CPU-s' },
  {
    name: 'service: events per CPU second',
    value: EVENTS / cpuSec,
    unit: 'events/CPU-s',
    reference: reference.recordsPerCpuSec,
  },
  { name: 'bench process RSS (index + service)', value: rssMiB, unit: 'MiB' },
]);
process.exit(0);
