// bench/deliver: records/s that cc-delivery moves from li.<t>.hi2 / li.<t>.hi3 to a local LEMF
// over ETSI_TCP (plain TCP), beside the raw bus reference of the same run (same record size).
// BENCH_RECORDS (default 100 000) records of 200 bytes are produced before the LEMF exists; then
// the LEMF destination is published and the time until the LEMF holds every record is measured:
// once with confirmation by socket drain, once with one TS 102 232-1 PDU acknowledgement per PDU.
import { createBus, type OutputRecord, topicName } from '@li/bus';
import { ccDeliveryService } from '@li/cc-delivery/service';
import { LemfHarness } from '@li/cc-delivery/testing';
import { createLogger } from '@li/log';
import { startService } from '@li/runtime';
import type { LemfDestination } from '@li/schemas';
import { sampleLemf } from '@li/schemas/testing';
import { serviceEnv, testInfra } from '@li/testing';
import { measureBusReference } from './lib/bus-reference.ts';
import { benchDeadline, waitUntil, within } from './lib/deadline.ts';
import { fmt, printMachine, printRows } from './lib/report.ts';

const RECORDS = Number(process.env.BENCH_RECORDS ?? 100_000);
const RECORD_BYTES = 200;
const infra = testInfra();
const { brokers } = infra;
const tenant = `bench-dlv-${Date.now().toString(36)}`;

benchDeadline('bench/deliver', 1500);
printMachine();
const reference = await measureBusReference({ brokers, recordBytes: RECORD_BYTES });

const log = createLogger({ service: 'bench', level: 'error' });
const bus = await createBus({ ...infra, clientId: 'bench-deliver' }, log);
await bus.ensureTopics(tenant, ['hi2', 'hi3', 'reports', 'lemfs', 'dlq', 'delivery-state']);

/** A 200-byte BER SEQUENCE (tag, 2 length bytes, 197 content bytes) the LEMF's framing splits. */
function pdu(i: number): Buffer {
  const b = Buffer.alloc(RECORD_BYTES);
  b[0] = 0x30;
  b[1] = 0x81;
  b[2] = RECORD_BYTES - 3;
  b.writeUInt32BE(i, 3);
  return b;
}

// Pre-produce: half IRI on hi2, half CC on hi3, each addressed to both benchmark LEMFs.
const t0 = performance.now();
for (let sent = 0; sent < RECORDS; sent += 1000) {
  const batch: OutputRecord[] = [];
  for (let i = sent; i < Math.min(RECORDS, sent + 1000); i++) {
    const liid = `LIIDBENCH${i % 16}`;
    batch.push({
      topic: topicName(tenant, i % 2 === 0 ? 'hi2' : 'hi3'),
      key: liid,
      value: pdu(i),
      headers: { 'li.liid': liid, 'li.cin': '1', 'li.seq': String(i), 'li.lemfs': 'plain,acked' },
    });
  }
  await bus.send(batch);
}
const produceSec = (performance.now() - t0) / 1000;

const svc = await within(
  'the cc-delivery service to start',
  120_000,
  startService(
    ccDeliveryService,
    await serviceEnv('cc-delivery', [tenant], { LI_TENANTS: tenant, LI_OPERATOR_IDENTIFIER: 'BENCH' }),
  ),
);
const lemfTopic = topicName(tenant, 'lemfs');
const lemfCodec = await bus.codec<LemfDestination>(lemfTopic, 'LemfDestination');

/** Publishes one LEMF and waits until its harness holds every record. */
async function deliver(id: string, acknowledged: boolean) {
  const lemf = await new LemfHarness({ countOnly: true, ackEach: acknowledged }).start();
  const dest = sampleLemf({
    allowInsecure: true,
    tenant,
    id,
    address: { host: '127.0.0.1', port: lemf.port },
    ccAddress: null, // HI2 and HI3 connections to the same receiver
    keepaliveSeconds: 0,
    acknowledged,
  });
  const started = performance.now();
  await bus.send([{ topic: lemfTopic, key: id, value: await lemfCodec.encode(dest) }]);
  await waitUntil(
    `LEMF ${id} to receive ${RECORDS} records`,
    () => lemf.received >= RECORDS || `${lemf.received} records received`,
    { timeoutMs: Number(process.env.BENCH_WAIT_S ?? 600) * 1000, intervalMs: 20 },
  );
  await lemf.stop();
  return {
    // steady state: first to last PDU at the LEMF
    rate: (RECORDS - 1) / Math.max(1e-6, (lemf.lastAt - lemf.firstAt) / 1000),
    // including the LEMF's start: config applied, connections opened, consumer group joined
    withStart: RECORDS / ((lemf.lastAt - started) / 1000),
    startMs: lemf.firstAt - started,
    duplicates: lemf.received - RECORDS,
  };
}

const plain = await deliver('plain', false);
const acked = await deliver('acked', true);
await svc.stop();
const admin = await bus.admin();
await admin
  .deleteTopics({
    topics: (['hi2', 'hi3', 'reports', 'lemfs', 'dlq', 'delivery-state'] as const).map((s) => topicName(tenant, s)),
  })
  .catch(() => undefined);
await bus.close();

console.log(
  `bench/deliver: ${fmt(RECORDS)} records of ${RECORD_BYTES} bytes pre-produced to ${tenant} hi2+hi3 ` +
    `(${fmt(RECORDS / produceSec)} records/s produced), delivered over ETSI_TCP to a local LEMF; ` +
    `bus reference with ${RECORD_BYTES}-byte records`,
);
printRows([
  { name: 'bus reference produce→consume', value: reference.pipelineRecordsPerSec, unit: 'records/s' },
  { name: 'bus reference consume', value: reference.consumeRecordsPerSec, unit: 'records/s' },
  {
    name: 'delivered, plain TCP (drain), first→last PDU',
    value: plain.rate,
    unit: 'records/s',
    reference: reference.pipelineRecordsPerSec,
  },
  { name: 'delivered, plain TCP, incl. LEMF start', value: plain.withStart, unit: 'records/s' },
  {
    name: 'delivered, PDU acknowledgement, first→last PDU',
    value: acked.rate,
    unit: 'records/s',
    reference: reference.pipelineRecordsPerSec,
  },
  { name: 'delivered, PDU ack, incl. LEMF start', value: acked.withStart, unit: 'records/s' },
  { name: 'LEMF start to first PDU (plain / ack)', value: plain.startMs, unit: `ms / ${fmt(acked.startMs)} ms` },
]);
if (plain.duplicates || acked.duplicates) console.log(`duplicates: plain ${plain.duplicates}, ack ${acked.duplicates}`);
process.exit(0);
