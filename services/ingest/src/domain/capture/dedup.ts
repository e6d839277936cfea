// Drops a packet a mirror delivered twice: the same IP packet (same IPv4 ID, same octets) again
// within a short window of packet time, as when a SPAN port copies both the ingress and the
// egress of a switch. TTL / hop limit and the IPv4 header checksum are left out of the
// comparison, since a copy taken one hop later differs there only. Only the length and the first
// 128 octets are kept and compared: they hold the IP and transport headers, whose UDP/TCP
// checksum covers the rest, so the cost per packet does not grow with its size. Memory is bounded by
// entry count and octets; the window is short enough (default 50 ms) that a real
// retransmission (TCP's minimum RTO is 200 ms, SIP's T1 500 ms) is never taken for a copy.

export interface DedupLimits {
  /** Packet-time window in microseconds; 0 turns deduplication off. */
  windowMicros: number;
  maxEntries: number;
  maxBytes: number;
}

export const DEFAULT_DEDUP_LIMITS: DedupLimits = {
  windowMicros: 50_000,
  maxEntries: 16_384,
  maxBytes: 4 * 1024 * 1024,
};

export interface DedupCounters {
  duplicates: number;
  /** Entries forgotten early for room (a copy arriving after it would pass). */
  evicted: number;
}

/** Octets of a packet compared and kept. */
const PREFIX = 128;

interface Entry {
  hash: number;
  ts: number;
  length: number;
  /** The first PREFIX octets. */
  bytes: Buffer;
  /** Another packet with the same hash in the window (rare), checked in turn. */
  next: Entry | null;
}

/** A hash of the first octets, 32 bits at a time, with IPv4 TTL and checksum / IPv6 hop limit masked out. */
function hashIp(b: Buffer): number {
  const v4 = (b[0] as number) >> 4 === 4;
  const n = Math.min(b.length, PREFIX) & ~3;
  let h = 0x811c9dc5 ^ b.length;
  for (let i = 0; i < n; i += 4) {
    let w = b.readUInt32BE(i);
    if (i === 8 && v4)
      w &= 0x00ff0000; // keep the protocol only
    else if (i === 4 && !v4) w &= 0xffffff00; // drop the hop limit
    h = Math.imul(h ^ w, 0x01000193);
    h ^= h >>> 15;
  }
  for (let i = n; i < Math.min(b.length, PREFIX); i++) h = Math.imul(h ^ (b[i] as number), 0x01000193);
  return h >>> 0;
}

/** Whether b is the packet e kept, the varying octets aside (native compares of the ranges). */
function sameIp(e: Entry, b: Buffer): boolean {
  if (e.length !== b.length) return false;
  const a = e.bytes;
  const n = a.length;
  const eq = (from: number, to: number) => a.subarray(from, to).equals(b.subarray(from, to));
  if ((a[0] as number) >> 4 === 4) return n < 12 ? eq(0, 8) : eq(0, 8) && a[9] === b[9] && eq(12, n);
  return n < 8 ? eq(0, 7) : eq(0, 7) && eq(8, n);
}

export class Deduplicator {
  readonly counters: DedupCounters = { duplicates: 0, evicted: 0 };
  readonly #limits: DedupLimits;
  readonly #byHash = new Map<number, Entry>();
  /** Entries in arrival order, for expiry and eviction. */
  #order: Entry[] = [];
  #head = 0;
  #bytes = 0;

  constructor(limits: Partial<DedupLimits> = {}) {
    this.#limits = { ...DEFAULT_DEDUP_LIMITS, ...limits };
  }

  /** Octets held for comparison. */
  get bytes(): number {
    return this.#bytes;
  }

  /** True when `ip` (a whole IP packet) is a copy of one seen within the window; remembers it otherwise. */
  seen(ip: Buffer, ts: number): boolean {
    if (this.#limits.windowMicros <= 0) return false;
    this.#expire(ts);
    const hash = hashIp(ip);
    const first = this.#byHash.get(hash);
    for (let e = first ?? null; e; e = e.next) {
      if (ts - e.ts <= this.#limits.windowMicros && sameIp(e, ip)) {
        this.counters.duplicates++;
        return true;
      }
    }
    const entry: Entry = {
      hash,
      ts,
      length: ip.length,
      bytes: Buffer.from(ip.subarray(0, PREFIX)),
      next: first ?? null,
    };
    this.#byHash.set(hash, entry);
    this.#order.push(entry);
    this.#bytes += entry.bytes.length;
    while (this.#order.length - this.#head > this.#limits.maxEntries || this.#bytes > this.#limits.maxBytes) {
      this.counters.evicted++;
      this.#dropOldest();
    }
    return false;
  }

  #expire(now: number): void {
    while (this.#head < this.#order.length) {
      const o = this.#order[this.#head] as Entry;
      if (now - o.ts <= this.#limits.windowMicros) break;
      this.#dropOldest();
    }
  }

  #dropOldest(): void {
    const o = this.#order[this.#head];
    if (!o) return;
    this.#order[this.#head] = undefined as never;
    this.#head++;
    this.#bytes -= o.bytes.length;
    // The oldest entry is last in its hash chain: unlink it there.
    const chain = this.#byHash.get(o.hash);
    if (chain === o) this.#byHash.delete(o.hash);
    else
      for (let e = chain ?? null; e; e = e.next)
        if (e.next === o) {
          e.next = null;
          break;
        }
    if (this.#head > 1024 && this.#head * 2 > this.#order.length) {
      this.#order = this.#order.slice(this.#head);
      this.#head = 0;
    }
  }
}
