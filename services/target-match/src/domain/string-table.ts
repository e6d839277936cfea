// A map from strings to values for the per-event look-ups of freshly built strings (the index
// keys of an event's parties, its eventId): V8's Map hashes such a string on its first look-up
// at a cost of several hundred ns (profiled: most of the index match with 100 000 targets),
// more than the whole look-up in a table that hashes the string itself in JavaScript. Open
// addressing with linear probing over an Int32Array of the keys' hashes: a key that is not there
// (most of an event's keys) is usually answered from that array alone, without comparing strings.
// Deletion shifts the following entries back (no tombstones), so a table that sees many
// deletions (a sliding window of ids) stays as fast as a fresh one.

/** FNV-1a over the UTF-16 code units, then a final mix (linear probing wants good low bits). */
export function hashString(s: string, seed: number): number {
  let h = seed ^ 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

// Per process: which keys share a probe sequence cannot be worked out from outside.
const SEED = (Math.random() * 0x1_0000_0000) | 0;
const MIN_CAPACITY = 16;

export class StringTable<V> {
  /** Per slot: the key's hash, never 0 (0 marks an empty slot). */
  private hashes: Int32Array;
  private keys: (string | undefined)[];
  private values: (V | undefined)[];
  private mask: number;
  private count = 0;
  private readonly hash: (s: string) => number;

  /** `hash`: for tests only (to force collisions). */
  constructor(hash: (s: string) => number = (s) => hashString(s, SEED)) {
    this.hash = hash;
    this.hashes = new Int32Array(MIN_CAPACITY);
    this.keys = new Array(MIN_CAPACITY);
    this.values = new Array(MIN_CAPACITY);
    this.mask = MIN_CAPACITY - 1;
  }

  get size(): number {
    return this.count;
  }

  private hashOf(key: string): number {
    return this.hash(key) | 0 || 1;
  }

  /** The slot holding key, or -1. */
  private find(key: string, h: number): number {
    const hashes = this.hashes;
    const mask = this.mask;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const s = hashes[i]!;
      if (s === 0) return -1;
      if (s === h && this.keys[i] === key) return i;
    }
  }

  get(key: string): V | undefined {
    const i = this.find(key, this.hashOf(key));
    return i < 0 ? undefined : this.values[i];
  }

  has(key: string): boolean {
    return this.find(key, this.hashOf(key)) >= 0;
  }

  set(key: string, value: V): this {
    const h = this.hashOf(key);
    const found = this.find(key, h);
    if (found >= 0) {
      this.values[found] = value;
      return this;
    }
    // At most half full: probe sequences stay short, and a miss meets an empty slot soon.
    if ((this.count + 1) * 2 > this.hashes.length) this.grow();
    this.place(h, key, value);
    this.count++;
    return this;
  }

  delete(key: string): boolean {
    let i = this.find(key, this.hashOf(key));
    if (i < 0) return false;
    const { hashes, keys, values, mask } = this;
    // Backward-shift deletion: each following entry of the run whose home slot is not in
    // (i, j] moves into the hole, so no probe sequence is broken.
    for (let j = (i + 1) & mask; hashes[j] !== 0; j = (j + 1) & mask) {
      const home = hashes[j]! & mask;
      if (i <= j ? i < home && home <= j : i < home || home <= j) continue;
      hashes[i] = hashes[j]!;
      keys[i] = keys[j];
      values[i] = values[j];
      i = j;
    }
    hashes[i] = 0;
    keys[i] = undefined;
    values[i] = undefined;
    this.count--;
    return true;
  }

  private place(h: number, key: string, value: V): void {
    const mask = this.mask;
    let i = h & mask;
    while (this.hashes[i] !== 0) i = (i + 1) & mask;
    this.hashes[i] = h;
    this.keys[i] = key;
    this.values[i] = value;
  }

  private grow(): void {
    const { hashes, keys, values } = this;
    const capacity = hashes.length * 2;
    this.hashes = new Int32Array(capacity);
    this.keys = new Array(capacity);
    this.values = new Array(capacity);
    this.mask = capacity - 1;
    for (let i = 0; i < hashes.length; i++) if (hashes[i] !== 0) this.place(hashes[i]!, keys[i]!, values[i] as V);
  }
}
