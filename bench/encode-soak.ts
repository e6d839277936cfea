// bench/encode-soak: BENCH_N (default 1 000 000) short SIP communications (INVITE -> IRI-BEGIN,
// 200 to BYE -> IRI-END) through the iri-encoder's batch path without Kafka (testing
// batchEncoder: encodeBatch, expiry sweeps, state records applied as after a commit), 100
// communications per second of event time over 10 LIIDs, in batches of 500 events. 1% never end
// (idle expiry), 1 in 20 reuses the id of a communication that expired (it must get a new CIN).
// Prints resident memory, heap after GC, the encoder's live state keys in memory and the live
// keys of li.<t>.encoder-state (what compaction keeps of the state records written: last value
// per key, tombstones delete) every BENCH_N/20 communications, with the elapsed time: with expiry both stay flat once the idle window (300 s: 30 000 communications) is full. Exit 1 when the
// state grows or a reused id repeats a CIN. BENCH_NO_EXPIRY=1 shows the unbounded growth.
// Usage: node --expose-gc encode-soak.ts
import { batchEncoder } from '@li/iri-encoder/testing';
import type { MatchedEvent } from '@li/schemas';
import { sampleEvent, sampleMatched } from '@li/schemas/testing';
import { benchDeadline } from './lib/deadline.ts';
import { fmt, printMachine } from './lib/report.ts';

const N = Number(process.env.BENCH_N ?? 1_000_000);
const NO_EXPIRY = process.env.BENCH_NO_EXPIRY === '1';
const LIIDS = 10;
const BATCH_EVENTS = 500;
const STEP_MICROS = 10_000; // 100 new communications per second of event time
/** Communications open at once: each one's END comes this many communications after its BEGIN. */
const OVERLAP = 200;
const ENDED_RETENTION_S = 60;
const IDLE_S = 300; // the service's default is 3600: shorter, so idle expiry happens within the run
const T0 = 1_795_300_000_000_000;

benchDeadline('bench/encode-soak', 600);
printMachine();

const policy = NO_EXPIRY
  ? { endedRetentionMicros: Number.POSITIVE_INFINITY, idleMicros: Number.POSITIVE_INFINITY }
  : { endedRetentionMicros: ENDED_RETENTION_S * 1e6, idleMicros: IDLE_S * 1e6 };
const enc = batchEncoder(
  'soak',
  { operatorIdentifier: 'ACME', timestampFormat: 'BOTH', ts101671Countries: ['IT'], maxSegment: 64_000 },
  policy,
);

const liidOf = (i: number) => `SOAK${String(i % LIIDS).padStart(4, '0')}`;
// Reuse: communication i takes the id of communication i - REUSE_BACK of the same LIID, whose
// state expired by then (retention plus 30 s of event time later).
const REUSE_BACK = (ENDED_RETENTION_S + 30) * (1e6 / STEP_MICROS);
const idOf = (i: number): string =>
  !NO_EXPIRY && i % 20 === 0 && i >= REUSE_BACK ? idOf(i - REUSE_BACK) : `call-${i}@soak`;

const template = sampleEvent({ source: 'sip', protocol: 'SIP' });
const event = (i: number, at: number, action: string, attributes: Record<string, string>): MatchedEvent =>
  sampleMatched({
    liid: liidOf(i),
    tenant: 'soak',
    authorisationCountry: 'DE',
    matchedRoles: ['CALLER'],
    matchedParties: template.parties.filter((p) => p.role === 'CALLER'),
    event: {
      ...template,
      tenant: 'soak',
      eventId: `e${i}-${action}`,
      communicationId: idOf(i),
      action,
      attributes,
      occurredAtMicros: at,
    },
  });

const gc = (globalThis as { gc?: () => void }).gc;
const mib = (n: number) => fmt(n / 2 ** 20, 1);
const started = performance.now();
const rows: { comms: number; rss: number; heap: number; live: number; topic: number }[] = [];
let tombstones = 0;
/** Keys of the changelog that compaction keeps: the records written, replayed as the topic would. */
const topicLive = new Set<string>();
let iris = 0;
let badCin = 0;
const maxCin = new Map<string, number>();

function run(events: MatchedEvent[]): void {
  const r = enc.encode(events);
  const [rejected] = r.rejected ?? [];
  if (rejected) throw new Error(`rejected: ${rejected.code} ${rejected.reason}`);
  for (const o of r.outputs) {
    if (o.topic === 'li.soak.encoder-state' && o.key !== null) {
      if (o.value === null) {
        tombstones++;
        topicLive.delete(o.key);
      } else topicLive.add(o.key);
    }
    const h = o.headers;
    if (h?.['li.kind'] !== 'IRI' || h['li.format'] !== 'TS102232') continue;
    iris++;
    // CINs only go up (no wrap below 10^8 here): a BEGIN on an old CIN would repeat its numbers.
    const cin = Number(h['li.cin']);
    if (h['li.iri-type'] === 'BEGIN') {
      if (cin <= (maxCin.get(h['li.liid']!) ?? 0) || h['li.seq'] !== '0') badCin++;
      maxCin.set(h['li.liid']!, cin);
    }
  }
}

function report(comms: number): void {
  gc?.();
  const row = {
    comms,
    rss: process.memoryUsage().rss,
    heap: process.memoryUsage().heapUsed,
    live: enc.liveEntries(),
    topic: topicLive.size,
  };
  rows.push(row);
  const eventMinutes = (comms * STEP_MICROS) / 60e6;
  console.log(
    `${fmt(comms).padStart(10)} communications (${fmt(eventMinutes, 0).padStart(3)} min of event time)  rss ${mib(row.rss).padStart(7)} MiB  heap ${mib(row.heap).padStart(7)} MiB  live state keys ${fmt(row.live).padStart(8)}  state-topic live keys ${fmt(row.topic).padStart(8)}  tombstones ${fmt(tombstones).padStart(9)}  ${fmt((performance.now() - started) / 1000, 1)} s`,
  );
}

console.log(
  `encode-soak: ${fmt(N)} communications, ${NO_EXPIRY ? 'NO EXPIRY' : `ended retention ${ENDED_RETENTION_S} s, idle ${IDLE_S} s`}, gc ${gc ? 'on' : 'off (run with --expose-gc)'}`,
);
let batch: MatchedEvent[] = [];
const every = Math.max(1, Math.floor(N / 20));
for (let i = 0; i < N + OVERLAP; i++) {
  const at = T0 + i * STEP_MICROS;
  if (i < N) batch.push(event(i, at, 'sip.invite', { method: 'INVITE' }));
  const j = i - OVERLAP; // communication j ends now; 1% never do
  if (j >= 0 && j % 100 !== 7) batch.push(event(j, at + 1, 'sip.response', { method: 'BYE', status: '200' }));
  if (batch.length >= BATCH_EVENTS) {
    run(batch);
    batch = [];
  }
  if (j >= 0 && (j + 1) % every === 0) report(j + 1);
}
if (batch.length > 0) run(batch);

const secs = (performance.now() - started) / 1000;
console.log(`${fmt(iris)} IRIs in ${fmt(secs, 1)} s (${fmt(iris / secs)} IRIs/s)`);
// Flat: once the idle window is full (from then on as many expire as start), the state does not grow.
const full = (IDLE_S * 1e6) / STEP_MICROS + OVERLAP;
const base = rows.find((r) => r.comms >= full);
const last = rows[rows.length - 1]!;
const grew =
  base !== undefined && (last.live > base.live * 1.1 || last.topic > base.topic * 1.1 || last.rss > base.rss * 1.25);
console.log(
  base
    ? `check: live state keys ${fmt(base.live)} at ${fmt(base.comms)} -> ${fmt(last.live)} at ${fmt(last.comms)}, state-topic live keys ${fmt(base.topic)} -> ${fmt(last.topic)} (${grew ? 'GROWS' : 'flat'}), rss ${mib(base.rss)} -> ${mib(last.rss)} MiB, reused ids on an old CIN: ${badCin}`
    : `check: run too short to fill the idle window (${fmt(full)} communications); reused ids on an old CIN: ${badCin}`,
);
if (badCin > 0 || (grew && !NO_EXPIRY)) process.exit(1);
