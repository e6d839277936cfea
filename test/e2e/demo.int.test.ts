// Issue 17 item 1, no dead letters in normal operation: the demo's own provisioning and traffic
// (test/demo/scenario.ts, what `npm start` runs: three ETSI TCP LEMFs, warrants for a SIP number,
// a mail account and an MSN user; rounds of a SIPp call, an SMTP submission, an IMAP session with
// Dovecot and an MSN conversation, captured by tcpdump) through the in-process pipeline. Once it
// has drained: the tenant's DLQ is empty, every (LIID, CIN, HI2/HI3) at the LEMFs is 0..n, every
// communication (call, mail session, MSN session) ends with an IRI-END, and the encoder forgets
// ended mail sessions.
import { type Bus, createBus, readTopic, topicName } from '@li/bus';
import { memoryLogger, testInfra, uniqueTenant } from '@li/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drain, report } from '../demo/end.ts';
import { PipelineOffsets } from '../demo/pipeline-offsets.ts';
import { checkSequences, describeCheck, isComplete } from '../demo/report.ts';
import { type DemoLiids, demoLemfIds, demoLemfs, demoTraffic, provisionDemo } from '../demo/scenario.ts';
import { type Pipeline, startPipeline } from '../pipeline/pipeline.ts';
import { type Peers, startPeers } from '../pipeline/traffic.ts';

const ROUNDS = 3;
// Ended communications are forgotten this long after their IRI-END (default 60 s): short here, so
// that a later round's batches expire the first round's sessions.
const ENDED_RETENTION_S = 2;

let peers: Peers;
let pipeline: Pipeline;
let offsets: PipelineOffsets;
let bus: Bus;
let liids: DemoLiids;
const lemfs = demoLemfs();

beforeAll(async () => {
  peers = await startPeers();
  for (const l of Object.values(lemfs)) await l.start();
  bus = await createBus({ ...testInfra(), clientId: 'e2e-demo' }, memoryLogger().log);
  pipeline = await startPipeline({
    tenant: uniqueTenant('demo'),
    capture: {
      interface: 'lo',
      smtpPorts: [peers.smtpPort],
      imapPorts: [peers.imapPort],
      msnpPorts: [peers.msnPort],
    },
    env: { LI_STATE_ENDED_RETENTION_SECONDS: String(ENDED_RETENTION_S) },
  });
  offsets = await PipelineOffsets.connect([pipeline.tenant], demoLemfIds(lemfs));
  liids = await provisionDemo(pipeline, lemfs, Date.now().toString(36).toUpperCase());
}, 120_000);

afterAll(async () => {
  await pipeline?.stop();
  for (const l of Object.values(lemfs)) await l.stop();
  await peers?.stop();
  await offsets?.close();
  await bus?.close();
});

describe("the demo's traffic through the pipeline", () => {
  it('leaves no dead letters, numbers every (LIID, CIN, handover) 0..n and ends every communication', async () => {
    const started = Date.now();
    const traffic = await demoTraffic({ sipPort: pipeline.sipUdpPort, peers, rounds: ROUNDS });
    expect(traffic).toEqual({ rounds: ROUNDS, failedCalls: 0 });
    expect(peers.smtpReceived()).toBe(ROUNDS);
    const list = Object.values(lemfs);
    const drained = await drain(list, offsets, { drainMs: 120_000, quietMs: 4000, say: console.log });
    console.log(`traffic and drain: ${Math.round((Date.now() - started) / 1000)} s`);

    // The tenant's DLQ, read whole: the tenant is this test's own.
    const dlq = await readTopic(bus.kafka, topicName(pipeline.tenant, 'dlq'));
    const dead = dlq.map((d) => `${d.headers['li.dlq.code'] ?? '?'}: ${d.headers['li.dlq.reason'] ?? ''}`);
    console.log(`li.${pipeline.tenant}.dlq: ${dlq.length} records${dead.length ? `\n  ${dead.join('\n  ')}` : ''}`);
    const v = report(list, Object.values(liids), drained, {
      before: { [pipeline.tenant]: 0 },
      after: { [pipeline.tenant]: dlq.length },
    });
    expect(dead).toEqual([]);
    expect(drained).toEqual({ left: 0, settled: true });

    // Each LEMF holds its own warrant's records only, each (LIID, CIN, handover) numbered 0..n.
    for (const [id, l] of Object.entries(lemfs)) {
      const liid = liids[id as keyof DemoLiids];
      expect(l.records.length, `${l.name} received nothing`).toBeGreaterThan(0);
      expect(l.records.filter((r) => r.liid !== liid).map((r) => `${r.liid} ${r.type}`)).toEqual([]);
      const broken = checkSequences(l.records)
        .filter((c) => !isComplete(c))
        .map((c) => `${c.liid} CIN ${c.cin} ${c.handover}: ${describeCheck(c)}`);
      expect(broken).toEqual([]);
    }
    expect(v.line).toBe('complete: every (LIID, CIN) has sequence numbers 0..n');

    // Every communication is one CIN that begins with an IRI-BEGIN and ends with an IRI-END: the
    // SIP calls (BYE), the mail sessions (an SMTP submission and an IMAP session per round: logoff
    // at QUIT/LOGOUT) and the MSN sessions (sign-out at OUT; a switchboard left by closing it).
    const sessionsOf = (l: (typeof lemfs)[keyof typeof lemfs]) => {
      const iri = l.records.filter((r) => r.handover === 'HI2' && r.cin !== 0);
      return [...new Set(iri.map((r) => r.cin))].map((cin) => {
        const types = iri
          .filter((r) => r.cin === cin)
          .sort((a, b) => a.seq - b.seq)
          .map((r) => r.type);
        return `CIN ${cin}: ${types[0]} … ${types.at(-1)} (${types.length})`;
      });
    };
    const perSession = /^CIN \d+: IRI-BEGIN (\w+) … IRI-END \1 \(\d+\)$/;
    for (const l of list) {
      const sessions = sessionsOf(l);
      console.log(`${l.name} communications:\n  ${sessions.join('\n  ')}`);
      for (const s of sessions) expect(s, l.name).toMatch(perSession);
    }
    expect(sessionsOf(lemfs.voice)).toHaveLength(ROUNDS);
    expect(sessionsOf(lemfs.mail)).toHaveLength(2 * ROUNDS);
    expect(sessionsOf(lemfs.msn)).toHaveLength(2 * ROUNDS); // notification server and switchboard
    for (const s of sessionsOf(lemfs.mail)) expect(s).toMatch(/emailIRI/);

    // The encoder forgets ended sessions (tombstones on encoder-state): its sweeps run with the
    // batches, at most every 10 s, so the later rounds' batches expire at least the first round's
    // two (without a logoff they would stay until the idle timeout, an hour).
    const state = await readTopic(bus.kafka, topicName(pipeline.tenant, 'encoder-state'));
    const last = new Map<string, boolean>();
    for (const r of state) if (r.key?.startsWith(`${liids.mail}/comm/`)) last.set(r.key, r.value === null);
    const forgotten = [...last.values()].filter(Boolean).length;
    console.log(`encoder-state: ${last.size} mail sessions, ${forgotten} forgotten`);
    expect(last.size).toBe(2 * ROUNDS);
    expect(forgotten).toBeGreaterThanOrEqual(2);
  }, 420_000);
});
