// bench/e2e: the whole data path, events published to li.<t>.events → target-match →
// iri-encoder → cc-delivery → a LEMF over ETSI TCP, every service in this process on the local
// broker, beside the raw bus reference measured in the same run.
// 1. Throughput: BENCH_EVENTS (default 20 000) SIP events of 500 calls for a warranted number,
//    published as fast as the bus takes them; events/s from the first send until the LEMF holds
//    the last record.
// 2. Latency: BENCH_RATE events/s (default 200) for BENCH_SECONDS (default 10); for each record,
//    the time from the event's publication (its time of interception, in the PS-PDU header) to
//    its arrival at the LEMF: p50, p99, max.
import { createBus, type OutputRecord, readTopic, topicName } from '@li/bus';
import { LemfReceiver } from '@li/e2e/lemf';
import { addEtsiLemf, addWarrant, startPipeline } from '@li/e2e/pipeline';
import { createLogger } from '@li/log';
import type { NormalizedEvent } from '@li/schemas';
import { sampleEvent } from '@li/schemas/testing';
import { testInfra } from '@li/testing';
import { measureBusReference } from './lib/bus-reference.ts';
import { benchDeadline, waitUntil, within } from './lib/deadline.ts';
import { fmt, printMachine, printRows } from './lib/report.ts';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 20_000);
const RATE = Number(process.env.BENCH_RATE ?? 200);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const infra = testInfra();
const { brokers } = infra;
const tenant = `bench-e2e-${Date.now().toString(36)}`;
const TARGET = '+390612345678';

benchDeadline('bench/e2e', 900);
printMachine();
const reference = await measureBusReference({ brokers, recordBytes: 512 });

const lemf = await new LemfReceiver({ name: 'bench LEMF' }).start();
const pipeline = await within(
  'the pipeline to start',
  180_000,
  startPipeline({ tenant, env: { LI_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'error' } }),
);
await addEtsiLemf(pipeline, 'lemf-bench', lemf);
await addWarrant(pipeline, {
  liid: 'BENCH1',
  kind: 'VOICE',
  target: { type: 'E164', value: TARGET },
  lemfIds: ['lemf-bench'],
});
const bus = await createBus({ ...infra, clientId: 'bench-e2e' }, createLogger({ service: 'bench' }));
const eventsTopic = topicName(tenant, 'events');
const codec = await bus.codec<NormalizedEvent>(eventsTopic, 'NormalizedEvent');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let n = 0;
async function event(): Promise<OutputRecord> {
  const i = n++;
  const call = `call-${Math.floor(i / 40)}@bench.example`;
  const e = sampleEvent({
    tenant,
    eventId: `e${i}`,
    occurredAtMicros: Date.now() * 1000,
    communicationId: call,
    action: i % 40 === 0 ? 'sip.invite' : 'sip.response',
    attributes: i % 40 === 0 ? { method: 'INVITE' } : { method: 'INVITE', status: '180' },
  });
  return { topic: eventsTopic, key: call, value: await codec.encode(e) };
}

// Warm-up: the warrant reaches target-match, the LEMF connects, topics and schemas exist.
// One event every 5 s until a record arrives (early ones may precede the warrant).
{
  const before = lemf.records.length;
  let sentAt = 0;
  let sent = 0;
  await waitUntil(
    'a warm-up event to reach the LEMF',
    async () => {
      if (lemf.records.length > before) return true;
      if (performance.now() - sentAt > 5000) {
        await bus.send([await event()]);
        sentAt = performance.now();
        sent++;
      }
      return `${sent} warm-up events sent, none at the LEMF`;
    },
    { timeoutMs: 60_000, intervalMs: 50 },
  );
}

// 1. Throughput.
const start = lemf.records.length;
const t0 = performance.now();
for (let sent = 0; sent < EVENTS; sent += 500) {
  const batch: OutputRecord[] = [];
  for (let i = sent; i < Math.min(EVENTS, sent + 500); i++) batch.push(await event());
  await bus.send(batch);
}
const produced = performance.now();
/** Records per stage's topic, for the message of a wait that timed out. */
const topicCounts = async () =>
  (
    await Promise.all(
      (['events', 'matched', 'hi2', 'dlq'] as const).map(
        async (s) => `${s} ${(await readTopic(bus.kafka, topicName(tenant, s))).length}`,
      ),
    )
  ).join(', ');
const waitS = Number(process.env.BENCH_WAIT_S ?? 120);
const arrived = (from: number, expected: number) => () =>
  lemf.records.length - from >= expected || `${lemf.records.length - from} of ${expected} records at the LEMF`;
await waitUntil(`${EVENTS} records at the LEMF`, arrived(start, EVENTS), {
  timeoutMs: waitS * 1000,
  intervalMs: 20,
  onTimeout: async () => `topics: ${await topicCounts()}`,
});
const throughputSec = (performance.now() - t0) / 1000;

// 2. Latency at a steady rate.
const latStart = lemf.records.length;
const total = RATE * SECONDS;
const tick = 100; // ms: RATE/10 events per tick
const t1 = performance.now();
for (let sent = 0; sent < total; ) {
  const due = Math.min(total, Math.round(((performance.now() - t1) / 1000) * RATE) + RATE / 10);
  const batch: OutputRecord[] = [];
  while (sent < due) {
    batch.push(await event());
    sent++;
  }
  if (batch.length > 0) await bus.send(batch);
  await sleep(tick);
}
await waitUntil(`${total} records of the latency run at the LEMF`, arrived(latStart, total), {
  timeoutMs: waitS * 1000,
  intervalMs: 20,
  onTimeout: async () => `topics: ${await topicCounts()}`,
});
const latencies = lemf.records
  .slice(latStart)
  .filter((r) => r.timeMicros !== null)
  .map((r) => r.receivedAtMs - r.timeMicros! / 1000)
  .sort((a, b) => a - b);
const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? NaN;

console.log(
  `\n${fmt(EVENTS)} events in ${throughputSec.toFixed(2)} s (published in ${((produced - t0) / 1000).toFixed(2)} s); each event gives one IRI record`,
);
printRows([
  { name: 'bus reference produce→consume (512 B)', value: reference.pipelineRecordsPerSec, unit: 'records/s' },
  {
    name: 'end to end, event → LEMF',
    value: EVENTS / throughputSec,
    unit: 'events/s ',
    reference: reference.pipelineRecordsPerSec,
  },
]);
console.log(
  `latency at ${RATE} events/s for ${SECONDS} s (${latencies.length} records): p50 ${pct(50).toFixed(1)} ms, p99 ${pct(99).toFixed(1)} ms, max ${(latencies.at(-1) ?? NaN).toFixed(1)} ms`,
);
const nextSeq = new Map<number, number>();
let seqOk = true;
for (const r of lemf.records) {
  if (r.liid !== 'BENCH1' || r.type.startsWith('HI1')) continue;
  seqOk &&= r.seq === (nextSeq.get(r.cin) ?? 0);
  nextSeq.set(r.cin, r.seq + 1);
}
console.log(`sequence numbers 0..n per CIN at the LEMF: ${seqOk} (${nextSeq.size} communications)`);

await bus.close();
await pipeline.stop();
await lemf.stop();
process.exit(0);
