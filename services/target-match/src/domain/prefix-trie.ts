// Binary trie over address bits for IP prefix targets. A lookup walks at most 32 (IPv4) or
// 128 (IPv6) levels and returns the values of EVERY prefix that contains the address, not
// just the longest: nested prefixes may belong to different warrants and all must match.
// Nodes live in growable Int32Arrays (two child indexes per node) to keep 100k+ prefixes cheap.

export class PrefixTrie<V> {
  readonly width: number;
  private zero: Int32Array;
  private one: Int32Array;
  /** Count of values per node, so a walk skips the Map for the (many) nodes without any. */
  private held: Uint32Array;
  private count = 1; // node 0 is the root
  private readonly values = new Map<number, Set<V>>();

  constructor(width: 32 | 128, initialNodes = 1024) {
    this.width = width;
    this.zero = new Int32Array(initialNodes);
    this.one = new Int32Array(initialNodes);
    this.held = new Uint32Array(initialNodes);
  }

  get nodeCount(): number {
    return this.count;
  }

  add(bytes: Uint8Array, length: number, value: V): void {
    let node = 0;
    for (let i = 0; i < length; i++) {
      const bit = (bytes[i >> 3]! >> (7 - (i & 7))) & 1;
      const arr = bit === 0 ? this.zero : this.one;
      let next = arr[node]!;
      if (next === 0) {
        next = this.newNode();
        (bit === 0 ? this.zero : this.one)[node] = next;
      }
      node = next;
    }
    let set = this.values.get(node);
    if (!set) {
      set = new Set();
      this.values.set(node, set);
    }
    set.add(value);
    this.held[node] = set.size;
  }

  remove(bytes: Uint8Array, length: number, value: V): void {
    let node = 0;
    for (let i = 0; i < length; i++) {
      const bit = (bytes[i >> 3]! >> (7 - (i & 7))) & 1;
      node = (bit === 0 ? this.zero : this.one)[node]!;
      if (node === 0) return;
    }
    const set = this.values.get(node);
    if (!set) return;
    set.delete(value);
    this.held[node] = set.size;
    // Empty nodes stay allocated: prefixes are few compared with warrant churn, and a node
    // reused by the next prefix costs nothing. The value map entry goes so lookups stay lean.
    if (set.size === 0) this.values.delete(node);
  }

  /** Calls visit for each value of each prefix that contains the address (shortest first). */
  forEachMatch(bytes: Uint8Array, visit: (value: V) => void): void {
    let node = 0;
    for (let i = 0; ; i++) {
      if (this.held[node] !== 0) for (const v of this.values.get(node)!) visit(v);
      if (i === this.width) return;
      const bit = (bytes[i >> 3]! >> (7 - (i & 7))) & 1;
      node = (bit === 0 ? this.zero : this.one)[node]!;
      if (node === 0) return;
    }
  }

  private newNode(): number {
    if (this.count === this.zero.length) {
      const n = this.zero.length * 2;
      const z = new Int32Array(n);
      z.set(this.zero);
      this.zero = z;
      const o = new Int32Array(n);
      o.set(this.one);
      this.one = o;
      const h = new Uint32Array(n);
      h.set(this.held);
      this.held = h;
    }
    return this.count++;
  }
}
