import net from 'node:net';
import { systemClock } from '@li/core';
import { decodePsPdu, encodePduAckResponse } from '@li/etsi';
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
