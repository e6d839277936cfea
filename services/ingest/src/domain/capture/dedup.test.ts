import { describe, expect, it } from 'vitest';
import { collector } from '../../testing/decoder-kit.ts';
import { ethernet, ipPacket, udpDatagram } from '../../testing/packets.ts';
import { writePcap } from '../../testing/pcap-writer.ts';
import { invite } from '../../testing/sip-messages.ts';
import { sipDatagramHandler } from '../sip/decoder.ts';
import { createCapture } from './capture.ts';
import { Deduplicator } from './dedup.ts';
import { CaptureReader, LINKTYPE } from './pcap.ts';

function sipPacket(callId: string, ipId: number): Buffer {
  const l4 = udpDatagram({
    src: '10.0.0.1',
    dst: '10.0.0.2',
    srcPort: 5060,
    dstPort: 5060,
    payload: invite({ callId }),
  });
  const ip = ipPacket('10.0.0.1', '10.0.0.2', 17, l4);
  ip.writeUInt16BE(ipId, 4);
  return ip;
}

describe('packets a mirror delivers twice', () => {
  it('are decoded once when they come again within the window, and counted', () => {
    const t0 = 1_700_000_000_000_000;
    const a = sipPacket('dup-a', 100);
    const hopLater = Buffer.from(a);
    hopLater[8] = 63; // the copy from one hop further on: TTL and checksum differ
    hopLater.writeUInt16BE(0x1234, 10);
    const v6 = ipPacket(
      '2001:db8::1',
      '2001:db8::2',
      17,
      udpDatagram({
        src: '2001:db8::1',
        dst: '2001:db8::2',
        srcPort: 5060,
        dstPort: 5060,
        payload: invite({ callId: 'dup-v6' }),
      }),
    );
    const pcap = writePcap(LINKTYPE.ETHERNET, [
      { tsMicros: t0, data: ethernet(a) },
      { tsMicros: t0 + 5, data: ethernet(a) }, // the same frame again
      { tsMicros: t0 + 9, data: ethernet(hopLater) },
      { tsMicros: t0 + 10, data: ethernet(sipPacket('dup-a', 101)) }, // a new IP ID: a new packet
      { tsMicros: t0 + 20, data: ethernet(v6) },
      { tsMicros: t0 + 30, data: ethernet(v6, [7]) }, // the same IPv6 packet seen on another VLAN
      { tsMicros: t0 + 200_000, data: ethernet(a) }, // long after: sent again, not a copy
    ]);
    const sink = collector();
    const cap = createCapture({ factories: [], onDatagram: sipDatagramHandler(sink), sink });
    expect(new CaptureReader().push(pcap, (p) => cap.packet(p))).toBeNull();
    cap.end();
    expect(sink.problems).toEqual([]);
    expect(sink.events.map((e) => e.communicationId)).toEqual(['dup-a', 'dup-a', 'dup-v6', 'dup-a']);
    expect(cap.stats().dedup.duplicates).toBe(3);
    expect(cap.stats().packets).toBe(7);
  });

  it('decodes every copy when turned off', () => {
    const sink = collector();
    const cap = createCapture({
      factories: [],
      onDatagram: sipDatagramHandler(sink),
      sink,
      limits: { dedup: { windowMicros: 0 } },
    });
    const a = ethernet(sipPacket('x', 1));
    for (const ts of [1, 2]) cap.packet({ tsMicros: ts, linkType: LINKTYPE.ETHERNET, data: a, originalLength: 0 });
    expect(sink.events).toHaveLength(2);
  });

  it('keeps its memory within bounds whatever the traffic', () => {
    const d = new Deduplicator({ windowMicros: 1_000_000, maxEntries: 100, maxBytes: 20_000 });
    const pkts: Buffer[] = [];
    for (let i = 0; i < 5000; i++) {
      const p = sipPacket(`m-${i}`, i & 0xffff);
      pkts.push(p);
      expect(d.seen(p, i)).toBe(false);
      expect(d.bytes).toBeLessThanOrEqual(20_000);
    }
    expect(d.counters.evicted).toBeGreaterThan(4800);
    // The newest are still recognised, the evicted ones are not.
    expect(d.seen(pkts[4999] as Buffer, 5000)).toBe(true);
    expect(d.seen(pkts[0] as Buffer, 5001)).toBe(false);
  });
});
