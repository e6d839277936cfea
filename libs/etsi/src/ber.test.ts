import { describe, expect, it } from 'vitest';
import {
  BerWriter,
  CONTEXT,
  children,
  formatGeneralizedTime,
  formatUtcTime,
  oidContent,
  parseGeneralizedTime,
  parseLenientTime,
  parseUtcTime,
  readInteger,
  readOctets,
  readOid,
  readTlv,
  relOidContent,
  U,
  UNIVERSAL,
} from './ber.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function encodeInt(v: number | bigint): string {
  const w = new BerWriter(4);
  w.int(UNIVERSAL, U.INTEGER, v);
  return hex(w.finish());
}

describe('BerWriter', () => {
  it('writes minimal two-complement INTEGERs (X.690 8.3)', () => {
    expect(encodeInt(0)).toBe('020100');
    expect(encodeInt(127)).toBe('02017f');
    expect(encodeInt(128)).toBe('02020080');
    expect(encodeInt(256)).toBe('02020100');
    expect(encodeInt(0xffff_ffff)).toBe('020500ffffffff');
    expect(encodeInt(-1)).toBe('0201ff');
    expect(encodeInt(-128)).toBe('020180');
    expect(encodeInt(-129)).toBe('0202ff7f');
    expect(encodeInt(2n ** 64n - 1n)).toBe('020900ffffffffffffffff');
    expect(encodeInt(Number.MAX_SAFE_INTEGER)).toBe('02071fffffffffffff');
  });

  it('writes short and long definite lengths, growing its buffer', () => {
    for (const n of [0, 127, 128, 255, 256, 65535, 65536, 300_000]) {
      const w = new BerWriter(8);
      w.open(CONTEXT, 1);
      w.octets(UNIVERSAL, U.OCTET_STRING, Buffer.alloc(n, 7));
      w.end();
      const out = w.finish();
      const t = readTlv(out, 0, out.length);
      expect(t.next).toBe(out.length);
      const inner = children(out, t);
      expect(inner).toHaveLength(1);
      expect(readOctets(out, inner[0]!).length).toBe(n);
    }
    const w = new BerWriter();
    w.octets(CONTEXT, 0, Buffer.alloc(200));
    expect(hex(w.finish().subarray(0, 3))).toBe('8081c8');
  });

  it('writes high tag numbers (X.690 8.1.2.4)', () => {
    const w = new BerWriter();
    w.open(CONTEXT, 255);
    w.nul(CONTEXT, 31);
    w.end();
    const out = w.finish();
    expect(hex(out)).toBe('bf817f039f1f00');
    const t = readTlv(out, 0, out.length);
    expect(t.num).toBe(255);
    expect(children(out, t)[0]!.num).toBe(31);
  });

  it('encodes OIDs and RELATIVE-OIDs', () => {
    expect(hex(oidContent([0, 4, 0, 2, 2, 5, 1, 43]))).toBe('040002020501' + '2b');
    expect(hex(oidContent([2, 999, 3]))).toBe('8837' + '03');
    expect(hex(relOidContent([5, 3, 18, 1]))).toBe('05031201');
    expect(hex(relOidContent([300]))).toBe('822c');
    const w = new BerWriter();
    w.octets(UNIVERSAL, U.OID, oidContent([1, 2, 840, 113549]));
    const out = w.finish();
    expect(readOid(out, readTlv(out, 0, out.length))).toEqual([1, 2, 840, 113549]);
  });
});

describe('reader', () => {
  it('reads INTEGERs of every width back', () => {
    for (const v of [0, 1, 127, 128, -1, -129, 0xffff_ffff, 2 ** 40, -(2 ** 40), Number.MAX_SAFE_INTEGER]) {
      const w = new BerWriter();
      w.int(UNIVERSAL, U.INTEGER, v);
      const out = w.finish();
      expect(readInteger(out, readTlv(out, 0, out.length))).toBe(v);
    }
    const big = Buffer.from('020900ffffffffffffffff', 'hex');
    expect(readInteger(big, readTlv(big, 0, big.length))).toBe(2n ** 64n - 1n);
  });

  it('reads indefinite lengths and constructed OCTET STRINGs', () => {
    // A1 80 { 24 80 { 04 02 6869 04 01 21 } 00 00 } 00 00
    const b = Buffer.from('a1802480040268690401210000' + '0000', 'hex');
    const t = readTlv(b, 0, b.length);
    expect(t.next).toBe(15);
    const inner = children(b, t);
    expect(readOctets(b, inner[0]!).toString()).toBe('hi!');
  });

  it('rejects truncation, bad lengths and deep nesting with codes', () => {
    const cases: [string, string][] = [
      ['30', 'ETSI_ERR_TRUNCATED'],
      ['3005020100', 'ETSI_ERR_TRUNCATED'],
      ['04ff', 'ETSI_ERR_BAD_LENGTH'],
      ['0480', 'ETSI_ERR_BAD_LENGTH'],
      ['1f80', 'ETSI_ERR_BAD_TAG'],
      ['3080' + '3080'.repeat(60), 'ETSI_ERR_TOO_DEEP'],
    ];
    for (const [h, code] of cases) {
      const b = Buffer.from(h, 'hex');
      expect(() => readTlv(b, 0, b.length), h).toThrow(expect.objectContaining({ code }));
    }
  });
});

describe('time', () => {
  it('formats and parses GeneralizedTime with a trimmed fraction', () => {
    expect(formatGeneralizedTime(1_704_110_400_000_000)).toBe('20240101120000Z');
    expect(formatGeneralizedTime(1_704_110_400_123_000)).toBe('20240101120000.123Z');
    expect(formatGeneralizedTime(1_704_110_400_000_001)).toBe('20240101120000.000001Z');
    expect(formatGeneralizedTime(1_704_110_400_000_000, 60)).toBe('20240101130000+0100');
    expect(parseGeneralizedTime('20240101120000.123Z')).toEqual({ micros: 1_704_110_400_123_000 });
    expect(parseGeneralizedTime('20240101130000+0100')).toEqual({ micros: 1_704_110_400_000_000, offsetMinutes: 60 });
    expect(parseGeneralizedTime('2024010112Z')).toEqual({ micros: 1_704_110_400_000_000 });
    expect(parseGeneralizedTime('20241301120000Z')).toBeUndefined();
    expect(parseGeneralizedTime('garbage')).toBeUndefined();
  });

  it('reads a received time with a two-digit year, and a four-digit one as before', () => {
    expect(parseLenientTime('240101120000Z')).toEqual({ micros: 1_704_110_400_000_000 });
    expect(parseLenientTime('240101120000.123Z')).toEqual({ micros: 1_704_110_400_123_000 });
    expect(parseLenientTime('240101130000+0100')).toEqual({ micros: 1_704_110_400_000_000, offsetMinutes: 60 });
    expect(parseLenientTime('2401011200Z')).toEqual({ micros: 1_704_110_400_000_000 });
    expect(parseLenientTime('990101000000Z')).toEqual({ micros: Date.UTC(1999, 0, 1) * 1000 });
    expect(parseLenientTime('20240101120000.123Z')).toEqual({ micros: 1_704_110_400_123_000 });
    expect(parseLenientTime('2024010112Z')).toEqual({ micros: 1_704_110_400_000_000 });
    expect(parseLenientTime('241301129900Z')).toBeUndefined();
    expect(parseLenientTime('garbage')).toBeUndefined();
  });

  it('formats and parses UTCTime', () => {
    expect(formatUtcTime(1_704_110_400_999_999)).toBe('240101120000Z');
    expect(parseUtcTime('240101120000Z')).toBe(1_704_110_400_000_000);
    expect(parseUtcTime('990101000000Z')).toBe(Date.UTC(1999, 0, 1) * 1000);
  });
});
