import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fragmentIp, udpDatagram } from '../../testing/packets.ts';
import { Defragmenter } from './defrag.ts';
import { type IpPacket, parseIp } from './packet.ts';

function fragments(src: string, dst: string, payload: Buffer, size: number, id: number): IpPacket[] {
  const l4 = udpDatagram({ src, dst, srcPort: 5060, dstPort: 5060, payload });
  return fragmentIp(src, dst, 17, l4, size, id).map((b) => {
    const r = parseIp(b);
    if (!r.ok) throw new Error(r.reason);
    return r.packet;
  });
}

describe('IP defragmentation', () => {
  it('reassembles v4 and v6 fragments in any order with duplicates', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 3000 }),
        fc.integer({ min: 1, max: 40 }).map((n) => n * 8),
        fc.boolean(),
        fc.array(fc.nat(), { maxLength: 60 }),
        fc.array(fc.nat(), { maxLength: 5 }),
        (data, size, v6, order, dups) => {
          const [src, dst] = v6 ? ['2001:db8::1', '2001:db8::2'] : ['10.1.1.1', '10.2.2.2'];
          const frags = fragments(src, dst, Buffer.from(data), size, 77);
          const seq = [...frags];
          for (let i = seq.length - 1; i > 0; i--) {
            const j = (order[i] ?? 0) % (i + 1);
            [seq[i], seq[j]] = [seq[j] as IpPacket, seq[i] as IpPacket];
          }
          for (const d of dups) seq.splice(d % (seq.length + 1), 0, frags[d % frags.length] as IpPacket);
          // Up to 375 eight-octet fragments plus duplicates: above the default per-datagram cap.
          const defrag = new Defragmenter({ maxFragmentsPerDatagram: 1000 });
          let whole: IpPacket | null = null;
          for (const f of seq) {
            const r = defrag.add(f, 1);
            if (r && f.fragment) whole = r;
          }
          if (frags.length === 1) return; // a single "fragment" is not fragmented
          expect(whole).not.toBeNull();
          expect(whole?.payload.subarray(8).equals(Buffer.from(data))).toBe(true);
          expect(whole?.protocol).toBe(17);
          // Late duplicates may open a new (never complete) datagram; the timeout clears it.
          defrag.expire(60_000_000);
          expect(defrag.bytesHeld).toBe(0);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('drops incomplete datagrams after the timeout and evicts under memory pressure', () => {
    const d = new Defragmenter({ timeoutMicros: 1000, maxBytes: 2000, maxDatagrams: 3 });
    const a = fragments('10.0.0.1', '10.0.0.2', Buffer.alloc(1000, 1), 400, 1);
    d.add(a[0] as IpPacket, 0);
    expect(d.datagramsHeld).toBe(1);
    d.expire(5000);
    expect(d.datagramsHeld).toBe(0);
    expect(d.counters.timedOut).toBe(1);
    for (let id = 10; id < 20; id++)
      d.add(fragments('10.0.0.1', '10.0.0.2', Buffer.alloc(1000), 400, id)[0] as IpPacket, 0);
    expect(d.datagramsHeld).toBeLessThanOrEqual(3);
    expect(d.bytesHeld).toBeLessThanOrEqual(2000);
    expect(d.counters.evicted).toBeGreaterThan(0);
  });

  it('keeps the first copy of overlapping bytes', () => {
    const d = new Defragmenter();
    const [f0, f1] = fragments('10.0.0.1', '10.0.0.2', Buffer.alloc(32, 0x41), 24, 9) as [IpPacket, IpPacket];
    const evil: IpPacket = {
      ...f1,
      payload: Buffer.alloc(f1.payload.length, 0x42),
      fragment: { id: 9, offset: 16, more: true },
    };
    expect(d.add(evil, 0)).toBeNull();
    const whole = d.add(f0, 0);
    expect(whole).toBeNull(); // still missing the tail
    const done = d.add(f1, 0);
    expect(done?.payload.subarray(16, 24).every((x) => x === 0x42)).toBe(true);
    expect(d.counters.overlapBytes).toBeGreaterThan(0);
  });

  it('reassembles 8000 eight-octet fragments in hostile orders with n log n work', () => {
    const data = Buffer.alloc(64_000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
    const frags = fragments('10.0.0.1', '10.0.0.2', data, 8, 5);
    const n = frags.length;
    expect(n).toBeGreaterThan(8000);
    const reversed = [...frags].reverse();
    // Every other fragment first, then the ones between: each fills a hole among thousands.
    const interleaved = [...frags.filter((_, i) => i % 2 === 0), ...frags.filter((_, i) => i % 2 === 1)];
    // A large fragment overlapping everything, then all the small ones again (all duplicates).
    const cover: IpPacket = { ...(frags[0] as IpPacket), payload: Buffer.alloc(8 * 4000, 0x55) };
    const covered = [cover, ...frags];
    for (const order of [reversed, interleaved, covered]) {
      const d = new Defragmenter({ maxFragmentsPerDatagram: 10_000 });
      let whole: IpPacket | null = null;
      for (const f of order) whole = d.add(f, 0) ?? whole;
      expect(whole).not.toBeNull();
      if (order !== covered) expect(whole?.payload.subarray(8).equals(data)).toBe(true);
      expect(d.bytesHeld).toBe(0);
      // A pass over every held piece per fragment would take n²/2 ≈ 32 million steps.
      expect(d.steps).toBeLessThanOrEqual(20 * n);
    }
  });

  it('drops a datagram with more fragments than the cap, duplicates included, and counts it', () => {
    const d = new Defragmenter({ maxFragmentsPerDatagram: 16 });
    const frags = fragments('10.0.0.1', '10.0.0.2', Buffer.alloc(400, 3), 16, 6);
    expect(frags.length).toBeGreaterThan(16);
    let whole: IpPacket | null = null;
    for (const f of frags.slice(0, 16)) whole = d.add(f, 0) ?? whole;
    expect(d.counters.tooManyFragments).toBe(0);
    // A peer repeating one fragment cannot keep a datagram alive past the cap.
    for (let i = 0; i < 100; i++) whole = d.add(frags[1] as IpPacket, 0) ?? whole;
    expect(d.counters.tooManyFragments).toBeGreaterThanOrEqual(1);
    for (const f of frags.slice(16)) whole = d.add(f, 0) ?? whole;
    expect(whole).toBeNull();
    // Within the cap the same datagram reassembles.
    const ok = new Defragmenter({ maxFragmentsPerDatagram: frags.length });
    let done: IpPacket | null = null;
    for (const f of frags) done = ok.add(f, 0) ?? done;
    expect(done?.payload.length).toBe(408);
  });
});
