// The iri-encoder SIGKILLed mid-stream, again and again: SIP calls (IPMMIRI + IPMMCC), e-mail
// sessions (EmailIRI + EmailCC) and IP sessions (IPIRI + IPCC) of several LIIDs go through a
// child encoder that is killed at random moments and restarted. Afterwards, read committed:
// every event's records are there exactly once, byte for byte what the domain encodes for it,
// and each (LIID, CIN) numbers its IRIs and its CCs 0..n with no gap and no repeat; the PS-PDU
// sequenceNumber in the bytes agrees with the li.seq header.
import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import { type Bus, createBus, deploymentGroupId, type ReadRecord, readTopic, topicName } from '@li/bus';
import { decodeHi2, decodePsPdu } from '@li/etsi';
import type { MatchedEvent, NormalizedEvent } from '@li/schemas';
import { sampleEvent, sampleMatched } from '@li/schemas/testing';
import { memoryLogger, pinnedNode, serviceEnv, testInfra, uniqueTenant, waitFor } from '@li/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apply } from '../src/domain/apply.ts';
import type { EncodedRecord } from '../src/domain/encode.ts';
import type { EncoderOptions } from '../src/domain/options.ts';
import { commit, emptyState } from '../src/domain/state.ts';

const infra = testInfra();
let bus: Bus;
beforeAll(async () => {
  bus = await createBus({ ...infra, clientId: 'enc-crash-test' }, memoryLogger().log);
});
afterAll(async () => {
  await bus?.close();
});

// The service's options for the env below (its config defaults plus LI_OPERATOR_IDENTIFIER).
const OPTIONS: EncoderOptions = {
  operatorIdentifier: 'OP1',
  networkElementIdentifier: 'mdf1',
  deliveryCountryCode: 'IT',
  timestampFormat: 'BOTH',
  ts101671Countries: ['IT'],
  maxSegment: 64_000,
};

const RTP = Buffer.alloc(160, 0x80); // a G.711 20 ms frame
const MAIL = Buffer.concat([Buffer.from('Subject: report\r\n\r\n'), Buffer.alloc(1400 - 19, 0x61)]);
// Over maxSegment: three CC PDUs between first/last-segment TRIs, each PDU numbered on its own.
const BIG_MAIL = Buffer.concat([Buffer.from('Subject: scan\r\n\r\n'), Buffer.alloc(150_000, 0x62)]);
const IP_PACKET = Buffer.concat([Buffer.from('4500', 'hex'), Buffer.alloc(158, 0x11)]);

/** One communication's events, in the order they happen. */
type Comm = { liid: string; events: MatchedEvent[] };

function communications(tenant: string, liid: string, country: string): Comm[] {
  let n = 0;
  const m = (event: Partial<NormalizedEvent>, matchedRoles: string[]) => {
    const e = sampleEvent({ tenant, ...event, eventId: `${liid}-${event.communicationId}-${n++}` });
    return sampleMatched({
      liid,
      tenant,
      authorisationCountry: country,
      matchedRoles: matchedRoles as MatchedEvent['matchedRoles'],
      // The parties that matched, as target-match sets them (not the sample's default).
      matchedParties: e.parties.filter((p) => matchedRoles.includes(p.role)),
      event: e,
    });
  };
  const comms: Comm[] = [];
  for (let c = 0; c < 5; c++) {
    const id = `call-${c}@${liid}`;
    const sip = (action: string, attributes: Record<string, string>) =>
      m({ communicationId: id, action, attributes }, ['CALLER']);
    const media = (i: number) =>
      m(
        {
          communicationId: id,
          category: 'MEDIA',
          action: 'x3.rtp',
          protocol: 'x3',
          attributes: { payloadFormat: '8', payloadDirection: i % 2 ? '3' : '2' },
          content: RTP,
          contentType: 'application/rtp',
        },
        ['CALLER'],
      );
    comms.push({
      liid,
      events: [
        sip('sip.invite', { method: 'INVITE' }),
        sip('sip.response', { method: 'INVITE', status: '180' }),
        sip('sip.response', { method: 'INVITE', status: '200' }),
        sip('sip.ack', { method: 'ACK' }),
        ...Array.from({ length: 20 }, (_, i) => media(i)),
        sip('sip.bye', { method: 'BYE' }),
        sip('sip.response', { method: 'BYE', status: '200' }),
      ],
    });
  }
  for (let c = 0; c < 4; c++) {
    const id = `smtp-${c}@${liid}`;
    const mail = (category: NormalizedEvent['category'], action: string, over: Partial<NormalizedEvent> = {}) => ({
      communicationId: id,
      category,
      action,
      protocol: 'SMTP',
      source: 'pcap' as const,
      parties: [{ role: 'ACCOUNT' as const, type: 'EMAIL' as const, value: 'alice@example.org' }],
      network: { transport: 'tcp', srcAddress: '198.51.100.7', srcPort: 52344, dstAddress: '192.0.2.25', dstPort: 587 },
      attributes: {},
      content: null,
      contentType: null,
      ...over,
    });
    const send = (i: number, content = MAIL) =>
      m(
        mail('SENT_MAIL', 'smtp.send', {
          parties: [
            { role: 'SENDER', type: 'EMAIL', value: 'alice@example.org' },
            { role: 'RECIPIENT', type: 'EMAIL', value: 'bob@example.net' },
          ],
          attributes: { messageId: `<${i}.${c}@example.org>`, size: String(content.length) },
          content,
          contentType: 'message/rfc822',
        }),
        ['SENDER'],
      );
    comms.push({
      liid,
      events: [
        m(mail('LOGIN', 'smtp.login'), ['ACCOUNT']),
        ...Array.from({ length: 4 }, (_, i) => send(i, i === 1 ? BIG_MAIL : MAIL)),
        m(mail('SIGNALS', 'smtp.quit'), ['ACCOUNT']),
      ],
    });
  }
  for (let c = 0; c < 3; c++) {
    const id = `msnp-${c}@${liid}`;
    const msnp = (action: string, over: Partial<NormalizedEvent> = {}) =>
      m(
        {
          communicationId: id,
          category: 'SIGNALS',
          action,
          protocol: 'MSNP',
          source: 'pcap',
          parties: [{ role: 'ACCOUNT', type: 'EMAIL', value: 'bob@hotmail.example' }],
          network: {
            transport: 'tcp',
            srcAddress: '203.0.113.5',
            srcPort: 40000,
            dstAddress: '192.0.2.1',
            dstPort: 1863,
          },
          attributes: {},
          content: null,
          contentType: null,
          ...over,
        },
        ['ACCOUNT'],
      );
    const packet = (i: number) =>
      msnp('x3.ip', {
        category: 'MEDIA',
        protocol: 'x3',
        attributes: { payloadFormat: '5', payloadDirection: i % 2 ? '3' : '2' },
        content: IP_PACKET,
        contentType: 'application/ipv4-packet',
      });
    comms.push({
      liid,
      events: [
        msnp('msnp.signin'),
        ...Array.from({ length: 8 }, (_, i) => packet(i)),
        msnp('msnp.chg'),
        ...Array.from({ length: 8 }, (_, i) => packet(i + 8)),
        msnp('msnp.signout'),
      ],
    });
  }
  return comms;
}

/** Interleaves the communications of every LIID (each one's own order kept), with rising times. */
function interleave(comms: Comm[]): MatchedEvent[] {
  const out: MatchedEvent[] = [];
  const cursors = comms.map(() => 0);
  let clock = 1_795_300_000_000_000;
  for (let left = true; left; ) {
    left = false;
    comms.forEach((c, i) => {
      const e = c.events[cursors[i]!];
      if (!e) return;
      cursors[i]!++;
      left = true;
      clock += 1000;
      out.push({ ...e, event: { ...e.event, occurredAtMicros: clock } });
    });
  }
  return out;
}

function startEncoder(env: Record<string, string>): { child: ChildProcess; started: Promise<void> } {
  const child = fork(join(import.meta.dirname, 'crash-child.ts'), [], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    execPath: pinnedNode(),
    env: { ...process.env, ...env },
  });
  const started = new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`encoder exited early (${code})`)));
  });
  return { child, started };
}

const exited = (child: ChildProcess) =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise<void>((r) => child.once('exit', () => r()));

/** What the records of one event on one topic look like: comparable across runs. */
const fingerprint = (topic: 'hi2' | 'hi3', r: { cin: number; seq: number; kind: string; hex: string }) =>
  `${topic}|${r.cin}|${r.seq}|${r.kind}|${r.hex}`;

describe('iri-encoder across SIGKILL', () => {
  it('writes every record exactly once, with gap-free IRI and CC numbering per (LIID, CIN)', async () => {
    const tenant = uniqueTenant('enccrash');
    const env = await serviceEnv('iri-encoder', [tenant], {
      LI_TENANTS: tenant,
      LI_OPERATOR_IDENTIFIER: OPTIONS.operatorIdentifier,
    });
    // Several partitions of the input, keyed by LIID as target-match does.
    await bus.ensureTopics(tenant, ['matched'], 3);
    await bus.ensureTopics(tenant, ['hi2', 'hi3', 'reports', 'encoder-state', 'lemfs', 'dlq']);

    // 12 LIIDs, one of them Italian (TS 101 671 twins of its IRIs on hi2 too).
    const liids = Array.from({ length: 12 }, (_, i) => `LIID${String(i + 1).padStart(4, '0')}`);
    const events = interleave(liids.flatMap((l, i) => communications(tenant, l, i === 0 ? 'IT' : 'DE')));

    // What the encoder must write for each event, from the pure domain code.
    const expected = new Map<string, string[]>();
    const state = emptyState();
    let expectedCount = 0;
    for (const m of events) {
      const r = apply(state, m, OPTIONS);
      if (!r.ok) throw new Error(`test data: ${r.code} ${r.reason}`);
      expect(r.skipped).toEqual([]);
      commit(state, r.stateChanges);
      expected.set(
        m.event.eventId,
        r.records.map((x: EncodedRecord) =>
          fingerprint(x.handover === 'HI2' ? 'hi2' : 'hi3', {
            cin: x.cin,
            seq: x.sequenceNumber,
            kind: `${x.format}/${x.kind}`,
            hex: x.bytes.toString('hex'),
          }),
        ),
      );
      expectedCount += r.records.length;
    }

    const topic = topicName(tenant, 'matched');
    const codec = await bus.codec<MatchedEvent>(topic, 'MatchedEvent');
    let produced = 0;
    const produceUpTo = async (n: number) => {
      const slice = events.slice(produced, n);
      produced = Math.max(produced, n);
      for (let i = 0; i < slice.length; i += 250) {
        const part = slice.slice(i, i + 250);
        await bus.send(
          await Promise.all(part.map(async (m) => ({ topic, key: m.liid, value: await codec.encode(m) }))),
        );
      }
    };
    const admin = await bus.admin();
    const committedInput = async () => {
      const [o] = await admin.fetchOffsets({ groupId: deploymentGroupId('iri-encoder', [tenant]), topics: [topic] });
      return (o?.partitions ?? []).reduce((s, p) => s + Math.max(0, Number(p.offset)), 0);
    };

    const KILLS = 5;
    // A backlog first, then a steady trickle of input the whole time, so every kill lands while
    // input is waiting: each new encoder is killed at a random moment soon after it starts
    // committing (the killed member leaves the group only after its session timeout).
    const chunk = Math.ceil(events.length / 10);
    await produceUpTo(3 * chunk);
    // Input arrives in a trickle (10 events every 40 ms) while an encoder works, as in production.
    let feeding: Promise<void> = Promise.resolve();
    const trickle = (n: number) => {
      const end = Math.min(events.length, produced + n);
      feeding = (async () => {
        while (produced < end) {
          await produceUpTo(Math.min(end, produced + 10));
          await new Promise((r) => setTimeout(r, 40));
        }
      })();
    };
    let kills = 0;
    let midStream = 0;
    const progress: string[] = [];
    // The running child, so a failure part-way never leaves an encoder behind.
    let current: ChildProcess | undefined;
    try {
      while (kills < KILLS) {
        const before = await committedInput();
        const { child, started } = startEncoder(env);
        current = child;
        await started;
        trickle(chunk);
        // Kill it at a random moment once it is committing batches.
        await waitFor(async () => (await committedInput()) > before, {
          timeoutMs: 60_000,
          intervalMs: 50,
          what: 'the encoder committing a batch',
        });
        // Soon after: a faster encoder drains its backlog within a few hundred ms.
        await new Promise((r) => setTimeout(r, Math.random() * 50));
        child.kill('SIGKILL');
        await exited(child);
        kills++;
        const committed = await committedInput();
        if (committed < produced) midStream++;
        progress.push(`${committed}/${produced}`);
        await feeding;
      }
      const { child, started } = startEncoder(env);
      current = child;
      await started;
      await produceUpTo(events.length);
      await waitFor(async () => (await committedInput()) >= events.length, {
        timeoutMs: 60_000,
        intervalMs: 500,
        what: 'every input event committed',
      });
    } finally {
      await feeding;
      if (current) {
        current.kill('SIGTERM');
        await exited(current);
      }
    }
    console.log(
      `encoder crash test: ${events.length} events, ${kills} SIGKILLs, ${midStream} with input waiting (input committed/produced at each: ${progress.join(', ')}), ${expectedCount} records expected`,
    );

    const read = (s: 'hi2' | 'hi3' | 'dlq') => readTopic(bus.kafka, topicName(tenant, s), { timeoutMs: 30_000 });
    const [hi2, hi3, dlq] = await Promise.all([read('hi2'), read('hi3'), read('dlq')]);
    expect(dlq).toEqual([]);
    expect(kills).toBeGreaterThanOrEqual(5);
    // Killed with input still waiting, not after the work was done.
    expect(midStream).toBeGreaterThanOrEqual(3);
    expect(hi2.length + hi3.length).toBe(expectedCount);
    expect(hi2.length).toBeGreaterThan(0);
    expect(hi3.length).toBeGreaterThan(0);

    // Every event's records exactly once, as the domain encodes them (same bytes, in order).
    const got = new Map<string, string[]>();
    // Per (LIID, CIN): the sequence numbers of IRIs and of HI3 PDUs (CC and segment-flag TRIs), in log order.
    const iriSeqs = new Map<string, number[]>();
    const ccSeqs = new Map<string, number[]>();
    let flags = 0;
    const twins = new Map<string, number[]>(); // TS 101 671 records: the seq of their PS-PDU twin
    const check = (name: 'hi2' | 'hi3', r: ReadRecord) => {
      const h = r.headers;
      const key = `${h['li.liid']}/${h['li.cin']}`;
      const seq = Number(h['li.seq']);
      const kind = `${h['li.format']}/${h['li.kind']}`;
      if (h['li.format'] === 'TS102232') {
        const d = decodePsPdu(r.value!);
        if (!d.ok) throw new Error(`${name} ${r.offset}: ${d.reason}`);
        expect(d.value.header.liid).toBe(h['li.liid']);
        expect(d.value.header.communicationIdentifier.cin).toBe(Number(h['li.cin']));
        expect(d.value.header.sequenceNumber).toBe(seq);
        if (h['li.kind'] === 'IRI') iriSeqs.set(key, [...(iriSeqs.get(key) ?? []), seq]);
        if (h['li.kind'] === 'CC' || h['li.kind'] === 'TRI') ccSeqs.set(key, [...(ccSeqs.get(key) ?? []), seq]);
        if (h['li.kind'] === 'TRI') flags += 1;
      } else {
        const d = decodeHi2(r.value!);
        if (!d.ok || d.value.kind !== 'iRIContent') throw new Error(`${name} ${r.offset}: not a TS 101 671 IRI`);
        expect(d.value.iri.params.communicationIdentifier?.cin).toBe(h['li.cin']);
        twins.set(key, [...(twins.get(key) ?? []), seq]);
      }
      const id = h['li.event-id']!;
      got.set(id, [
        ...(got.get(id) ?? []),
        fingerprint(name, { cin: Number(h['li.cin']), seq, kind, hex: r.value!.toString('hex') }),
      ]);
    };
    for (const r of hi2) check('hi2', r);
    for (const r of hi3) check('hi3', r);
    for (const m of events) {
      const want = expected.get(m.event.eventId)!;
      const have = got.get(m.event.eventId) ?? [];
      // hi2 and hi3 are read one after the other: compare each topic's records in order.
      for (const t of ['hi2', 'hi3']) {
        expect(have.filter((f) => f.startsWith(`${t}|`))).toEqual(want.filter((f) => f.startsWith(`${t}|`)));
      }
    }
    expect(got.size).toBe([...expected.values()].filter((v) => v.length > 0).length);

    // IRI and HI3 are numbered separately per (LIID, CIN) (state.ts SequenceEntry): each 0..n,
    // the segment-flag TRIs included (issue 17: they used to repeat the next CC PDU's number).
    expect(flags).toBe(liids.length * 4 * 2); // one segmented mail per SMTP session
    const gapFree = (seqs: number[]) => seqs.every((s, i) => s === i);
    for (const [key, seqs] of iriSeqs) expect(gapFree(seqs), `IRI ${key}: ${seqs.join(',')}`).toBe(true);
    for (const [key, seqs] of ccSeqs) expect(gapFree(seqs), `CC ${key}: ${seqs.join(',')}`).toBe(true);
    for (const [key, seqs] of twins) expect(seqs).toEqual(iriSeqs.get(key));
    const both = [...ccSeqs.keys()].filter((k) => iriSeqs.has(k));
    expect(both.length).toBe(liids.length * 12); // every call, mail session and IP session has IRI and CC
    expect(twins.size).toBe(12); // the Italian LIID's communications
  }, 240_000);
});
