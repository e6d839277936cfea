// Live replicas (issue #14): the traffic streams have 3 partitions and target-match, iri-encoder
// and cc-delivery each run as TWO processes sharing their consumer groups (plus one admf, ingest
// and mcid-store), on the shared local broker with a fresh tenant. Mail traffic for several
// targets (their LIIDs chosen to cover every partition) flows while one process of each of the
// three is SIGKILLed mid-stream and started again, one after the other.
//
// Checked at the LEMF (lemf-check.ts): every event the mail server had handed over has all its
// records, each exactly once (no event encoded twice under new numbers); every (LIID, CIN,
// HI2/HI3) is numbered 0..n with no gap; and no sequence number is ever used for two different
// records (the encoder's counters went over to the surviving instance intact). On li.<t>.hi2 and
// li.<t>.hi3 every number is written exactly once. The only repeats allowed at the LEMF are
// byte-identical resends by cc-delivery: records sent but not yet committed go out again from
// the partition's next owner, after its kill and at each rebalance of its group (TS 102 232-1
// cl. 6.3.3 lets the LEMF drop them by sequence number): counted and printed.
//
// Then every warrant is deactivated: each session still open gets its IRI-END, also for the
// LIIDs whose communications the instance reading the deactivation does not own (it hands the
// ends to the owner through li.<t>.matched), still numbered without gap or reuse.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createBus, partitionOfKey, readTopic, topicName } from '@li/bus';
import type { MatchedEvent } from '@li/schemas';
import { adminClient, memoryLogger, testInfra, uniqueTenant, waitFor } from '@li/testing';
import { AssignerProtocol } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkSequences } from '../demo/report.ts';
import { LemfReceiver, type ReceivedRecord } from '../pipeline/lemf.ts';
import { addEtsiLemf, addWarrant, endWarrant } from '../pipeline/pipeline.ts';
import { checkLemf, describeVerdict, type ExpectedRecords, type Identify, waitCaughtUp } from './lemf-check.ts';
import { backlogLine } from './mail-scenario.ts';
import { MailTraffic } from './mail-traffic.ts';
import { type PipelineService, ProcessPipeline } from './processes.ts';
import { FULL, faultSeconds, recordRecovery } from './scenario.ts';

const PARTITIONS = 3;
const SCALED = ['target-match', 'iri-encoder', 'cc-delivery'] as const;
const LAYOUT = `events=${PARTITIONS},matched=${PARTITIONS},hi2=${PARTITIONS},hi3=${PARTITIONS},reports=${PARTITIONS}`;
const DOWN_S = faultSeconds(10, 2);
/** Targets, LIIDs spread so that every partition carries some. */
const TARGETS = FULL ? 9 : 6;
/** Traffic after the last restart, before the traffic stops. */
const TAIL_S = faultSeconds(20, 3);

const tenant = uniqueTenant('replicas');
let p: ProcessPipeline;

beforeAll(async () => {
  const env = { LI_TOPIC_PARTITIONS: LAYOUT };
  p = await ProcessPipeline.start({
    tenant,
    run: tenant,
    replicas: { 'target-match': 2, 'iri-encoder': 2, 'cc-delivery': 2 },
    env: {
      admf: env,
      'target-match': env,
      // Info: its log says when it reloaded its counters (checked below).
      'iri-encoder': { ...env, LI_LOG_LEVEL: 'info' },
      'cc-delivery': env,
      'mcid-store': env,
      ingest: env,
    },
  });
}, 300_000);
afterAll(async () => {
  await p?.stop();
}, 180_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** LIIDs, round-robin over the partitions, so both instances of each service have work. */
function liidsOverPartitions(n: number): string[] {
  const suffix = tenant.slice(-6).toUpperCase();
  const perPartition: string[][] = Array.from({ length: PARTITIONS }, () => []);
  for (let i = 0; perPartition.some((l) => l.length < Math.ceil(n / PARTITIONS)); i++) {
    const liid = `RP${i}${suffix}`;
    perPartition[partitionOfKey(liid, PARTITIONS)]!.push(liid);
  }
  return Array.from({ length: n }, (_, i) => perPartition[i % PARTITIONS]![Math.floor(i / PARTITIONS)]!);
}

/** Members of each service's groups of this tenant that hold partitions. */
async function workingMembers(): Promise<Record<(typeof SCALED)[number], number>> {
  const admin = await adminClient('li-chaos-replicas');
  try {
    const { groups } = await admin.listGroups();
    const out = { 'target-match': 0, 'iri-encoder': 0, 'cc-delivery': 0 };
    const ids = groups.map((g) => g.groupId).filter((g) => g.includes(tenant));
    const described = ids.length > 0 ? (await admin.describeGroups(ids)).groups : [];
    for (const g of described) {
      const service = SCALED.find((s) => g.groupId.startsWith(`li.${s}.`));
      if (!service) continue;
      const working = g.members.filter((m) => {
        const a = AssignerProtocol.MemberAssignment.decode(m.memberAssignment);
        return Object.values(a?.assignment ?? {}).some((parts) => parts.length > 0);
      }).length;
      out[service] = Math.max(out[service], working);
    }
    return out;
  } finally {
    await admin.disconnect();
  }
}

/**
 * What li.<t>.hi2 and li.<t>.hi3 hold (read_committed), per (LIID, CIN, handover, format, seq):
 * the numbers written more than once, and how many records. Exactly once here is the encoder's
 * and target-match's part, whatever cc-delivery resends.
 */
async function writtenTwice(): Promise<{ records: number; twice: string[] }> {
  const bus = await createBus({ ...testInfra(), clientId: 'chaos-replicas' }, memoryLogger().log);
  try {
    const seen = new Map<string, number>();
    let records = 0;
    for (const stream of ['hi2', 'hi3'] as const) {
      for (const r of await readTopic(bus.kafka, topicName(tenant, stream), { timeoutMs: 60_000 })) {
        const h = r.headers;
        const k = `${h['li.liid']}/${h['li.cin']} ${stream} ${h['li.format']} #${h['li.seq']}`;
        seen.set(k, (seen.get(k) ?? 0) + 1);
        records++;
      }
    }
    return { records, twice: [...seen].filter(([, n]) => n > 1).map(([k, n]) => `${k} x${n}`) };
  } finally {
    await bus.close();
  }
}

/** Warrant ends an encoder instance handed to the owner of the LIID on li.<t>.matched. */
async function handOvers(): Promise<number> {
  const bus = await createBus({ ...testInfra(), clientId: 'chaos-replicas' }, memoryLogger().log);
  try {
    const topic = topicName(tenant, 'matched');
    const codec = await bus.codec<MatchedEvent>(topic, 'MatchedEvent');
    let n = 0;
    for (const r of await readTopic(bus.kafka, topic, { timeoutMs: 60_000 })) {
      if ((await codec.decode(r.value)).event.action === 'li.warrant-ended') n++;
    }
    return n;
  } finally {
    await bus.close();
  }
}

/** (LIID, CIN, handover, seq) received more than once with different bytes: a number used twice. */
function reusedNumbers(records: readonly ReceivedRecord[]): string[] {
  const first = new Map<string, Buffer>();
  const reused = new Set<string>();
  for (const r of records) {
    const k = `${r.liid}/${r.cin} ${r.handover} #${r.seq}`;
    const b = first.get(k);
    if (!b) first.set(k, Buffer.from(r.bytes));
    else if (!b.equals(r.bytes)) reused.add(k);
  }
  return [...reused];
}

describe('live replicas: 3 partitions per stream, two processes of each scalable service', () => {
  it('SIGKILL of one process of each: every (LIID, CIN) numbered 0..n, every event exactly once', async () => {
    const admin = await adminClient('li-chaos-replicas');
    try {
      const meta = await admin.fetchTopicMetadata({
        topics: (['events', 'matched', 'hi2', 'hi3'] as const).map((s) => topicName(tenant, s)),
      });
      for (const t of meta.topics) expect(t.partitions.length, t.name).toBe(PARTITIONS);
    } finally {
      await admin.disconnect();
    }

    const lemf = await new LemfReceiver({ name: 'LEMF replicas' }).start();
    const liids = liidsOverPartitions(TARGETS);
    const traffics: MailTraffic[] = [];
    try {
      await addEtsiLemf(p, 'lemf-replicas', lemf);
      p.lemfIds.push('lemf-replicas');
      for (const [i, liid] of liids.entries()) {
        const account = `replica-${i}@example.org`;
        await addWarrant(p, {
          liid,
          kind: 'EMAIL',
          target: { type: 'MAIL_ACCOUNT', value: account },
          lemfIds: ['lemf-replicas'],
        });
        traffics.push(
          new MailTraffic({
            port: p.ports.mailEvents,
            token: p.tokens.mail,
            account,
            firstClientPort: 20000 + i * 2000,
            intervalMs: 100,
          }),
        );
      }
      // Warm-up per target: its own LIID's warm-up login at the LEMF.
      await Promise.all(
        traffics.map((t, i) => {
          const own = {
            get records() {
              return lemf.records.filter((r) => r.liid === liids[i]);
            },
          };
          return t.warmUp(own as unknown as LemfReceiver, 120_000);
        }),
      );
      const identify: Identify = (r) => traffics[0]!.identify(r);
      const acknowledged = () => {
        const all = new Map<string, ExpectedRecords>();
        for (const t of traffics) for (const [k, v] of t.snapshot()) all.set(k, v);
        return all;
      };
      for (const t of traffics) t.start();
      await waitFor(
        () =>
          traffics.every((t) => t.acknowledged.size >= 4) &&
          checkLemf(lemf.records, acknowledged(), identify).missing.length === 0,
        { what: 'records of every target at the LEMF before the kills', timeoutMs: 120_000, intervalMs: 250 },
      );
      // Both processes of each service hold partitions: the load is shared.
      // (A group that is rebalancing shows no assignments for a moment: polled.)
      let members = await workingMembers();
      await waitFor(
        async () => {
          members = await workingMembers();
          return SCALED.every((name) => members[name] === 2);
        },
        { what: 'two working members in each group', timeoutMs: 90_000, intervalMs: 1000 },
      ).catch((err: Error) => {
        throw new Error(`${err.message}: ${JSON.stringify(members)}`);
      });

      const lines: string[] = [];
      for (const [i, name] of SCALED.entries()) {
        const replica = i % 2; // not always the first process
        await p.kill(name as PipelineService, 'SIGKILL', replica);
        const killedAt = Date.now();
        await sleep(DOWN_S * 1000);
        const handedOver = acknowledged();
        const endedAt = Date.now();
        const caughtUpP = waitCaughtUp(lemf, handedOver, identify, 180_000);
        caughtUpP.catch(() => undefined); // awaited below
        await p.restart(name as PipelineService, replica);
        const readyS = (Date.now() - endedAt) / 1000;
        const caughtUp = await caughtUpP.catch(async (err: Error) => {
          throw new Error(`after the SIGKILL of ${name}#${replica}: ${err.message}; ${await backlogLine(p)}`);
        });
        const line = `${name}#${replica} killed ${((endedAt - killedAt) / 1000).toFixed(1)} s, ready ${readyS.toFixed(1)} s after the restart, the LEMF had every earlier event ${((caughtUp - endedAt) / 1000).toFixed(1)} s after`;
        console.log(`[chaos] replicas: ${line}`);
        lines.push(line);
        recordRecovery(`replicas-kill-${name}`, {
          faultSeconds: (endedAt - killedAt) / 1000,
          recoverySeconds: (caughtUp - endedAt) / 1000,
          records: lemf.records.length,
          note: `two processes per service, ${PARTITIONS} partitions, ${TARGETS} targets; ready ${readyS.toFixed(1)} s after the restart`,
        });
        // The restarted process is back in its groups before the next kill.
        await waitFor(async () => (await workingMembers())[name] === 2, {
          what: `${name} shared by two processes again`,
          timeoutMs: 120_000,
          intervalMs: 1000,
        });
      }
      await sleep(TAIL_S * 1000);
      await Promise.all(traffics.map((t) => t.stop()));
      const all = acknowledged();
      await waitCaughtUp(lemf, all, identify, 120_000).catch(async (err: Error) => {
        throw new Error(`after the traffic stopped: ${err.message}; ${await backlogLine(p)}`);
      });
      // Late resends included.
      let n = -1;
      await waitFor(
        () => {
          const same = lemf.records.length === n;
          n = lemf.records.length;
          return same;
        },
        { what: 'the LEMF to stop receiving', timeoutMs: 60_000, intervalMs: 2000 },
      );

      const v = checkLemf(lemf.records, all, identify);
      const reused = reusedNumbers(lemf.records);
      const written = await writtenTwice();
      const liidsSeen = new Set(v.streams.map((s) => s.liid));
      console.log(
        `[chaos] replicas: ${all.size} events of ${TARGETS} targets over ${PARTITIONS} partitions; ${describeVerdict(v)}; numbers reused for different records ${reused.length}; identical resends ${v.repeatedRecords}; on hi2/hi3 ${written.records} records, written twice ${written.twice.length}`,
      );
      // The encoder and target-match: every record once on hi2/hi3, across kills and rebalances.
      expect(written.twice).toEqual([]);
      expect(v.missing).toEqual([]);
      expect(v.gaps).toEqual([]);
      expect(v.duplicatedEvents).toEqual([]);
      expect(v.unidentified).toBe(0);
      expect(reused).toEqual([]);
      expect(liids.every((l) => liidsSeen.has(l))).toBe(true);
      expect(p.unexpectedExits()).toEqual([]);
      // The surviving encoder reloaded its counters from li.<t>.encoder-state at each new
      // assignment (its first, the rebalance when the other died, and when it came back).
      const survivor = readFileSync(join(p.logDir, 'iri-encoder.log'), 'utf8');
      const reloads = survivor.split('\n').filter((l) => l.includes('encoder state reloaded')).length;
      console.log(`[chaos] replicas: the surviving iri-encoder reloaded its state ${reloads} times`);
      expect(reloads).toBeGreaterThanOrEqual(2);

      // Interception ends: every session still open (a login, no logout) of every LIID gets its
      // IRI-END, whichever encoder instance reads the deactivation: the ends of LIIDs it does not
      // own go to their owner through li.<t>.matched (domain/warrant-end.ts).
      for (const liid of liids) await endWarrant(p, liid);
      const cinsOf = (liid: string, type: string) =>
        [
          ...new Set(
            lemf.records.filter((r) => r.liid === liid && r.cin > 0 && r.type.startsWith(type)).map((r) => r.cin),
          ),
        ].sort((a, b) => a - b);
      const unended = () =>
        liids.flatMap((l) => {
          const ended = new Set(cinsOf(l, 'IRI-END'));
          return cinsOf(l, 'IRI-BEGIN')
            .filter((c) => !ended.has(c))
            .map((c) => `${l}/${c}`);
        });
      await waitFor(
        () =>
          unended().length === 0 && lemf.records.filter((r) => r.type === 'HI1 liDeactivated').length >= liids.length,
        {
          what: 'an IRI-END for every open session and a liDeactivated per warrant',
          timeoutMs: 120_000,
          intervalMs: 500,
        },
      ).catch((err: Error) => {
        throw new Error(`${err.message}: without END ${unended().slice(0, 5).join(', ')} (${unended().length})`);
      });
      const handedOver = await handOvers();
      const after = checkSequences(lemf.records);
      const afterWritten = await writtenTwice();
      const ends = lemf.records.filter((r) => r.type.startsWith('IRI-END')).length;
      console.log(
        `[chaos] replicas: warrants ended: ${ends} IRI-END records, ${handedOver} warrant ends handed to the LIID's owner; gaps ${after.filter((c) => c.gaps.length > 0).length}; numbers reused ${reusedNumbers(lemf.records).length}; written twice ${afterWritten.twice.length}`,
      );
      expect(handedOver).toBeGreaterThan(0);
      expect(after.filter((c) => c.gaps.length > 0)).toEqual([]);
      expect(reusedNumbers(lemf.records)).toEqual([]);
      expect(afterWritten.twice).toEqual([]);
    } finally {
      await Promise.all(traffics.map((t) => t.stop().catch(() => undefined)));
      await lemf.stop();
    }
  }, 900_000);
});
