// Drops a packet a mirror delivered twice: the same IP packet (same IPv4 ID, same octets) again
// within a short window of packet time, as when a SPAN port copies both the ingress and the
// egress of a switch. TTL / hop limit and the IPv4 header checksum are left out of the
// comparison, since a copy taken one hop later differs there only. Memory is bounded by
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
  maxBytes: 16 * 1024 * 1024,
};

export interface DedupCounters {
  duplicates: number;
  /** Entries forgotten early for room (a copy arriving after it would pass). */
  evicted: number;
}

interface Entry {
  ts: number;
  bytes: Buffer;
  /** Another packet with the same hash in the window (rare), checked in turn. */
  next: Entry | null;
}

/** FNV-1a over the octets with the varying ones (IPv4 TTL and checksum, IPv6 hop limit) skipped. */
function hashIp(b: Buffer): number {
  let h = 0x811c9dc5;
  const v4 = (b[0] as number) >> 4 === 4;
  for (let i = 0; i < b.length; i++) {
    if (v4 ? i === 8 || i === 10 || i === 11 : i === 7) continue;
    h = Math.imul(h ^ (b[i] as number), 0x01000193);
  }
  return (h ^ b.length) >>> 0;
}

function sameIp(a: Buffer, b: Buffer): boolean {
  if (a.length !== b.length) return false;
  const v4 = (a[0] as number) >> 4 === 4;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[i]) continue;
    if (v4 ? i === 8 || i === 10 || i === 11 : i === 7) continue;
    return false;
  }
  return true;
}

export class Deduplicator {
  readonly counters: DedupCounters = { duplicates: 0, evicted: 0 };
  readonly #limits: DedupLimits;
  readonly #byHash = new Map<number, Entry>();
  /** Entries in arrival order, for expiry and eviction. */
  #order: { hash: number; entry: Entry }[] = [];
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
      if (ts - e.ts <= this.#limits.windowMicros && sameIp(e.bytes, ip)) {
        this.counters.duplicates++;
        return true;
      }
    }
    if (ip.length > this.#limits.maxBytes) return false;
    const entry: Entry = { ts, bytes: Buffer.from(ip), next: first ?? null };
    this.#byHash.set(hash, entry);
    this.#order.push({ hash, entry });
    this.#bytes += ip.length;
    while (this.#order.length - this.#head > this.#limits.maxEntries || this.#bytes > this.#limits.maxBytes) {
      this.counters.evicted++;
      this.#dropOldest();
    }
    return false;
  }

  #expire(now: number): void {
    while (this.#head < this.#order.length) {
      const o = this.#order[this.#head] as { hash: number; entry: Entry };
      if (now - o.entry.ts <= this.#limits.windowMicros) break;
      this.#dropOldest();
    }
  }

  #dropOldest(): void {
    const o = this.#order[this.#head];
    if (!o) return;
    this.#order[this.#head] = undefined as never;
    this.#head++;
    this.#bytes -= o.entry.bytes.length;
    // The oldest entry is last in its hash chain: unlink it there.
    const chain = this.#byHash.get(o.hash);
    if (chain === o.entry) this.#byHash.delete(o.hash);
    else
      for (let e = chain ?? null; e; e = e.next)
        if (e.next === o.entry) {
          e.next = null;
          break;
        }
    if (this.#head > 1024 && this.#head * 2 > this.#order.length) {
      this.#order = this.#order.slice(this.#head);
      this.#head = 0;
    }
  }
}
