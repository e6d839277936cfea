// bench/deliver: does delivery cost grow with the number of LEMFs? The same BENCH_RECORDS records
// (default 100 000, 200 bytes, half IRI on li.<t>.hi2, half CC on li.<t>.hi3) go to 1, 10 and 50
// LEMFs (one warrant, so one LIID, per LEMF; records spread evenly), each a local ETSI_TCP receiver.
// Per case: a fresh tenant; the LEMFs are published first (as admf requires before a warrant),
// the records pre-produced, then cc-delivery starts and the time until every LEMF holds all its
// records is measured. Bytes read are cc-delivery's own count of the record bytes (key, value,
// headers) its Kafka consumers fetched (li_cc_delivery_read_bytes_total: the router over the
// tenant's streams, the LEMF consumers over their own queues); fetch-protocol overhead is not in
// it. Beside them: what one consumer group per LEMF over the whole stream (the design before the
// router) reads, N x the stream's bytes, computed from the router's count, and the raw bus
// reference of the same run. Goal: records/s at 50 LEMFs within 20 % of 1 LEMF.
import { createBus, LEMF_STREAMS, lemfTopicName, type OutputRecord, topicName } from '@li/bus';
import { ccDeliveryService } from '@li/cc-delivery/service';
import { LemfHarness } from '@li/cc-delivery/testing';
import { createLogger } from '@li/log';
import { writeDeliveryHeaders } from '@li/records';
import { startService } from '@li/runtime';
import type { LemfDestination } from '@li/schemas';
import { sampleLemf } from '@li/schemas/testing';
import { serviceEnv, testInfra } from '@li/testing';
import { measureBusReference } from './lib/bus-reference.ts';
import { benchDeadline, waitUntil, within } from './lib/deadline.ts';
import { fmt, printMachine, printRows } from './lib/report.ts';

const RECORDS = Number(process.env.BENCH_RECORDS ?? 100_000);
const CASES = (process.env.BENCH_LEMFS ?? '1,10,50').split(',').map(Number);
const RECORD_BYTES = 200;
const infra = testInfra();
const { brokers } = infra;

benchDeadline('bench/deliver', 1500);
printMachine();
console.error('[bench/deliver] measuring the bus reference');
const reference = await measureBusReference({ brokers, recordBytes: RECORD_BYTES });

const log = createLogger({ service: 'bench', level: 'error' });
// Topics of every case, deleted at the end by a client that never produced to them (a kafkajs
// producer that sent to a deleted topic fails every later metadata refresh).
const made: string[] = [];

/** A 200-byte BER SEQUENCE (tag, 2 length bytes, 197 content bytes) the LEMF's framing splits. */
function pdu(i: number): Buffer {
  const b = Buffer.alloc(RECORD_BYTES);
  b[0] = 0x30;
  b[1] = 0x81;
  b[2] = RECORD_BYTES - 3;
  b.writeUInt32BE(i, 3);
  return b;
}

/** Sum of li_cc_delivery_read_bytes_total samples of one stage. */
async function readBytes(metricsPort: number, tenant: string, stage: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('li_cc_delivery_read_bytes_total{') && l.includes(`tenant="${tenant}"`))
    .filter((l) => l.includes(`stage="${stage}"`))
    .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

interface CaseResult {
  lemfs: number;
  rate: number;
  withStart: number;
  routerBytes: number;
  lemfBytes: number;
  duplicates: number;
  /** Seconds from the service start until the queues held every record, and until the LEMFs did. */
  routedS: number;
  deliveredS: number;
}

const progress = (what: string) => console.error(`[bench/deliver] ${new Date().toISOString().slice(11, 19)} ${what}`);

async function runCase(n: number): Promise<CaseResult> {
  progress(`${n} LEMF(s): producing ${RECORDS} records`);
  const tenant = `bench-dlv${n}-${Date.now().toString(36)}`;
  const bus = await createBus({ ...infra, clientId: `bench-deliver-${n}` }, log);
  await bus.ensureTopics(tenant, ['hi2', 'hi3', 'reports', 'lemfs', 'dlq', 'delivery-state']);
  const lemfTopic = topicName(tenant, 'lemfs');
  const codec = await bus.codec<LemfDestination>(lemfTopic, 'LemfDestination');
  const ids = Array.from({ length: n }, (_, j) => `lemf-${j}`);
  const lemfs = await Promise.all(ids.map(() => new LemfHarness({ countOnly: true }).start()));
  await bus.send(
    await Promise.all(
      ids.map(async (id, j) => ({
        topic: lemfTopic,
        key: id,
        value: await codec.encode(
          sampleLemf({
            allowInsecure: true,
            tenant,
            id,
            address: { host: '127.0.0.1', port: lemfs[j]!.port },
            ccAddress: null, // HI2 and HI3 connections to the same receiver
            keepaliveSeconds: 0,
          }),
        ),
      })),
    ),
  );
  // Record i belongs to warrant i mod n (its LIID) and goes to that warrant's one LEMF.
  for (let sent = 0; sent < RECORDS; sent += 1000) {
    const batch: OutputRecord[] = [];
    for (let i = sent; i < Math.min(RECORDS, sent + 1000); i++) {
      const liid = `LIIDBENCH${i % n}`;
      batch.push({
        topic: topicName(tenant, i % 2 === 0 ? 'hi2' : 'hi3'),
        key: liid,
        value: pdu(i),
        headers: writeDeliveryHeaders({ liid, cin: 1, seq: i, lemfs: [ids[i % n]!] }),
      });
    }
    await bus.send(batch);
  }
  const expected = (j: number) => Math.floor(RECORDS / n) + (j < RECORDS % n ? 1 : 0);

  progress(`${n} LEMF(s): starting cc-delivery`);
  const started = performance.now();
  // When the router has copied every record into the queues (their end offsets, markers included,
  // reach the record count): the router's own pace, apart from delivery.
  const queueTopics = ids.flatMap((id) => (['hi2', 'hi3'] as const).map((s) => lemfTopicName(tenant, id, s)));
  let routedAt = 0;
  const watcher = await createBus({ ...infra, clientId: `bench-deliver-watch-${n}` }, log);
  const watchAdmin = await watcher.admin();
  let polling = false;
  const watch = setInterval(async () => {
    if (routedAt || polling) return;
    polling = true;
    try {
      const ends = await Promise.all(queueTopics.map((t) => watchAdmin.fetchTopicOffsets(t)));
      const end = ends.flat().reduce((sum, p) => sum + Number(p.high), 0);
      if (end >= RECORDS && !routedAt) routedAt = performance.now();
    } catch {
      // queues not there yet
    } finally {
      polling = false;
    }
  }, 100);
  const svc = await within(
    `cc-delivery to start with ${n} LEMFs`,
    180_000,
    startService(
      ccDeliveryService,
      await serviceEnv('cc-delivery', [tenant], { LI_TENANTS: tenant, LI_OPERATOR_IDENTIFIER: 'BENCH' }),
    ),
  );
  await waitUntil(
    `${n} LEMFs to receive ${RECORDS} records`,
    () => lemfs.every((l, j) => l.received >= expected(j)) || `${lemfs.reduce((s, l) => s + l.received, 0)} received`,
    { timeoutMs: Number(process.env.BENCH_WAIT_S ?? 600) * 1000, intervalMs: 20 },
  );
  progress(
    `${n} LEMF(s): delivered; first PDUs spread over ${fmt(Math.max(...lemfs.map((l) => l.firstAt)) - Math.min(...lemfs.map((l) => l.firstAt)))} ms, ` +
      `last PDUs over ${fmt(Math.max(...lemfs.map((l) => l.lastAt)) - Math.min(...lemfs.map((l) => l.lastAt)))} ms`,
  );
  clearInterval(watch);
  await watcher.close();
  const first = Math.min(...lemfs.map((l) => l.firstAt));
  const last = Math.max(...lemfs.map((l) => l.lastAt));
  const routerBytes = await readBytes(svc.metricsPort, tenant, 'router');
  const lemfBytes = await readBytes(svc.metricsPort, tenant, 'lemf');
  await within('cc-delivery to stop', 60_000, svc.stop());
  for (const l of lemfs) await l.stop();
  await bus.close();
  made.push(
    ...(['hi2', 'hi3', 'reports', 'lemfs', 'dlq', 'delivery-state'] as const).map((s) => topicName(tenant, s)),
    ...ids.flatMap((id) => LEMF_STREAMS.map((s) => lemfTopicName(tenant, id, s))),
  );
  return {
    lemfs: n,
    // steady state: first PDU at any LEMF to the last PDU at the last LEMF
    rate: (RECORDS - 1) / Math.max(1e-6, (last - first) / 1000),
    // including the start: service, LEMF queues, consumer groups, connections
    withStart: RECORDS / ((last - started) / 1000),
    routerBytes,
    lemfBytes,
    duplicates: lemfs.reduce((s, l) => s + l.received, 0) - RECORDS,
    routedS: routedAt ? (routedAt - started) / 1000 : Number.NaN,
    deliveredS: (last - started) / 1000,
  };
}

const results: CaseResult[] = [];
for (const n of CASES) results.push(await runCase(n));
const cleanup = await createBus({ ...infra, clientId: 'bench-deliver-cleanup' }, log);
await within('topics deleted', 60_000, (await cleanup.admin()).deleteTopics({ topics: made })).catch(() => undefined);
await cleanup.close();

console.log(
  `bench/deliver: ${fmt(RECORDS)} records of ${RECORD_BYTES} bytes on hi2+hi3, spread over 1 warrant per LEMF, ` +
    'delivered over ETSI_TCP (plain TCP, drain confirmation) to local LEMFs; ' +
    `bus reference with ${RECORD_BYTES}-byte records`,
);
const base = results.find((r) => r.lemfs === 1) ?? results[0]!;
const KiB = 1024;
printRows([
  { name: 'bus reference produce→consume', value: reference.pipelineRecordsPerSec, unit: 'records/s' },
  ...results.flatMap((r) => [
    {
      name: `${r.lemfs} LEMF(s): delivered, first→last PDU`,
      value: r.rate,
      unit: `records/s  (${(r.rate / base.rate).toFixed(2)} x 1 LEMF)`,
      reference: reference.pipelineRecordsPerSec,
    },
    {
      name: `${r.lemfs} LEMF(s): delivered, incl. start`,
      value: r.withStart,
      unit: `records/s  (start → all routed ${Number.isNaN(r.routedS) ? 'not seen before the end' : `${fmt(r.routedS, 1)} s`}, → all delivered ${fmt(r.deliveredS, 1)} s)`,
    },
    {
      name: `${r.lemfs} LEMF(s): bytes read, router + LEMF queues`,
      value: (r.routerBytes + r.lemfBytes) / KiB,
      unit: `KiB (router ${fmt(r.routerBytes / KiB)} + LEMF queues ${fmt(r.lemfBytes / KiB)})`,
    },
    {
      name: `${r.lemfs} LEMF(s): one group per LEMF over the stream`,
      value: (r.lemfs * r.routerBytes) / KiB,
      unit: 'KiB (computed: N x the stream the router read)',
    },
  ]),
]);
const fifty = results.find((r) => r.lemfs === 50);
if (fifty && base.lemfs === 1)
  console.log(
    `goal: 50 LEMFs within 20 % of 1 LEMF: ${(fifty.rate / base.rate).toFixed(2)} x → ${fifty.rate >= 0.8 * base.rate ? 'met' : 'NOT met'}`,
  );
const dup = results.filter((r) => r.duplicates !== 0);
if (dup.length > 0) console.log(`duplicates: ${dup.map((r) => `${r.lemfs} LEMFs: ${r.duplicates}`).join(', ')}`);
process.exit(0);
