import net from 'node:net';
import { systemClock } from '@li/core';
import { decodePsPdu, encodeKeepaliveResponse, encodePduAckResponse } from '@li/etsi';
import { afterEach, describe, expect, it } from 'vitest';
import { FrameReader } from '../domain/framing.ts';
import { DEFAULT_INBOUND_LIMITS } from '../domain/inbound-budget.ts';
import { createTriCodec } from '../domain/tri-codec.ts';
import type { DeliveryRecord, PduRef } from '../domain/types.ts';
import { PduConnection } from './pdu-connection.ts';

const codec = createTriCodec({ operatorIdentifier: 'OP', timestampFormat: 'GENERALIZED_TIME', clock: systemClock });

/** Data bytes are opaque to the connection: a small BER TLV is enough. */
const rec = (seq: number): DeliveryRecord => ({
  lemfId: 'l1',
  liid: 'LIID1',
  cin: 7,
  seq,
  stream: 'HI2',
  bytes: Buffer.from([0x04, 0x01, seq]),
  source: { topic: 'li.acme.hi2', partition: 0, offset: seq },
});

const ackFor = (p: PduRef) =>
  encodePduAckResponse({
    operatorIdentifier: 'LEMF',
    liid: p.liid,
    cin: p.cin,
    sequenceNumber: p.seq,
    timeMicros: 0,
    timestampFormat: 'GENERALIZED_TIME',
  });

/**
 * A LEMF that collects our ack requests and, once `after` of them arrived, writes the acks
 * `answer` picks from them (by the PDU each request names).
 */
async function lemf(after: number, answer: (requests: PduRef[]) => PduRef[]) {
  const requests: PduRef[] = [];
  const server = net.createServer((s) => {
    s.on('error', () => undefined);
    const reader = new FrameReader('ber', 1 << 20);
    s.on('data', (chunk: Buffer) => {
      for (const f of reader.push(chunk).frames) {
        const r = decodePsPdu(f);
        if (!r.ok || r.value.payload.kind !== 'tri' || r.value.payload.tri.kind !== 'pDUAcknowledgementRequest')
          continue;
        const h = r.value.header;
        requests.push({ liid: h.liid, cin: h.communicationIdentifier.cin ?? 0, seq: h.sequenceNumber });
        if (requests.length === after) s.write(Buffer.concat(answer(requests).map(ackFor)));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return { port: (server.address() as net.AddressInfo).port, requests };
}

const servers: net.Server[] = [];
const conns: PduConnection[] = [];

function connect(port: number, violations: string[]): PduConnection {
  const c = new PduConnection({
    host: '127.0.0.1',
    port,
    tls: null,
    framing: 'ber',
    clock: systemClock,
    backoff: { baseMs: 60_000, maxMs: 60_000, jitter: 0 },
    connectTimeoutMs: 5000,
    keepalive: null,
    codec,
    acknowledged: true,
    ackTimeoutMs: 300,
    resendWindowBytes: 0,
    inbound: DEFAULT_INBOUND_LIMITS,
    onViolation: (code) => violations.push(code),
  });
  conns.push(c);
  c.start();
  return c;
}

afterEach(async () => {
  await Promise.all(conns.splice(0).map((c) => c.close()));
  for (const s of servers.splice(0)) s.close();
});

describe('PduConnection with PDU acknowledgement', () => {
  it('sends each PDU with a request naming its LIID, CIN and sequence number; acks in any order confirm all', async () => {
    const peer = await lemf(3, (r) => [...r].reverse());
    const violations: string[] = [];
    const out = await connect(peer.port, violations).send([rec(0), rec(1), rec(2)]);
    expect(out).toEqual({ confirmed: 3, error: null });
    expect(peer.requests).toEqual([0, 1, 2].map((seq) => ({ liid: 'LIID1', cin: 7, seq })));
    expect(violations).toEqual([]);
  });

  it('confirms only the leading run of acknowledged PDUs: a later ack does not stand in for a missing one', async () => {
    const peer = await lemf(3, (r) => [r[2]!, r[0]!]); // PDU 1 is never acknowledged
    const out = await connect(peer.port, []).send([rec(0), rec(1), rec(2)]);
    expect(out.confirmed).toBe(1);
    expect(out.error?.code).toBe('DLV_ERR_TIMEOUT');
  });

  it('treats a duplicate ack as a protocol error, not as the ack of another PDU', async () => {
    const peer = await lemf(3, (r) => [r[0]!, r[0]!, r[1]!, r[2]!]);
    const violations: string[] = [];
    const out = await connect(peer.port, violations).send([rec(0), rec(1), rec(2)]);
    expect(out.confirmed).toBe(1);
    expect(out.error?.code).toBe('DLV_ERR_LEMF_PROTOCOL');
    expect(violations).toEqual(['DLV_ERR_LEMF_PROTOCOL']);
  });

  it('treats an ack for a sequence number never sent as a protocol error and resets the connection', async () => {
    const peer = await lemf(2, (r) => [{ ...r[0]!, seq: 99 }, r[0]!, r[1]!]);
    const violations: string[] = [];
    const c = connect(peer.port, violations);
    const out = await c.send([rec(0), rec(1)]);
    expect(out.confirmed).toBe(0);
    expect(out.error?.code).toBe('DLV_ERR_LEMF_PROTOCOL');
    expect(violations).toEqual(['DLV_ERR_LEMF_PROTOCOL']);
    expect(c.status().connected).toBe(false);
  });
});

/**
 * A LEMF that answers keep-alives and records the data PDUs of each connection; `silence()` makes
 * the current connection a black hole (stops reading and answering, no RST), as a dead path does.
 * `hold()` keeps reading but holds the keep-alive answers until `release()`.
 */
async function keepaliveLemf() {
  const received: number[][] = [];
  let current: net.Socket | null = null;
  let answered = 0;
  let keepalives = 0;
  let holding = false;
  const held: Uint8Array[] = [];
  const server = net.createServer((s) => {
    s.on('error', () => undefined);
    current = s;
    const mine: number[] = [];
    received.push(mine);
    const reader = new FrameReader('ber', 1 << 20);
    s.on('data', (chunk: Buffer) => {
      for (const f of reader.push(chunk).frames) {
        const pdu = codec.classify(f);
        if (pdu.kind === 'keepalive') {
          keepalives++;
          if (holding) {
            held.push(pdu.reply);
            continue;
          }
          answered++;
          s.write(pdu.reply);
        } else if (f[0] === 0x04) mine.push(f[2]!);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return {
    port: (server.address() as net.AddressInfo).port,
    received,
    answered: () => answered,
    silence: () => current?.pause(),
    keepalives: () => keepalives,
    hold: () => {
      holding = true;
    },
    release: () => {
      holding = false;
      for (const r of held.splice(0)) current?.write(r);
    },
    /** Writes `bytes` on the current connection (e.g. a keep-alive answer of our choosing). */
    write: (bytes: Uint8Array) => current?.write(bytes),
  };
}

describe('PduConnection without PDU acknowledgement: confirmed by answered keep-alives', () => {
  it('confirms nothing written into a silently dead path, detects it while data keeps flowing, and replays only what no answered keep-alive covers', async () => {
    const peer = await keepaliveLemf();
    const c = new PduConnection({
      host: '127.0.0.1',
      port: peer.port,
      tls: null,
      framing: 'ber',
      clock: systemClock,
      backoff: { baseMs: 50, maxMs: 50, jitter: 0 },
      connectTimeoutMs: 5000,
      keepalive: { intervalMs: 200, timeoutMs: 400 },
      codec,
      acknowledged: false,
      ackTimeoutMs: 300,
      resendWindowBytes: 1 << 20,
      inbound: DEFAULT_INBOUND_LIMITS,
    });
    conns.push(c);
    const confirmed: number[] = [];
    c.start((rs) => confirmed.push(...rs.map((r) => r.seq)));
    expect(c.confirmsByKeepalive).toBe(true);
    // taken over, not confirmed: only a keep-alive answered after them confirms them
    expect(await c.send([rec(0), rec(1), rec(2)])).toEqual({ confirmed: 0, accepted: 3, error: null });
    await waitUntil(() => confirmed.length === 3, 'the confirming keep-alive answered');
    expect(confirmed).toEqual([0, 1, 2]);
    const seen = peer.answered();
    await waitUntil(() => peer.answered() >= seen + 1 && c.status().keepaliveRttMs !== null, 'an answered keep-alive');
    await new Promise((r) => setTimeout(r, 100)); // the answer reaches us
    peer.silence();
    // a record every 50 ms, more often than the keep-alive interval: each one is taken by the kernel
    let seq = 3;
    while (c.status().lastError?.code !== 'DLV_ERR_KEEPALIVE_TIMEOUT') {
      expect(seq, 'the dead path detected within 5 s').toBeLessThan(100);
      expect(await c.send([rec(seq)])).toEqual({ confirmed: 0, accepted: 1, error: null });
      seq++;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(confirmed, 'nothing written into the dead path is confirmed').toEqual([0, 1, 2]);
    await waitUntil(() => peer.received.length === 2 && c.status().connected, 'the reconnect');
    await waitUntil(() => (peer.received[1]?.length ?? 0) >= seq - 3, 'the replay');
    // every record sent into the dead path, in order, and none the LEMF had confirmed
    expect(peer.received[1]).toEqual(Array.from({ length: seq - 3 }, (_, i) => i + 3));
    expect(c.status().resent).toBe(seq - 3);
    // the new connection's confirming keep-alive is answered: now they count as delivered
    await waitUntil(() => confirmed.length === seq, 'the replayed records confirmed');
    expect(confirmed).toEqual(Array.from({ length: seq }, (_, i) => i));
  });
});

describe('PduConnection keep-alive confirmation: bounded unconfirmed data', () => {
  it('stops writing while the window is full and goes on once a keep-alive answer releases it', async () => {
    const peer = await keepaliveLemf();
    peer.hold();
    const c = new PduConnection({
      host: '127.0.0.1',
      port: peer.port,
      tls: null,
      framing: 'ber',
      clock: systemClock,
      backoff: { baseMs: 50, maxMs: 50, jitter: 0 },
      connectTimeoutMs: 5000,
      keepalive: { intervalMs: 60_000, timeoutMs: 60_000 },
      codec,
      acknowledged: false,
      ackTimeoutMs: 300,
      resendWindowBytes: 9, // three 3-byte records
      confirmIdleMs: 50,
      inbound: DEFAULT_INBOUND_LIMITS,
    });
    conns.push(c);
    const confirmed: number[] = [];
    c.start((rs) => confirmed.push(...rs.map((r) => r.seq)));
    expect(await c.send([rec(0), rec(1), rec(2)])).toEqual({ confirmed: 0, accepted: 3, error: null });
    let fourth: unknown = null;
    const pending = c.send([rec(3)]).then((out) => {
      fourth = out;
    });
    // the LEMF has the records and a keep-alive after them, but has not answered: the window is full
    await waitUntil(() => peer.received[0]?.length === 3 && peer.keepalives() >= 1, 'records and keep-alive read');
    await new Promise((r) => setImmediate(r));
    expect(fourth, 'no write while the window is full').toBeNull();
    expect(peer.received[0]).toEqual([0, 1, 2]);
    expect(confirmed).toEqual([]);
    peer.release();
    await pending;
    expect(fourth).toEqual({ confirmed: 0, accepted: 1, error: null });
    await waitUntil(() => confirmed.length === 4, 'the fourth record confirmed by the idle keep-alive');
    expect(confirmed).toEqual([0, 1, 2, 3]);
    expect(peer.received).toEqual([[0, 1, 2, 3]]); // one connection, nothing dropped or replayed
  });

  it('an answer confirms only up to the oldest outstanding keep-alive, whatever sequence number it names', async () => {
    const peer = await keepaliveLemf();
    peer.hold();
    const c = new PduConnection({
      host: '127.0.0.1',
      port: peer.port,
      tls: null,
      framing: 'ber',
      clock: systemClock,
      backoff: { baseMs: 50, maxMs: 50, jitter: 0 },
      connectTimeoutMs: 5000,
      keepalive: { intervalMs: 60_000, timeoutMs: 60_000 },
      codec,
      acknowledged: false,
      ackTimeoutMs: 300,
      resendWindowBytes: 1 << 20,
      confirmIdleMs: 20,
      inbound: DEFAULT_INBOUND_LIMITS,
    });
    conns.push(c);
    const confirmed: number[] = [];
    c.start((rs) => confirmed.push(...rs.map((r) => r.seq)));
    await c.send([rec(0)]);
    await waitUntil(() => peer.keepalives() === 1, 'keep-alive 0 after record 0');
    await c.send([rec(1)]);
    await waitUntil(() => peer.keepalives() === 2, 'keep-alive 1 after record 1');
    // one answer, naming keep-alive 1: in order, it can only be the answer to keep-alive 0
    const header = { operatorIdentifier: 'LEMF', timeMicros: 0, timestampFormat: 'GENERALIZED_TIME' as const };
    peer.write(encodeKeepaliveResponse({ ...header, sequenceNumber: 1 }));
    await waitUntil(() => confirmed.length >= 1, 'the answer handled');
    expect(confirmed).toEqual([0]); // one answer releases in one go: record 1 would be here too
    peer.write(encodeKeepaliveResponse({ ...header, sequenceNumber: 1 }));
    await waitUntil(() => confirmed.length >= 2, 'the second answer handled');
    expect(confirmed).toEqual([0, 1]);
  });
});

async function waitUntil(ok: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
