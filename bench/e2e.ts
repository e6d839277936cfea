// bench/e2e: the whole data path, events published to li.<t>.events → target-match →
// iri-encoder → cc-delivery → a LEMF over ETSI TCP, beside the raw bus reference measured in
// the same run, in three set-ups (BENCH_E2E_MODES, default all):
//  - processes: each service in its own process, started as `npm start` starts them
//    (`node services/<s>/src/main.ts`, test/chaos/processes.ts): the pipeline as deployed;
//  - processes2: the same with TWO processes each of target-match, iri-encoder and cc-delivery
//    sharing their consumer groups (issue #14); measured once both members of every group hold
//    partitions;
//  - single: every service in this process (@li/e2e/pipeline), the earlier figure.
// Per set-up:
// Three warrants on three numbers, their LIIDs chosen to fall on the three partitions of
// li.<t>.matched/hi2/hi3 (keyed by LIID), calls round-robin over the numbers: every partition,
// so every process of a scaled service, carries a third of the records.
// 1. Throughput: BENCH_EVENTS (default 20 000) SIP events of calls for a warranted number,
//    published as fast as the bus takes them; events/s from the first send until the LEMF holds
//    the last record: the measured maximum rate.
// 2. Latency at 10 %, 50 % and 90 % of that rate for BENCH_SECONDS (default 8) each: for each
//    record, its arrival at the LEMF minus the event's time of interception (in the PS-PDU
//    header, set when the event is made): p50, p99, max. Each record counts once, at its first
//    arrival (UniqueArrivals); byte-identical resends after a rebalance are reported apart.
// 3. Each stage's share of that time, from the record timestamps at each topic (CreateTime, set
//    by the producing service): publish = events − interception, target-match = matched −
//    events, iri-encoder = hi2 − matched, cc-delivery = LEMF arrival − hi2. Every event gives one
//    record per topic, so the difference of the mean times is the mean time spent in a stage.
//    For the slowest 1 % (at or above the p99), each record's own stage times, joined through
//    the hi2 record (LIID, CIN, number) and its li.event-id: which stage the tail comes from.
// BENCH_STAGE_PROFILES=<dir>: each service process writes a CPU profile (--cpu-prof) there.
// BENCH_CPU_PROFILE=<file>: the single-process set-up's throughput phase is profiled.
import { join } from 'node:path';
import { createBus, DEFAULT_PARTITIONS, HEADERS, type OutputRecord, partitionOfKey, topicName } from '@li/bus';
import { LemfReceiver, type ReceivedRecord } from '@li/e2e/lemf';
import { addEtsiLemf, addWarrant, type Provisioning, startPipeline } from '@li/e2e/pipeline';
import { ProcessPipeline } from '@li/e2e/processes';
import { createLogger } from '@li/log';
import type { NormalizedEvent } from '@li/schemas';
import { sampleEvent } from '@li/schemas/testing';
import { adminClient, testInfra } from '@li/testing';
import { AssignerProtocol, type KafkaMessage } from 'kafkajs';
import { measureBusReference } from './lib/bus-reference.ts';
import { benchDeadline, waitUntil, within } from './lib/deadline.ts';
import { type CpuByGroup, cpuBetween, sampleCpu } from './lib/process-cpu.ts';
import { profilePhase } from './lib/profile.ts';
import { fmt, printMachine, printRows } from './lib/report.ts';
import { topicTimestamps } from './lib/topic-times.ts';

type Mode = 'processes' | 'processes2' | 'single';
const MODES = (process.env.BENCH_E2E_MODES ?? 'processes,processes2,single').split(',') as Mode[];
const EVENTS = Number(process.env.BENCH_EVENTS ?? 20_000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const LEVELS = [10, 50, 90];
const waitS = Number(process.env.BENCH_WAIT_S ?? 180);
const infra = testInfra();
const { brokers } = infra;
const TARGETS = ['+390612345678', '+390612345679', '+390612345680'];
const SCALED = ['target-match', 'iri-encoder', 'cc-delivery'] as const;

/** LIIDs for TARGETS, the i-th on partition i % n of the LIID-keyed topics (murmur2, as the bus's producers). */
function liidsOverPartitions(): string[] {
  const n = DEFAULT_PARTITIONS.matched;
  const out: string[] = [];
  for (let i = 0; out.length < TARGETS.length; i++) {
    const liid = `BENCH${i}`;
    if (partitionOfKey(liid, n) === out.length % n) out.push(liid);
  }
  return out;
}
const LIIDS = liidsOverPartitions();

/** Per scaled service, the most members holding partitions in any of its groups for `tenant`. */
async function workingMembers(tenant: string): Promise<Record<(typeof SCALED)[number], number>> {
  const admin = await adminClient('bench-e2e-groups');
  try {
    const { groups } = await admin.listGroups();
    const out = { 'target-match': 0, 'iri-encoder': 0, 'cc-delivery': 0 };
    const ids = groups.map((g) => g.groupId).filter((g) => g.includes(tenant));
    for (const g of ids.length > 0 ? (await admin.describeGroups(ids)).groups : []) {
      const service = SCALED.find((s) => g.groupId.startsWith(`li.${s}.`));
      if (!service) continue;
      const working = g.members.filter((m) =>
        Object.values(AssignerProtocol.MemberAssignment.decode(m.memberAssignment)?.assignment ?? {}).some(
          (parts) => parts.length > 0,
        ),
      ).length;
      out[service] = Math.max(out[service], working);
    }
    return out;
  } finally {
    await admin.disconnect();
  }
}
const STAGES = ['publish', 'target-match', 'iri-encoder', 'cc-delivery'] as const;

benchDeadline('bench/e2e', 1800);
printMachine();
const referenceCpuFrom = sampleCpu();
const reference = await measureBusReference({ brokers, recordBytes: 512 });
/** CPU of the reference's client ('bench', its child process included) and of the broker. */
const referenceCpu = cpuBetween(referenceCpuFrom, sampleCpu());
const bus = await createBus({ ...infra, clientId: 'bench-e2e' }, createLogger({ service: 'bench', level: 'error' }));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

/**
 * The LEMF's records, each (LIID, CIN, HI2/HI3 stream, seq) once, at its first arrival. cc-delivery
 * resends byte-identical records it had not committed when its group rebalances: counted as
 * arrivals, they would end a wait before every record came and put a resend's latency in a row.
 */
class UniqueArrivals {
  readonly firsts: ReceivedRecord[] = [];
  /** Arrivals of a (LIID, CIN, stream, seq) already seen. */
  repeats = 0;
  readonly #keys = new Set<string>();
  #read = 0;
  readonly #lemf: LemfReceiver;
  constructor(lemf: LemfReceiver) {
    this.#lemf = lemf;
  }

  /** Takes in what arrived since the last call; the unique records so far. */
  count(): number {
    const all = this.#lemf.records;
    for (; this.#read < all.length; this.#read++) {
      const r = all[this.#read]!;
      // HI1 notifications go on HI2 with numbers of their own
      const key = `${r.liid}/${r.cin}/${r.type.startsWith('HI1') ? 'HI1' : r.handover}/${r.seq}`;
      if (this.#keys.has(key)) this.repeats++;
      else {
        this.#keys.add(key);
        this.firsts.push(r);
      }
    }
    return this.firsts.length;
  }
}

interface Level {
  pct: number;
  rate: number;
  records: number;
  /** Resends that arrived during the window (not in its latencies). */
  repeats: number;
  p50: number;
  p99: number;
  max: number;
  /** Mean ms per stage, or why there is none. */
  stages: Record<(typeof STAGES)[number], number> | string;
  /** Mean ms per stage of the records at or above the p99, or why there is none. */
  slowest: Record<string, number> | string;
}

async function runMode(mode: Mode): Promise<{
  eventsPerSec: number;
  seconds: number;
  repeats: number;
  levels: Level[];
  seqOk: string;
  /** CPU seconds per process group in the throughput phase. */
  cpu: CpuByGroup;
  replicas: number;
}> {
  const tenant = `bench-e2e-${mode === 'processes2' ? 'q' : mode[0]}${Date.now().toString(36)}`;
  const replicas = mode === 'processes2' ? 2 : 1;
  const lemf = await new LemfReceiver({ name: 'bench LEMF' }).start();
  const logLevel = process.env.BENCH_LOG_LEVEL ?? 'error';
  const profiles = process.env.BENCH_STAGE_PROFILES;
  const pipeline: Provisioning & { stop(): Promise<void> } =
    mode === 'single'
      ? await within('the pipeline to start', 180_000, startPipeline({ tenant, env: { LI_LOG_LEVEL: logLevel } }))
      : await within(
          'the service processes to start',
          300_000,
          ProcessPipeline.start({
            tenant,
            run: tenant,
            services: ['target-match', 'iri-encoder', 'cc-delivery'],
            replicas: Object.fromEntries(SCALED.map((s) => [s, replicas])),
            env: Object.fromEntries(
              (['admf', 'target-match', 'iri-encoder', 'cc-delivery'] as const).map((s) => [
                s,
                {
                  LI_LOG_LEVEL: logLevel,
                  ...(profiles ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${join(profiles, s)}` } : {}),
                },
              ]),
            ),
          }),
        );
  await addEtsiLemf(pipeline, 'lemf-bench', lemf);
  for (const [i, liid] of LIIDS.entries()) {
    await addWarrant(pipeline, {
      liid,
      kind: 'VOICE',
      target: { type: 'E164', value: TARGETS[i]! },
      lemfIds: ['lemf-bench'],
    });
  }
  const eventsTopic = topicName(tenant, 'events');
  const codec = await bus.codec<NormalizedEvent>(eventsTopic, 'NormalizedEvent');
  let n = 0;
  const event = async (): Promise<OutputRecord> => {
    const i = n++;
    const callNo = Math.floor(i / 40);
    const call = `call-${callNo}@bench.example`;
    const target = TARGETS[callNo % TARGETS.length]!;
    const e = sampleEvent({
      tenant,
      eventId: `e${i}`,
      occurredAtMicros: Date.now() * 1000,
      communicationId: call,
      parties: [
        { role: 'CALLER', type: 'SIP_URI', value: 'sip:alice@example.com' },
        { role: 'CALLEE', type: 'E164', value: target },
      ],
      action: i % 40 === 0 ? 'sip.invite' : 'sip.response',
      attributes: i % 40 === 0 ? { method: 'INVITE' } : { method: 'INVITE', status: '180' },
    });
    return { topic: eventsTopic, key: call, value: await codec.encode(e) };
  };
  const arrivals = new UniqueArrivals(lemf);
  const arrived = (from: number, expected: number) => () => {
    const got = arrivals.count() - from;
    return got >= expected || `${got} of ${expected} records at the LEMF (${arrivals.repeats} repeats)`;
  };

  // Warm-up: the warrants reach target-match, the LEMF connects, topics and schemas exist.
  // One call per number every 5 s until a record of each LIID arrives (early ones may precede
  // the warrants).
  {
    const before = lemf.records.length;
    let sentAt = 0;
    let sent = 0;
    await waitUntil(
      `a warm-up event of each of ${LIIDS.length} LIIDs to reach the LEMF`,
      async () => {
        const seen = new Set(lemf.records.slice(before).map((r) => r.liid));
        if (LIIDS.every((l) => seen.has(l))) return true;
        if (performance.now() - sentAt > 5000) {
          // The first event of each of the next calls, one per number.
          n = Math.ceil(n / 40) * 40;
          const batch: OutputRecord[] = [];
          for (const _ of TARGETS) {
            batch.push(await event());
            n = Math.ceil(n / 40) * 40;
          }
          await bus.send(batch);
          sentAt = performance.now();
          sent++;
        }
        return `${sent} warm-up rounds sent, LIIDs at the LEMF: ${[...seen].join(' ') || 'none'}`;
      },
      { timeoutMs: 90_000, intervalMs: 50 },
    );
    // Two processes per service: measured only once each holds partitions in every group.
    if (replicas > 1) {
      let members = {};
      await waitUntil(
        `${replicas} working members in each group of ${SCALED.join(', ')}`,
        async () => {
          const m = await workingMembers(tenant);
          members = m;
          return SCALED.every((s) => m[s] === replicas) || JSON.stringify(members);
        },
        { timeoutMs: 120_000, intervalMs: 1000 },
      );
    }
    await sleep(1000);
  }

  // 1. Throughput.
  const start = arrivals.count();
  const repeatsBefore = arrivals.repeats;
  const profile = mode === 'single' ? await profilePhase() : { stop: async () => {} };
  const cpuFrom = sampleCpu();
  const t0 = performance.now();
  for (let sent = 0; sent < EVENTS; sent += 500) {
    const batch: OutputRecord[] = [];
    for (let i = sent; i < Math.min(EVENTS, sent + 500); i++) batch.push(await event());
    await bus.send(batch);
  }
  await waitUntil(`${EVENTS} records at the LEMF`, arrived(start, EVENTS), {
    timeoutMs: waitS * 1000,
    intervalMs: 20,
  });
  const seconds = (performance.now() - t0) / 1000;
  const cpu = cpuBetween(cpuFrom, sampleCpu());
  await profile.stop();
  const eventsPerSec = EVENTS / seconds;
  const repeats = arrivals.repeats - repeatsBefore;

  // 2. Latency at a steady rate: 10 %, 50 %, 90 % of the maximum.
  const windows: {
    pct: number;
    rate: number;
    from: number;
    to: number;
    fromMs: number;
    toMs: number;
    repeats: number;
  }[] = [];
  for (const pct of LEVELS) {
    const rate = Math.max(10, Math.round((eventsPerSec * pct) / 100));
    const from = arrivals.count();
    const repeatsFrom = arrivals.repeats;
    const fromMs = Date.now();
    const total = Math.round(rate * SECONDS);
    const t1 = performance.now();
    for (let sent = 0; sent < total; ) {
      // Every 20 ms, what is due by then: the rate holds even when a send takes a while.
      const due = Math.min(total, Math.round(((performance.now() - t1) / 1000) * rate) + Math.ceil(rate / 50));
      const batch: OutputRecord[] = [];
      while (sent < due) {
        batch.push(await event());
        sent++;
      }
      if (batch.length > 0) await bus.send(batch);
      await sleep(20);
    }
    await waitUntil(`${total} records at ${pct} % of the maximum rate at the LEMF`, arrived(from, total), {
      timeoutMs: waitS * 1000,
      intervalMs: 20,
    });
    windows.push({
      pct,
      rate,
      from,
      to: from + total,
      fromMs,
      toMs: Date.now(),
      repeats: arrivals.repeats - repeatsFrom,
    });
    await sleep(500);
  }

  // 3. Stage shares from the record timestamps of each topic; per record for the slowest 1 %
  // (an LEMF record → its hi2 record by LIID, CIN and number → its event by li.event-id).
  const header = (m: KafkaMessage, name: string) => m.headers?.[name]?.toString();
  const hiEvent = new Map<string, string>();
  const [ev, ma, hi] = await Promise.all([
    topicTimestamps(bus.kafka, eventsTopic, async (m) => (await codec.decode(m.value)).eventId),
    topicTimestamps(bus.kafka, topicName(tenant, 'matched'), (m) => header(m, HEADERS.eventId)),
    topicTimestamps(bus.kafka, topicName(tenant, 'hi2'), (m) => {
      if (header(m, HEADERS.kind) === 'HI1') return undefined;
      const k = `${header(m, HEADERS.liid)}/${header(m, HEADERS.cin)}/${header(m, HEADERS.seq)}`;
      hiEvent.set(k, header(m, HEADERS.eventId) ?? '');
      return k;
    }),
  ]);
  /** A record's time per stage, when every topic has its step. */
  const stagesOf = (r: ReceivedRecord): number[] | undefined => {
    const k = `${r.liid}/${r.cin}/${r.seq}`;
    const eventId = hiEvent.get(k);
    const [e, m, h] = [ev.byKey.get(eventId ?? ''), ma.byKey.get(eventId ?? ''), hi.byKey.get(k)];
    if (e === undefined || m === undefined || h === undefined || r.timeMicros === null) return undefined;
    return [e - r.timeMicros / 1000, m - e, h - m, r.receivedAtMs - h];
  };
  const levels = windows.map((w): Level => {
    const recs = arrivals.firsts.slice(w.from, w.to).filter((r) => r.timeMicros !== null);
    const latencyOf = (r: ReceivedRecord) => r.receivedAtMs - r.timeMicros! / 1000;
    const lat = recs.map(latencyOf).sort((a, b) => a - b);
    const pct = (p: number) => lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))] ?? NaN;
    const inWindow = (ts: number[]) => ts.filter((t) => t >= w.fromMs && t <= w.toMs);
    const evW = inWindow(ev.times);
    const maW = inWindow(ma.times);
    const hiW = inWindow(hi.times);
    const expected = w.to - w.from;
    const stages =
      evW.length === expected && maW.length === expected && hiW.length === expected && recs.length === expected
        ? {
            publish: mean(evW) - mean(recs.map((r) => r.timeMicros! / 1000)),
            'target-match': mean(maW) - mean(evW),
            'iri-encoder': mean(hiW) - mean(maW),
            'cc-delivery': mean(recs.map((r) => r.receivedAtMs)) - mean(hiW),
          }
        : `no stage shares: records in the window: events ${evW.length}, matched ${maW.length}, hi2 ${hiW.length}, LEMF ${recs.length} of ${expected}`;
    const tail = recs.filter((r) => latencyOf(r) >= pct(99)).map(stagesOf);
    const joined = tail.filter((t): t is number[] => t !== undefined);
    const slowest =
      joined.length === 0
        ? `no stage times for the slowest 1 % (${tail.length} records; none found in every topic)`
        : Object.fromEntries(STAGES.map((s, i) => [s, mean(joined.map((t) => t[i]!))]));
    return {
      pct: w.pct,
      rate: w.rate,
      records: lat.length,
      repeats: w.repeats,
      p50: pct(50),
      p99: pct(99),
      max: lat.at(-1) ?? NaN,
      stages,
      slowest,
    };
  });

  // Numbered 0..n per (LIID, CIN) without gap; a number seen again must be a byte-identical
  // resend (cc-delivery resends what it had not committed when its group rebalances, e.g. as
  // the second process joins during the warm-up), counted apart.
  const sent = new Map<string, Map<number, Buffer>>();
  let seqOk = true;
  let resends = 0;
  for (const r of lemf.records) {
    if (!LIIDS.includes(r.liid) || r.type.startsWith('HI1')) continue;
    const k = `${r.liid}/${r.cin}/${r.handover}`;
    const seen = sent.get(k) ?? new Map<number, Buffer>();
    sent.set(k, seen);
    const before = seen.get(r.seq);
    if (before) {
      resends++;
      seqOk &&= before.equals(r.bytes);
      continue;
    }
    seqOk &&= r.seq === seen.size;
    seen.set(r.seq, r.bytes);
  }
  await pipeline.stop();
  await lemf.stop();
  return {
    eventsPerSec,
    seconds,
    repeats,
    levels,
    seqOk: `${seqOk} (${sent.size} communications, ${resends} byte-identical resends)`,
    cpu,
    replicas,
  };
}

const results: [Mode, Awaited<ReturnType<typeof runMode>>][] = [];
for (const mode of MODES) results.push([mode, await runMode(mode)]);
await bus.close();

const TITLE: Record<Mode, string> = {
  processes: 'each service in its own process (as deployed)',
  processes2: 'two processes each of target-match, iri-encoder, cc-delivery (one admf)',
  single: 'every service in one process',
};
console.log(`\nbench/e2e: ${fmt(EVENTS)} events for the throughput, each event gives one IRI record`);
printRows([
  { name: 'bus reference produce→consume (512 B)', value: reference.pipelineRecordsPerSec, unit: 'records/s' },
  ...results.map(([mode, r]) => ({
    name: `end to end, event → LEMF, ${mode}`,
    value: r.eventsPerSec,
    unit: 'events/s ',
    reference: reference.pipelineRecordsPerSec,
  })),
]);
// Side by side: one column per set-up, the reference's figure beside the throughput.
{
  const cell = 22;
  const row = (label: string, cells: string[]) =>
    console.log(`${label.padEnd(28)}${cells.map((c) => c.padStart(cell)).join('')}`);
  console.log(`\nside by side (bus reference ${fmt(reference.pipelineRecordsPerSec)} records/s):`);
  row(
    '',
    results.map(([mode]) => mode),
  );
  row(
    'events/s (x reference)',
    results.map(
      ([, r]) => `${fmt(r.eventsPerSec)} (${(r.eventsPerSec / reference.pipelineRecordsPerSec).toFixed(2)} x)`,
    ),
  );
  for (const [i, pct] of LEVELS.entries()) {
    row(
      `p50 / p99 ms at ${pct} % of max`,
      results.map(([, r]) => {
        const l = r.levels[i]!;
        return `${l.p50.toFixed(1)} / ${l.p99.toFixed(1)}`;
      }),
    );
  }
}
for (const [mode, r] of results) {
  console.log(
    `\n${mode}: ${TITLE[mode]}; ${fmt(EVENTS)} events in ${r.seconds.toFixed(2)} s (${fmt(r.repeats)} repeats at the LEMF meanwhile, not counted)`,
  );
  for (const l of r.levels) {
    const stages =
      typeof l.stages === 'string'
        ? l.stages
        : (() => {
            const sum = STAGES.reduce((a, s) => a + (l.stages as Record<string, number>)[s]!, 0);
            return `stages (mean ms, share): ${STAGES.map((s) => {
              const v = (l.stages as Record<string, number>)[s]!;
              return `${s} ${v.toFixed(1)} (${((100 * v) / sum).toFixed(0)} %)`;
            }).join(', ')}`;
          })();
    console.log(
      `  ${String(l.pct).padStart(2)} % of max, ${fmt(l.rate)} events/s for ${SECONDS} s (${fmt(l.records)} records, ${fmt(l.repeats)} repeats not counted): p50 ${l.p50.toFixed(1)} ms, p99 ${l.p99.toFixed(1)} ms, max ${l.max.toFixed(1)} ms`,
    );
    console.log(`      ${stages}`);
    const slowest =
      typeof l.slowest === 'string'
        ? l.slowest
        : `slowest 1 % (mean ms): ${STAGES.map((s) => `${s} ${(l.slowest as Record<string, number>)[s]!.toFixed(1)}`).join(', ')}`;
    console.log(`      ${slowest}`);
  }
  console.log(`  sequence numbers 0..n per LIID/CIN without gap at the LEMF: ${r.seqOk}`);
}
printCpu();
process.exit(0);

/**
 * CPU per 1 000 events of each process group in the throughput phase, beside the reference's per
 * 1 000 records, and what that CPU allows with a core per process (as deployed, the broker on
 * machines of its own): the costliest stage, its replicas each on a core, bounds the pipeline.
 * An estimate from measured CPU, not a measured rate: it leaves out waits (transaction round
 * trips) that a core of its own does not remove.
 */
function printCpu(): void {
  const per1000 = (seconds: number, n: number) => (seconds * 1e6) / n;
  const refClient = referenceCpu.get('bench') ?? 0;
  console.log('\nCPU ms per 1 000 events, throughput phase (/proc; bench = load generator and LEMF):');
  console.log(
    `  reference: client ${per1000(refClient, reference.records).toFixed(0)} ms, broker ${per1000(referenceCpu.get('broker') ?? 0, reference.records).toFixed(0)} ms per 1 000 records`,
  );
  for (const [mode, r] of results) {
    const groups = [...r.cpu].filter(([, s]) => s > 0).sort(([a], [b]) => a.localeCompare(b));
    const total = groups.reduce((a, [, s]) => a + s, 0);
    console.log(
      `  ${mode}: ${groups.map(([g, s]) => `${g} ${per1000(s, EVENTS).toFixed(0)}`).join(', ')}; all ${per1000(total, EVENTS).toFixed(0)}`,
    );
    if (mode === 'single' || refClient === 0) continue;
    const stages = SCALED.map((s) => ({ s, perCore: (r.replicas * EVENTS) / (r.cpu.get(s) ?? Number.NaN) }));
    const slowest = stages.reduce((a, b) => (b.perCore < a.perCore ? b : a));
    const refPerCore = reference.records / refClient;
    console.log(
      `    a core per process: ${stages.map(({ s, perCore }) => `${s} ${fmt(perCore)}`).join(', ')} events/s; bound by ${slowest.s}: ${(slowest.perCore / refPerCore).toFixed(2)} x the reference's ${fmt(refPerCore)} records per client CPU second (estimate)`,
    );
  }
}
