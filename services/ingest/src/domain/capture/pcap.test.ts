import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { writePcap } from '../../testing/pcap-writer.ts';
import { type CapturedPacket, CaptureReader, LINKTYPE, readCapture } from './pcap.ts';

function chunked(b: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (b.length + 1)))].sort((x, y) => x - y);
  const out: Buffer[] = [];
  let at = 0;
  for (const p of points) {
    out.push(b.subarray(at, p));
    at = p;
  }
  out.push(b.subarray(at));
  return out;
}

function readAll(chunks: Buffer[]): { packets: CapturedPacket[]; error: unknown } {
  const r = new CaptureReader();
  const packets: CapturedPacket[] = [];
  let error: unknown = null;
  for (const c of chunks) {
    error = r.push(c, (p) => packets.push({ ...p, data: Buffer.from(p.data) }));
    if (error) break;
  }
  if (!error) error = r.end();
  return { packets, error };
}

/** A pcapng section by hand (little- or big-endian), following the pcapng draft block layouts. */
function pcapng(le: boolean, tsresol: number | null, pkts: { ts: bigint; data: Buffer }[]): Buffer {
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    le ? b.writeUInt32LE(n) : b.writeUInt32BE(n);
    return b;
  };
  const u16 = (n: number) => {
    const b = Buffer.alloc(2);
    le ? b.writeUInt16LE(n) : b.writeUInt16BE(n);
    return b;
  };
  const pad = (b: Buffer) => Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)]);
  const block = (type: number, body: Buffer) => {
    const len = 12 + body.length;
    return Buffer.concat([u32(type), u32(len), body, u32(len)]);
  };
  const shb = block(0x0a0d0d0a, Buffer.concat([u32(0x1a2b3c4d), u16(1), u16(0), Buffer.alloc(8, 0xff)]));
  const opts =
    tsresol === null ? Buffer.alloc(0) : Buffer.concat([u16(9), u16(1), pad(Buffer.from([tsresol])), u16(0), u16(0)]);
  const idb = block(1, Buffer.concat([u16(LINKTYPE.ETHERNET), u16(0), u32(65535), opts]));
  const nrb = block(4, Buffer.concat([u16(0), u16(0)])); // a block type the reader skips
  const epbs = pkts.map((p) =>
    block(
      6,
      Buffer.concat([
        u32(0),
        u32(Number(p.ts >> 32n)),
        u32(Number(p.ts & 0xffffffffn)),
        u32(p.data.length),
        u32(p.data.length),
        pad(p.data),
      ]),
    ),
  );
  return Buffer.concat([shb, idb, nrb, ...epbs]);
}

const packetArb = fc.record({
  tsMicros: fc.integer({ min: 0, max: 4_000_000_000 * 1_000_000 }),
  data: fc.uint8Array({ minLength: 0, maxLength: 300 }).map((a) => Buffer.from(a)),
});

describe('pcap reader', () => {
  it('reads back what the writer wrote, however the bytes are chunked', () => {
    fc.assert(
      fc.property(fc.array(packetArb, { maxLength: 20 }), fc.array(fc.nat(), { maxLength: 30 }), (pkts, cuts) => {
        const file = writePcap(LINKTYPE.ETHERNET, pkts);
        const { packets, error } = readAll(chunked(file, cuts));
        expect(error).toBeNull();
        expect(packets.map((p) => [p.tsMicros, p.data.toString('hex'), p.linkType])).toEqual(
          pkts.map((p) => [p.tsMicros, p.data.toString('hex'), LINKTYPE.ETHERNET]),
        );
      }),
      { numRuns: 200 },
    );
  });

  it('reads big-endian and nanosecond pcap headers', () => {
    const h = Buffer.alloc(24);
    h.writeUInt32BE(0xa1b23c4d, 0);
    h.writeUInt16BE(2, 4);
    h.writeUInt16BE(4, 6);
    h.writeUInt32BE(65535, 16);
    h.writeUInt32BE(LINKTYPE.LINUX_SLL2, 20);
    const rec = Buffer.alloc(16);
    rec.writeUInt32BE(10, 0);
    rec.writeUInt32BE(123_456_789, 4);
    rec.writeUInt32BE(3, 8);
    rec.writeUInt32BE(60, 12);
    const { packets, error } = readAll([Buffer.concat([h, rec, Buffer.from([1, 2, 3])])]);
    expect(error).toBeNull();
    expect(packets).toHaveLength(1);
    expect(packets[0]).toMatchObject({ tsMicros: 10_123_456, linkType: LINKTYPE.LINUX_SLL2, originalLength: 60 });
  });

  it('reads pcapng in both byte orders with if_tsresol, skipping unknown blocks', () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.constantFrom(null, 6, 9, 3),
        fc.array(fc.uint8Array({ maxLength: 100 }), { maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (le, resol, datas, cuts) => {
          const unitsPerMicro = resol === null ? 1 : 10 ** (resol - 6);
          const pkts = datas.map((d, i) => ({
            ts: BigInt(Math.round((1_700_000_000_000_000 + i * 1000) * unitsPerMicro)),
            data: Buffer.from(d),
          }));
          const { packets, error } = readAll(chunked(pcapng(le, resol, pkts), cuts));
          expect(error).toBeNull();
          expect(packets.map((p) => p.data.toString('hex'))).toEqual(pkts.map((p) => p.data.toString('hex')));
          packets.forEach((p, i) => {
            expect(Math.abs(p.tsMicros - (1_700_000_000_000_000 + i * 1000))).toBeLessThanOrEqual(1);
          });
        },
      ),
      { numRuns: 100 },
    );
  });

  it('reports a typed error for garbage, truncation and oversized records and never throws', () => {
    expect(readAll([Buffer.from('hello world, not a capture')]).error).toMatchObject({ code: 'ING_ERR_PCAP_FORMAT' });
    const file = writePcap(LINKTYPE.RAW, [{ tsMicros: 1, data: Buffer.alloc(50) }]);
    expect(readAll([file.subarray(0, file.length - 5)]).error).toMatchObject({ code: 'ING_ERR_PCAP_TRUNCATED' });
    const huge = Buffer.from(file);
    huge.writeUInt32LE(0x7fffffff, 24 + 8);
    expect(readAll([huge]).error).toMatchObject({ code: 'ING_ERR_PCAP_TOO_LARGE' });
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.boolean(), (junk, withHeader) => {
        const b = withHeader ? Buffer.concat([file.subarray(0, 24), Buffer.from(junk)]) : Buffer.from(junk);
        const ng = Buffer.concat([pcapng(true, 6, []).subarray(0, 28), Buffer.from(junk)]);
        for (const input of [b, ng]) {
          const r = readAll([input]);
          expect(r.error === null || typeof (r.error as { code: string }).code === 'string').toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('streams from an async iterable', async () => {
    const file = writePcap(LINKTYPE.ETHERNET, [
      { tsMicros: 5, data: Buffer.from('ab') },
      { tsMicros: 6, data: Buffer.from('cd') },
    ]);
    async function* gen() {
      for (let i = 0; i < file.length; i += 7) yield file.subarray(i, i + 7);
    }
    const seen: string[] = [];
    const r = await readCapture(gen(), (p) => seen.push(p.data.toString()));
    expect(r).toEqual({ ok: true, packets: 2 });
    expect(seen).toEqual(['ab', 'cd']);
  });
});
