import { describe, expect, it } from 'vitest';
import { formatIpPrefix, formatIpv6, parseIpAddress, parseIpPrefix, parseIpv4, parseIpv6 } from './ip.ts';

const v6 = (t: string) => {
  const b = parseIpv6(t);
  if (!b) throw new Error(`unparsed ${t}`);
  return formatIpv6(b);
};

describe('IPv4', () => {
  it('parses dotted quads and refuses junk and leading zeros', () => {
    expect([...(parseIpv4('192.0.2.1') ?? [])]).toEqual([192, 0, 2, 1]);
    for (const bad of ['256.1.1.1', '1.2.3', '1.2.3.4.5', '01.2.3.4', 'a.b.c.d', '1..2.3', '']) {
      expect(parseIpv4(bad)).toBeNull();
    }
  });
  it('reads the same as the dotted-quad grammar (four 0-255 octets, no leading zero)', async () => {
    const fc = (await import('fast-check')).default;
    const octet = /^(0|[1-9][0-9]{0,2})$/;
    const byGrammar = (t: string) => {
      const parts = t.split('.');
      if (parts.length !== 4 || !parts.every((p) => octet.test(p) && Number(p) <= 255)) return null;
      return parts.map(Number);
    };
    const text = fc.oneof(
      fc.stringMatching(/^[0-9.a]{0,16}$/),
      fc.array(fc.stringMatching(/^[0-9]{0,4}$/), { minLength: 3, maxLength: 5 }).map((a) => a.join('.')),
    );
    fc.assert(
      fc.property(text, (t) => {
        const got = parseIpv4(t);
        expect(got ? [...got] : null).toEqual(byGrammar(t));
      }),
      { numRuns: 5000 },
    );
    expect(parseIpv4('255.255.255.255')).toEqual(new Uint8Array([255, 255, 255, 255]));
    for (const bad of ['1.2.3.4.', '.1.2.3', '1.2.3.1000', '1.2.3.-4', ' 1.2.3.4']) expect(parseIpv4(bad)).toBeNull();
  });
  it('zeroes host bits of prefixes and writes /32 as an address', () => {
    expect(formatIpPrefix(parseIpPrefix('10.1.2.3/8', 4)!)).toBe('10.0.0.0/8');
    expect(formatIpPrefix(parseIpPrefix('192.0.2.77/27', 4)!)).toBe('192.0.2.64/27');
    expect(formatIpPrefix(parseIpPrefix('192.0.2.7/32', 4)!)).toBe('192.0.2.7');
    expect(formatIpPrefix(parseIpPrefix('0.0.0.0/0', 4)!)).toBe('0.0.0.0/0');
    expect(parseIpPrefix('1.2.3.4/33', 4)).toBeNull();
    expect(parseIpPrefix('1.2.3.4/', 4)).toBeNull();
  });
});

describe('IPv6 (RFC 5952)', () => {
  it('writes the canonical text form', () => {
    expect(v6('2001:0DB8:0000:0000:0000:0000:0000:0001')).toBe('2001:db8::1');
    expect(v6('2001:db8:0:0:1:0:0:1')).toBe('2001:db8::1:0:0:1'); // first of equal runs
    expect(v6('2001:db8:0:1:1:1:1:1')).toBe('2001:db8:0:1:1:1:1:1'); // single zero kept
    expect(v6('2001:db8:0:0:0:1:0:0')).toBe('2001:db8::1:0:0'); // longest run wins
    expect(v6('::')).toBe('::');
    expect(v6('::1')).toBe('::1');
    expect(v6('1::')).toBe('1::');
    expect(v6('::ffff:192.0.2.1')).toBe('::ffff:c000:201');
  });
  it('refuses malformed text', () => {
    for (const bad of [
      '1:2:3:4:5:6:7',
      '1::2::3',
      '12345::',
      ':1:2:3:4:5:6:7',
      'g::1',
      '1:2:3:4:5:6:7:8:9',
      '1:2:3:4:5:6:7::8',
    ]) {
      expect(parseIpv6(bad), bad).toBeNull();
    }
  });
  it('reads addresses of either family, drops zone, maps v4-mapped to v4', () => {
    expect(parseIpAddress('fe80::1%eth0')?.family).toBe(6);
    expect(parseIpAddress('[2001:db8::1]')?.family).toBe(6);
    const m = parseIpAddress('::ffff:198.51.100.9');
    expect(m?.family).toBe(4);
    expect([...(m?.bytes ?? [])]).toEqual([198, 51, 100, 9]);
  });
  it('stays strict where a lenient parser (ipaddr.js 2.5) would differ', () => {
    // IPv4-compatible (RFC 4291 2.5.5.1, deprecated) is not IPv4-mapped: it must not match an IPv4 target
    expect(parseIpAddress('::1.2.3.4')?.family).toBe(6);
    for (const bad of ['::ffff:010.0.0.1', '::ffff:01.2.3.4', '::ffff:0x1.2.3.4', '0000::00001.2.3.4']) {
      expect(parseIpAddress(bad), bad).toBeNull();
    }
  });
  it('masks v6 prefixes', () => {
    expect(formatIpPrefix(parseIpPrefix('2001:db8:abcd:12ff::1/52', 6)!)).toBe('2001:db8:abcd:1000::/52');
    expect(formatIpPrefix(parseIpPrefix('2001:db8::1/128', 6)!)).toBe('2001:db8::1');
  });
});

describe('IPv6 text round trip (property)', () => {
  it('format(parse(format(b))) is stable and parse(format(b)) == b for any address', async () => {
    const fc = (await import('fast-check')).default;
    // Bias towards zero groups so "::" placement is exercised.
    const word = fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff }));
    fc.assert(
      fc.property(fc.array(word, { minLength: 8, maxLength: 8 }), (words) => {
        const b = new Uint8Array(16);
        words.forEach((w, i) => {
          b[2 * i] = w >> 8;
          b[2 * i + 1] = w & 0xff;
        });
        const text = formatIpv6(b);
        const back = parseIpv6(text);
        return (
          back?.every((x, i) => x === b[i]) &&
          formatIpv6(back) === text &&
          (text.match(/::/g) ?? []).length <= 1 &&
          text === text.toLowerCase()
        );
      }),
      { numRuns: 2000 },
    );
  });
});
