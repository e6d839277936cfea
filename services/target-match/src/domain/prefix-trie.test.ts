import { parseIpPrefix } from '@li/identifiers';
import { describe, expect, it } from 'vitest';
import { PrefixTrie } from './prefix-trie.ts';

const p4 = (t: string) => parseIpPrefix(t, 4)!;
const p6 = (t: string) => parseIpPrefix(t, 6)!;

function matches<V>(trie: PrefixTrie<V>, bytes: Uint8Array): V[] {
  const out: V[] = [];
  trie.forEachMatch(bytes, (v) => out.push(v));
  return out;
}

describe('PrefixTrie', () => {
  it('returns every nested prefix containing the address, shortest first', () => {
    const t = new PrefixTrie<string>(32, 2); // tiny start size exercises growth
    for (const [pfx, v] of [
      ['10.0.0.0/8', 'a'],
      ['10.1.0.0/16', 'b'],
      ['10.1.2.0/24', 'c'],
      ['10.2.0.0/16', 'd'],
      ['0.0.0.0/0', 'all'],
    ] as const) {
      const p = p4(pfx);
      t.add(p.bytes, p.length, v);
    }
    expect(matches(t, p4('10.1.2.3').bytes)).toEqual(['all', 'a', 'b', 'c']);
    expect(matches(t, p4('10.2.9.9').bytes)).toEqual(['all', 'a', 'd']);
    expect(matches(t, p4('11.0.0.1').bytes)).toEqual(['all']);
  });
  it('removes one value without disturbing others on the same prefix', () => {
    const t = new PrefixTrie<string>(128);
    const p = p6('2001:db8::/32');
    t.add(p.bytes, p.length, 'x');
    t.add(p.bytes, p.length, 'y');
    t.remove(p.bytes, p.length, 'x');
    expect(matches(t, p6('2001:db8:1::5').bytes)).toEqual(['y']);
    expect(matches(t, p6('2001:db9::5').bytes)).toEqual([]);
    t.remove(p.bytes, p.length, 'y');
    expect(matches(t, p6('2001:db8:1::5').bytes)).toEqual([]);
  });
});

describe('PrefixTrie against a linear reference (property)', () => {
  it('returns exactly the prefixes that contain the address', async () => {
    const fc = (await import('fast-check')).default;
    const { maskBytes } = await import('@li/identifiers');
    const prefix = fc.record({ a: fc.integer({ min: 0, max: 0xffffffff }), len: fc.integer({ min: 0, max: 32 }) });
    const bytesOf = (n: number) => new Uint8Array([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
    const contains = (p: { a: number; len: number }, addr: number) =>
      p.len === 0 || p.a >>> (32 - p.len) === addr >>> (32 - p.len);
    fc.assert(
      fc.property(
        fc.array(prefix, { maxLength: 40 }),
        fc.array(fc.integer({ min: 0, max: 0xffffffff }), { maxLength: 20 }),
        (ps, addrs) => {
          const t = new PrefixTrie<number>(32, 4);
          for (const [i, p] of ps.entries()) t.add(maskBytes(bytesOf(p.a), p.len), p.len, i);
          // Also probe addresses inside the prefixes, not only random ones.
          const probes = [...addrs, ...ps.map((p) => p.a)];
          for (const addr of probes) {
            const got = matches(t, bytesOf(addr)).sort((x, y) => x - y);
            const want = ps.map((p, i) => (contains(p, addr) ? i : -1)).filter((i) => i >= 0);
            if (JSON.stringify(got) !== JSON.stringify(want)) return false;
          }
          return true;
        },
      ),
      { numRuns: 300 },
    );
  });
});
