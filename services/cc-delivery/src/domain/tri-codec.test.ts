import { ManualClock } from '@li/core';
import { encodeKeepaliveResponse } from '@li/etsi';
import { describe, expect, it } from 'vitest';
import { KeepaliveTimer } from './keepalive.ts';
import { createTriCodec } from './tri-codec.ts';

const codec = createTriCodec({
  operatorIdentifier: 'OP',
  timestampFormat: 'GENERALIZED_TIME',
  clock: new ManualClock(0),
});

/** A keep-alive response as an LEA writes it, with the header time text it chose. */
function responseWithTime(seq: number, text: string): Buffer {
  const at = Date.UTC(2026, 11, 4, 18, 51, 0) * 1000;
  const b = encodeKeepaliveResponse({
    operatorIdentifier: 'OP',
    sequenceNumber: seq,
    timeMicros: at,
    timestampFormat: 'GENERALIZED_TIME',
  });
  const ours = Buffer.from('20261204185100Z', 'latin1');
  const i = b.indexOf(ours);
  const d = text.length - ours.length;
  const out = Buffer.concat([
    b.subarray(0, i - 1),
    Buffer.from([text.length]),
    Buffer.from(text, 'latin1'),
    b.subarray(i + ours.length),
  ]);
  // PS-PDU and pSHeader lengths (short form here) shrink or grow with the time text
  out[1] = out[1]! + d;
  out[3] = out[3]! + d;
  return out;
}

describe('createTriCodec', () => {
  it('classifies a keep-alive response by its sequence number', () => {
    expect(codec.classify(responseWithTime(7, '20261204185100Z'))).toEqual({ kind: 'keepalive-response', seq: 7 });
  });

  it.each(['261204185100Z', '2612041851Z', '261204185100.123Z', '261204185100+0100', '261204185100'])(
    'accepts a keep-alive response whose header time has a two-digit year (%s)',
    (text) => {
      expect(codec.classify(responseWithTime(7, text))).toEqual({ kind: 'keepalive-response', seq: 7 });
    },
  );

  it('keeps the connection when the LEA answers keep-alives with a two-digit year', () => {
    const clock = new ManualClock(0);
    const timeouts: number[] = [];
    const k = new KeepaliveTimer({
      intervalMs: 10_000,
      timeoutMs: 3000,
      clock,
      send: (seq) => {
        const pdu = codec.classify(responseWithTime(seq, '261204185100Z'));
        if (pdu.kind === 'keepalive-response') clock.setTimeout(() => k.onResponse(pdu.seq), 100);
      },
      onTimeout: (s) => timeouts.push(s),
      onRtt: () => {},
    });
    k.start();
    clock.advance(65_000); // six keep-alives, each answered after 100 ms
    expect(timeouts).toEqual([]);
    expect(k.outstanding()).toBe(0);
  });

  it('answers a keep-alive of the LEMF and reads PDU acknowledgements; other bytes are other', () => {
    expect(codec.classify(codec.keepalive(3)).kind).toBe('keepalive');
    expect(codec.classify(Buffer.from([0x30, 0x00]))).toEqual({ kind: 'other' });
  });

  it('names the PDU in an ack request and reads the PDU an ack response names', () => {
    const pdu = { liid: 'LIID-9', cin: 12, seq: 4_000_000_000 };
    const request = codec.ackRequest(pdu);
    const response = Buffer.from(request);
    response[response.length - 2] = 0x8d; // tRIPayload [12] request -> [13] response, same header
    expect(codec.classify(request)).toEqual({ kind: 'other' });
    expect(codec.classify(response)).toEqual({ kind: 'ack', pdu });
  });
});
