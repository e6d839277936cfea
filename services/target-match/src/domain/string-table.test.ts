import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hashString, StringTable } from './string-table.ts';

type Op = { kind: 'set'; key: string; value: number } | { kind: 'delete'; key: string } | { kind: 'get'; key: string };

const key = fc.string({ maxLength: 4, unit: fc.constantFrom('a', 'b', 'c', 'é', '\u0000') });
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), key, value: fc.integer() }),
  fc.record({ kind: fc.constant('delete' as const), key }),
  fc.record({ kind: fc.constant('get' as const), key }),
);

/** Applies ops to a StringTable and a Map alike; every answer and the sizes must agree. */
function agreesWithMap(ops: readonly Op[], table: StringTable<number>): void {
  const map = new Map<string, number>();
  for (const o of ops) {
    if (o.kind === 'set') {
      table.set(o.key, o.value);
      map.set(o.key, o.value);
    } else if (o.kind === 'delete') {
      expect(table.delete(o.key)).toBe(map.delete(o.key));
    } else {
      expect(table.get(o.key)).toBe(map.get(o.key));
      expect(table.has(o.key)).toBe(map.has(o.key));
    }
    expect(table.size).toBe(map.size);
  }
  for (const [k, v] of map) expect(table.get(k)).toBe(v);
}

describe('StringTable', () => {
  it('answers as a Map does, with its own hash', () => {
    fc.assert(fc.property(fc.array(op, { maxLength: 300 }), (ops) => agreesWithMap(ops, new StringTable())));
  });

  it('answers as a Map does when keys collide in few slots (deletion moves the runs back)', () => {
    // Four hashes, two homed in the table's last slots whatever its size, two in its first
    // (0 is stored as 1): long runs that wrap round the end, shifted back across it.
    const colliding = (s: string) => [0, 1, -1, -2][s.length % 4]!;
    fc.assert(fc.property(fc.array(op, { maxLength: 300 }), (ops) => agreesWithMap(ops, new StringTable(colliding))));
  });

  it('finds a key whose run wrapped round the table end after an earlier key of the run left', () => {
    // a in the last slot but one, b in the last, c (homed with b) wrapped to the first slot.
    const hashes: Record<string, number> = { a: -2, b: -1, c: -1 };
    const t = new StringTable<number>((s) => hashes[s]!);
    t.set('a', 1).set('b', 2).set('c', 3);
    expect(t.delete('a')).toBe(true);
    expect([t.get('a'), t.get('b'), t.get('c')]).toEqual([undefined, 2, 3]);
  });

  it('keeps every key through growth and deletion of half of them', () => {
    const t = new StringTable<number>();
    const n = 20_000;
    for (let i = 0; i < n; i++) t.set(`e164|+39${i}`, i);
    let deleted = 0;
    for (let i = 0; i < n; i += 2) if (t.delete(`e164|+39${i}`)) deleted++;
    expect([deleted, t.size]).toEqual([n / 2, n / 2]);
    const wrong: number[] = [];
    for (let i = 0; i < n; i++) if (t.get(`e164|+39${i}`) !== (i % 2 === 0 ? undefined : i)) wrong.push(i);
    expect(wrong).toEqual([]);
  });

  it('tells keys of equal text apart from their hash only by their text', () => {
    const t = new StringTable<number>(() => 7);
    t.set('a', 1).set('b', 2);
    expect([t.get('a'), t.get('b'), t.get('c')]).toEqual([1, 2, undefined]);
    // A key built at run time (a cons string) finds the literal's entry.
    expect(t.get(['a'].join(''))).toBe(1);
  });

  it('hashes by seed and text', () => {
    expect(hashString('e164|+390612345678', 1)).toBe(hashString(`e164|${'+39061234'}${'5678'}`, 1));
    expect(hashString('e164|+390612345678', 1)).not.toBe(hashString('e164|+390612345678', 2));
    expect(hashString('ab', 1)).not.toBe(hashString('ba', 1));
  });
});
