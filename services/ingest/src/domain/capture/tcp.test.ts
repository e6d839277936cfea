import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DecodeProblem, Direction, FlowEndpoints, StreamDecoderFactory } from '../stream.ts';
import { TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN, type TcpHeader } from './packet.ts';
import { type TcpLimits, TcpReassembler } from './tcp.ts';

interface Recorded {
  flow: FlowEndpoints;
  data: Record<Direction, Buffer[]>;
  gaps: { dir: Direction; len: number }[];
  /** Byte stream with gaps filled by '?' markers of the gap length, per direction. */
  ended: number;
}

function recorder(fillGaps = true) {
  const flows: Recorded[] = [];
  const problems: DecodeProblem[] = [];
  const factory: StreamDecoderFactory = (flow) => {
    const r: Recorded = { flow, data: { toServer: [], toClient: [] }, gaps: [], ended: 0 };
    flows.push(r);
    return {
      data: (dir, b) => r.data[dir].push(Buffer.from(b)),
      gap: (dir, len) => {
        r.gaps.push({ dir, len });
        if (fillGaps) r.data[dir].push(Buffer.alloc(len, 0x3f));
      },
      end: () => {
        r.ended++;
      },
    };
  };
  const sink = { event: () => {}, problem: (p: DecodeProblem) => problems.push(p) };
  return { flows, problems, factory, sink };
}

const C = '10.0.0.1';
const S = '10.0.0.2';
const CP = 40000;
const SP = 5060;

function seg(
  fromClient: boolean,
  seq: number,
  flags: number,
  payload: Buffer = Buffer.alloc(0),
): [string, string, TcpHeader] {
  return fromClient
    ? [C, S, { srcPort: CP, dstPort: SP, seq: seq >>> 0, ack: 0, flags, payload }]
    : [S, C, { srcPort: SP, dstPort: CP, seq: seq >>> 0, ack: 0, flags, payload }];
}

function cut(data: Buffer, sizes: number[]): { off: number; data: Buffer }[] {
  const out: { off: number; data: Buffer }[] = [];
  let off = 0;
  let i = 0;
  while (off < data.length) {
    const n = Math.max(1, sizes[i++ % Math.max(1, sizes.length)] ?? 100);
    out.push({ off, data: data.subarray(off, off + n) });
    off += n;
  }
  return out;
}

const isnArb = fc.oneof(fc.nat({ max: 0xffffffff }), fc.integer({ min: 0xffffff00, max: 0xffffffff }));

describe('TCP reassembly', () => {
  it('reproduces both byte streams under random segmentation, reordering, duplication and overlap', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 4000 }),
        fc.uint8Array({ maxLength: 4000 }),
        isnArb,
        isnArb,
        fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 10 }),
        fc.array(fc.nat(), { maxLength: 100 }),
        fc.array(fc.tuple(fc.boolean(), fc.nat(), fc.integer({ min: 1, max: 900 })), { maxLength: 10 }),
        (c2s, s2c, isnC, isnS, sizes, shuffle, retrans) => {
          const up = Buffer.from(c2s);
          const down = Buffer.from(s2c);
          const { flows, factory, sink } = recorder();
          const r = new TcpReassembler({ factories: [factory], sink });
          const pkts: [string, string, TcpHeader][] = [];
          for (const p of cut(up, sizes)) pkts.push(seg(true, isnC + 1 + p.off, TCP_ACK, p.data));
          for (const p of cut(down, [...sizes].reverse())) pkts.push(seg(false, isnS + 1 + p.off, TCP_ACK, p.data));
          // Retransmissions that straddle original segment boundaries, same bytes.
          for (const [client, at, len] of retrans) {
            const src = client ? up : down;
            if (src.length === 0) continue;
            const o = at % src.length;
            pkts.push(seg(client, (client ? isnC : isnS) + 1 + o, TCP_ACK, src.subarray(o, o + len)));
          }
          pkts.push(seg(true, isnC + 1 + up.length, TCP_FIN | TCP_ACK));
          pkts.push(seg(false, isnS + 1 + down.length, TCP_FIN | TCP_ACK));
          for (let i = pkts.length - 1; i > 0; i--) {
            const j = (shuffle[i % Math.max(1, shuffle.length)] ?? 0) % (i + 1);
            [pkts[i], pkts[j]] = [pkts[j] as (typeof pkts)[0], pkts[i] as (typeof pkts)[0]];
          }
          r.segment(...seg(true, isnC, TCP_SYN), 0);
          r.segment(...seg(false, isnS, TCP_SYN | TCP_ACK), 1);
          let t = 2;
          for (const p of pkts) r.segment(p[0], p[1], p[2], t++);
          expect(flows).toHaveLength(1);
          const f = flows[0] as Recorded;
          expect(f.flow).toMatchObject({ clientAddress: C, clientPort: CP, serverAddress: S, serverPort: SP });
          expect(f.gaps).toEqual([]);
          expect(Buffer.concat(f.data.toServer).equals(up)).toBe(true);
          expect(Buffer.concat(f.data.toClient).equals(down)).toBe(true);
          expect(f.ended).toBe(1);
          expect(r.flowCount).toBe(0);
          expect(r.bufferedBytes).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('declares a gap once the hole exceeds the buffer limit, then goes on', () => {
    const { flows, factory, sink } = recorder();
    const r = new TcpReassembler({ factories: [factory], sink, limits: { maxBufferedBytesPerDirection: 250 } });
    r.segment(...seg(true, 1000, TCP_SYN), 0);
    const data = Buffer.from('x'.repeat(1000));
    for (const p of cut(data, [100])) {
      if (p.off === 200) continue; // never captured
      r.segment(...seg(true, 1001 + p.off, TCP_ACK, p.data), 1);
    }
    const f = flows[0] as Recorded;
    expect(f.gaps).toEqual([{ dir: 'toServer', len: 100 }]);
    expect(Buffer.concat(f.data.toServer)).toHaveLength(1000);
    expect(r.counters.gaps).toBe(1);
  });

  it('declares a gap after the gap timeout via expire()', () => {
    const { flows, factory, sink } = recorder();
    const r = new TcpReassembler({ factories: [factory], sink, limits: { gapTimeoutMicros: 1000 } });
    r.segment(...seg(true, 0, TCP_SYN), 0);
    r.segment(...seg(true, 1, TCP_ACK, Buffer.from('abc')), 10);
    r.segment(...seg(true, 10, TCP_ACK, Buffer.from('xyz')), 20);
    const f = flows[0] as Recorded;
    expect(Buffer.concat(f.data.toServer).toString()).toBe('abc');
    r.expire(5000);
    expect(f.gaps).toEqual([{ dir: 'toServer', len: 6 }]);
    expect(Buffer.concat(f.data.toServer).toString()).toBe('abc??????xyz');
  });

  it('keeps the first bytes seen when overlapping segments disagree', () => {
    const { flows, factory, sink } = recorder();
    const r = new TcpReassembler({ factories: [factory], sink });
    r.segment(...seg(true, 0, TCP_SYN), 0);
    r.segment(...seg(true, 5, TCP_ACK, Buffer.from('AAAA')), 1);
    r.segment(...seg(true, 3, TCP_ACK, Buffer.from('BBBBBBBB')), 2);
    r.segment(...seg(true, 1, TCP_ACK, Buffer.from('cc')), 3);
    r.segment(...seg(true, 1, TCP_ACK, Buffer.from('ZZZ')), 4); // late retransmission, different bytes
    expect(Buffer.concat((flows[0] as Recorded).data.toServer).toString()).toBe('ccBBAAAABB');
    expect(r.counters.overlapBytes).toBe(4);
    expect(r.counters.retransmittedBytes).toBe(3);
  });

  it('picks up a flow mid-stream and takes the well-known port as the server', () => {
    const { flows, factory, sink } = recorder();
    const r = new TcpReassembler({ factories: [factory], sink });
    // First packet seen is the server's answer.
    r.segment(...seg(false, 0xfffffffe, TCP_ACK, Buffer.from('SIP/2.0 200 OK\r\n')), 0);
    r.segment(...seg(true, 77, TCP_ACK, Buffer.from('ACK ')), 1);
    const f = flows[0] as Recorded;
    expect(f.flow).toMatchObject({ clientPort: CP, serverPort: SP });
    expect(Buffer.concat(f.data.toClient).toString()).toBe('SIP/2.0 200 OK\r\n');
    expect(Buffer.concat(f.data.toServer).toString()).toBe('ACK ');
    expect(r.counters.midStreamPickups).toBe(1);
  });

  it('ends flows on RST, on idle timeout and when the flow table is full', () => {
    const { flows, factory, sink } = recorder();
    const limits: Partial<TcpLimits> = { maxFlows: 4, idleTimeoutMicros: 1000 };
    const r = new TcpReassembler({ factories: [factory], sink, limits });
    r.segment(...seg(true, 0, TCP_SYN), 0);
    r.segment(...seg(false, 0, TCP_RST), 1);
    expect((flows[0] as Recorded).ended).toBe(1);
    expect(r.flowCount).toBe(0);
    for (let i = 0; i < 10; i++) {
      r.segment(
        '10.9.9.9',
        S,
        { srcPort: 2000 + i, dstPort: SP, seq: 0, ack: 0, flags: TCP_SYN, payload: Buffer.alloc(0) },
        10,
      );
    }
    expect(r.flowCount).toBe(4);
    expect(r.counters.flowsEvictedForRoom).toBe(6);
    r.expire(5000);
    expect(r.flowCount).toBe(0);
    expect(r.counters.flowsIdleTimedOut).toBe(4);
    expect(flows.every((f) => f.ended === 1)).toBe(true);
  });

  it('bounds memory under random hostile segments and never throws', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            client: fc.boolean(),
            port: fc.integer({ min: 1, max: 4 }),
            seq: fc.nat({ max: 0xffffffff }),
            flags: fc.integer({ min: 0, max: 0x3f }),
            len: fc.integer({ min: 0, max: 3000 }),
          }),
          { maxLength: 200 },
        ),
        (segs) => {
          const { factory, sink } = recorder(false);
          const limits = {
            maxFlows: 3,
            maxBufferedBytesPerDirection: 5000,
            maxBufferedBytesTotal: 12000,
            maxSegmentsPerDirection: 8,
          };
          const r = new TcpReassembler({ factories: [factory], sink, limits });
          let t = 0;
          for (const s of segs) {
            const [a, b, h] = seg(s.client, s.seq, s.flags, Buffer.alloc(s.len, 1));
            h.srcPort += s.client ? s.port : 0;
            h.dstPort += s.client ? 0 : s.port;
            t += 10;
            r.segment(a, b, h, t);
            expect(r.flowCount).toBeLessThanOrEqual(3);
            expect(r.bufferedBytes).toBeLessThanOrEqual(12000);
          }
          r.endAll(t);
          expect(r.bufferedBytes).toBe(0);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('starts a new flow when the 4-tuple is reused with a new ISN', () => {
    const { flows, factory, sink } = recorder();
    const r = new TcpReassembler({ factories: [factory], sink });
    r.segment(...seg(true, 100, TCP_SYN), 0);
    r.segment(...seg(true, 101, TCP_ACK, Buffer.from('one')), 1);
    r.segment(...seg(true, 100, TCP_SYN), 2); // retransmitted SYN: same connection
    r.segment(...seg(true, 900000, TCP_SYN), 3);
    r.segment(...seg(true, 900001, TCP_ACK, Buffer.from('two')), 4);
    expect(flows.map((f) => [Buffer.concat(f.data.toServer).toString(), f.ended, f.gaps.length])).toEqual([
      ['one', 1, 0],
      ['two', 0, 0],
    ]);
  });

  it('follows flows no decoder wants to their end without buffering', () => {
    const sink = { event: () => {}, problem: () => {} };
    const r = new TcpReassembler({ factories: [() => null], sink });
    r.segment(...seg(true, 0, TCP_SYN), 0);
    r.segment(...seg(true, 50, TCP_ACK, Buffer.alloc(1000)), 1); // out of order: would be buffered
    expect(r.bufferedBytes).toBe(0);
    r.segment(...seg(true, 1, TCP_FIN | TCP_ACK), 2);
    r.segment(...seg(false, 0, TCP_FIN | TCP_ACK), 3);
    expect(r.flowCount).toBe(0);
    expect(r.counters).toMatchObject({ flowsWithoutDecoder: 1, flowsEnded: 1, gaps: 0 });
  });
});
