import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fragmentIp, udpDatagram } from './build.ts';
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
          const defrag = new Defragmenter();
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
});
