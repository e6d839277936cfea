// IPv4 / IPv6 fragment reassembly (RFC 791 §3.2, RFC 8200 §4.5) with timeouts and memory
// caps. Overlapping fragments: the bytes that arrived first win (RFC 5722 would drop the
// whole datagram for IPv6; a passive probe prefers to keep what it saw and counts it).
import type { IpPacket } from './packet.ts';

export interface DefragLimits {
  /** Datagrams being reassembled at once. */
  maxDatagrams: number;
  /** Bytes held in fragments across all datagrams. */
  maxBytes: number;
  /** A datagram not complete after this long is dropped (RFC 791 suggests 15 s; Linux uses 30 s). */
  timeoutMicros: number;
}

export const DEFAULT_DEFRAG_LIMITS: DefragLimits = {
  maxDatagrams: 4096,
  maxBytes: 32 * 1024 * 1024,
  timeoutMicros: 30_000_000,
};

const MAX_DATAGRAM = 65535;

interface Piece {
  start: number;
  data: Buffer;
}

interface Pending {
  first: IpPacket | null;
  protocol: number;
  pieces: Piece[];
  bytes: number;
  /** Total payload length, known once the last fragment (MF=0) arrived. */
  total: number;
  startedMicros: number;
}

export interface DefragCounters {
  fragments: number;
  reassembled: number;
  timedOut: number;
  evicted: number;
  overlapBytes: number;
  tooLarge: number;
}

export class Defragmenter {
  readonly #limits: DefragLimits;
  readonly #pending = new Map<string, Pending>();
  #bytes = 0;
  readonly counters: DefragCounters = {
    fragments: 0,
    reassembled: 0,
    timedOut: 0,
    evicted: 0,
    overlapBytes: 0,
    tooLarge: 0,
  };

  constructor(limits: Partial<DefragLimits> = {}) {
    this.#limits = { ...DEFAULT_DEFRAG_LIMITS, ...limits };
  }

  get bytesHeld(): number {
    return this.#bytes;
  }

  get datagramsHeld(): number {
    return this.#pending.size;
  }

  /** Adds a fragment; returns the whole packet (fragment null) once complete, else null. */
  add(p: IpPacket, tsMicros: number): IpPacket | null {
    const f = p.fragment;
    if (!f) return p;
    this.counters.fragments++;
    // v4 keys on (src, dst, protocol, id); v6 on (src, dst, id) (RFC 8200 §4.5).
    const key = p.version === 4 ? `4|${p.src}|${p.dst}|${p.protocol}|${f.id}` : `6|${p.src}|${p.dst}|${f.id}`;
    let d = this.#pending.get(key);
    if (f.offset + p.payload.length > MAX_DATAGRAM) {
      this.counters.tooLarge++;
      if (d) this.#drop(key, d);
      return null;
    }
    if (!d) {
      while (this.#pending.size >= this.#limits.maxDatagrams) this.#evictOldest();
      d = { first: null, protocol: p.protocol, pieces: [], bytes: 0, total: -1, startedMicros: tsMicros };
      this.#pending.set(key, d);
    }
    if (f.offset === 0) d.first = p;
    if (!f.more) d.total = f.offset + p.payload.length;
    this.#insert(d, f.offset, p.payload);
    while (this.#bytes > this.#limits.maxBytes && this.#pending.size > 0) this.#evictOldest();
    if (!this.#pending.has(key)) return null;
    if (d.total < 0 || !d.first) return null;
    // Complete when pieces cover [0, total) without holes.
    let at = 0;
    for (const pc of d.pieces) {
      if (pc.start > at) return null;
      at = Math.max(at, pc.start + pc.data.length);
    }
    if (at < d.total) return null;
    const payload = Buffer.alloc(d.total);
    for (const pc of d.pieces) {
      if (pc.start < d.total) pc.data.copy(payload, pc.start, 0, Math.min(pc.data.length, d.total - pc.start));
    }
    this.#drop(key, d);
    this.counters.reassembled++;
    return { ...d.first, protocol: d.first.protocol, payload, fragment: null };
  }

  /** Drops datagrams older than the timeout; call as packet time advances. */
  expire(nowMicros: number): void {
    for (const [key, d] of this.#pending) {
      if (nowMicros - d.startedMicros <= this.#limits.timeoutMicros) break; // insertion order = age order
      this.#drop(key, d);
      this.counters.timedOut++;
    }
  }

  #insert(d: Pending, start: number, data: Buffer): void {
    // Keep only bytes no earlier fragment covered (first wins).
    let pieces: Piece[] = [{ start, data }];
    for (const ex of d.pieces) {
      const exEnd = ex.start + ex.data.length;
      const next: Piece[] = [];
      for (const pc of pieces) {
        const pcEnd = pc.start + pc.data.length;
        if (pcEnd <= ex.start || pc.start >= exEnd) {
          next.push(pc);
          continue;
        }
        this.counters.overlapBytes += Math.min(pcEnd, exEnd) - Math.max(pc.start, ex.start);
        if (pc.start < ex.start) next.push({ start: pc.start, data: pc.data.subarray(0, ex.start - pc.start) });
        if (pcEnd > exEnd) next.push({ start: exEnd, data: pc.data.subarray(exEnd - pc.start) });
      }
      pieces = next;
      if (pieces.length === 0) return;
    }
    for (const pc of pieces) {
      const copy = Buffer.from(pc.data); // do not pin the capture chunk
      d.pieces.push({ start: pc.start, data: copy });
      d.bytes += copy.length;
      this.#bytes += copy.length;
    }
    d.pieces.sort((a, b) => a.start - b.start);
  }

  #evictOldest(): void {
    const first = this.#pending.entries().next();
    if (first.done) return;
    this.#drop(first.value[0], first.value[1]);
    this.counters.evicted++;
  }

  #drop(key: string, d: Pending): void {
    this.#bytes -= d.bytes;
    this.#pending.delete(key);
  }
}
