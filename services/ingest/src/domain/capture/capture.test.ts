import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ethernet, fragmentIp, ipPacket, linuxSll, udpDatagram } from '../../testing/packets.ts';
import { invite, response } from '../../testing/sip-messages.ts';
import { syntheticSipPcap } from '../../testing/synthetic.ts';
import { sipDatagramHandler, sipStreamFactory } from '../sip/decoder.ts';
import type { DecodedEvent, DecodeProblem } from '../stream.ts';
import { createCapture } from './capture.ts';
import { type CapturedPacket, CaptureReader, LINKTYPE } from './pcap.ts';

function pipeline() {
  const events: DecodedEvent[] = [];
  const problems: DecodeProblem[] = [];
  const sink = { event: (e: DecodedEvent) => events.push(e), problem: (p: DecodeProblem) => problems.push(p) };
  const cap = createCapture({ factories: [sipStreamFactory()], onDatagram: sipDatagramHandler(sink), sink });
  return { events, problems, cap };
}

describe('capture pipeline', () => {
  it('decodes SIP calls over TCP and UDP from a pcap', () => {
    const { pcap, messages } = syntheticSipPcap({ calls: 20, mss: 300, udpEvery: 4 });
    const { events, problems, cap } = pipeline();
    const err = new CaptureReader().push(pcap, (p) => cap.packet(p));
    cap.end();
    expect(err).toBeNull();
    expect(problems).toEqual([]);
    expect(events).toHaveLength(messages);
    const call7 = events.filter((e) => e.communicationId === 'call-7@synthetic');
    expect(call7.map((e) => e.action)).toEqual([
      'sip.invite',
      'sip.response',
      'sip.response',
      'sip.response',
      'sip.ack',
      'sip.bye',
      'sip.response',
    ]);
    expect(call7[0]?.network).toEqual({
      transport: 'tcp',
      srcAddress: '10.0.0.7',
      srcPort: 10007,
      dstAddress: '192.0.2.1',
      dstPort: 5060,
    });
    expect(events.find((e) => e.communicationId === 'call-8@synthetic')?.network?.transport).toBe('udp');
    const s = cap.stats();
    expect(s.tcp.flowsCreated).toBe(15);
    expect(s.tcp.flowsEnded).toBe(15);
    expect(s.tcp.gaps).toBe(0);
  });

  it('handles IPv6 over QinQ, Linux cooked capture and fragmented UDP', () => {
    const { events, problems, cap } = pipeline();
    const v6 = ipPacket(
      '2001:db8::1',
      '2001:db8::2',
      17,
      udpDatagram({
        src: '2001:db8::1',
        dst: '2001:db8::2',
        srcPort: 5060,
        dstPort: 5060,
        payload: response(180, 'Ringing'),
      }),
    );
    cap.packet({ tsMicros: 1, linkType: LINKTYPE.ETHERNET, data: ethernet(v6, [10, 20]), originalLength: 0 });
    const big = invite({ callId: 'frag', body: 'a=x\r\n'.repeat(800) });
    const l4 = udpDatagram({ src: '10.0.0.1', dst: '10.0.0.2', srcPort: 5060, dstPort: 5060, payload: big });
    const frags = fragmentIp('10.0.0.1', '10.0.0.2', 17, l4, 1480, 42);
    for (const f of frags.reverse())
      cap.packet({ tsMicros: 2, linkType: LINKTYPE.LINUX_SLL, data: linuxSll(f), originalLength: 0 });
    const v6frags = fragmentIp(
      '2001:db8::1',
      '2001:db8::2',
      17,
      udpDatagram({ src: '2001:db8::1', dst: '2001:db8::2', srcPort: 5060, dstPort: 5060, payload: big }),
      1232,
      7,
    );
    for (const f of v6frags) cap.packet({ tsMicros: 3, linkType: LINKTYPE.RAW, data: f, originalLength: 0 });
    expect(problems).toEqual([]);
    expect(events.map((e) => [e.action, e.network?.srcAddress])).toEqual([
      ['sip.response', '2001:db8::1'],
      ['sip.invite', '10.0.0.1'],
      ['sip.invite', '2001:db8::1'],
    ]);
    expect(events[1]?.content?.equals(big)).toBe(true);
    expect(cap.stats().defrag.reassembled).toBe(2);
  });

  it('counts and reports malformed packets without throwing', () => {
    const { problems, cap } = pipeline();
    cap.packet({ tsMicros: 1, linkType: LINKTYPE.ETHERNET, data: Buffer.alloc(5), originalLength: 5 });
    cap.packet({ tsMicros: 2, linkType: LINKTYPE.RAW, data: Buffer.from([0x45, 0, 0]), originalLength: 3 });
    cap.packet({ tsMicros: 3, linkType: 12345, data: Buffer.alloc(40), originalLength: 40 });
    const s = cap.stats();
    expect(s.malformed).toBe(3);
    expect(Object.keys(s.malformedByCode).sort()).toEqual([
      'ING_ERR_IP_SHORT',
      'ING_ERR_LINK_SHORT',
      'ING_ERR_LINK_TYPE',
    ]);
    expect(problems).toHaveLength(3);
  });

  it('gives the same SIP events when packets are locally reordered and duplicated', () => {
    const { pcap, messages } = syntheticSipPcap({ calls: 3, mss: 120 });
    const packets: CapturedPacket[] = [];
    new CaptureReader().push(pcap, (p) => packets.push(p));
    fc.assert(
      fc.property(
        fc.array(fc.nat({ max: 4 }), { maxLength: 400 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        (moves, dups) => {
          const order = [...packets];
          // Bounded displacement, like a mirror port or multi-queue NIC reorders. Handshakes stay in
          // place: data cannot overtake the SYN a whole round trip earlier.
          const isSyn = (p: CapturedPacket) => p.data[14 + 9] === 6 && ((p.data[14 + 20 + 13] as number) & 0x02) !== 0;
          moves.forEach((m, i) => {
            const k = i % order.length;
            const j = Math.min(order.length - 1, k + m);
            if (order.slice(k, j + 1).some(isSyn)) return;
            [order[k], order[j]] = [order[j] as CapturedPacket, order[k] as CapturedPacket];
          });
          for (const d of dups) order.splice((d % order.length) + 1, 0, order[d % order.length] as CapturedPacket);
          const { events, problems, cap } = pipeline();
          for (const p of order) cap.packet(p);
          cap.end();
          expect(problems).toEqual([]);
          const key = (e: DecodedEvent) =>
            `${e.communicationId} ${e.action} ${e.attributes.status ?? ''} ${e.content?.length}`;
          const ref = pipeline();
          for (const p of packets) ref.cap.packet(p);
          ref.cap.end();
          expect(ref.events).toHaveLength(messages);
          expect(events.map(key).sort()).toEqual(ref.events.map(key).sort());
        },
      ),
      { numRuns: 100 },
    );
  });

  it('never throws on random or mutated frames and keeps its tables bounded', () => {
    const { pcap } = syntheticSipPcap({ calls: 2, mss: 200 });
    const real: CapturedPacket[] = [];
    new CaptureReader().push(pcap, (p) => real.push(p));
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc
              .record({ lt: fc.constantFrom(0, 1, 101, 113, 276), bytes: fc.uint8Array({ maxLength: 200 }) })
              .map(({ lt, bytes }) => ({ tsMicros: 1, linkType: lt, data: Buffer.from(bytes), originalLength: 0 })),
            fc
              .tuple(fc.nat(), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }))
              .map(([i, muts]) => {
                const p = real[i % real.length] as CapturedPacket;
                const data = Buffer.from(p.data);
                for (const [at, v] of muts) data[at % data.length] = v;
                return { ...p, data };
              }),
          ),
          { maxLength: 120 },
        ),
        (frames) => {
          const { cap } = pipeline();
          for (const f of frames) cap.packet(f);
          cap.end();
          const s = cap.stats();
          expect(s.packets).toBe(frames.length);
          expect(s.tcp.flowsCreated).toBe(s.tcp.flowsEnded);
        },
      ),
      { numRuns: 200 },
    );
  });
});
