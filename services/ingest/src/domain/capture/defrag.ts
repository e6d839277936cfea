// IPv4 / IPv6 fragment reassembly (RFC 791 §3.2, RFC 8200 §4.5) with timeouts and memory
// caps. Overlapping fragments: the bytes that arrived first win (RFC 5722 would drop the
// whole datagram for IPv6; a passive probe prefers to keep what it saw and counts it).
// A datagram's pieces stay sorted and disjoint, and the bytes they cover are counted, so a
// fragment costs a binary search plus the pieces it overlaps, never a pass over all of them.
import type { IngestErrorCode } from '../../errors.ts';
import type { IpPacket } from './packet.ts';

/** What was odd about a datagram: reported once per datagram, when it completes or times out. */
type Flag = 'ING_ERR_FRAG_OVERLAP' | 'ING_ERR_FRAG_CONFLICT' | 'ING_ERR_FRAG_BEYOND_END';

const FLAG_REASONS: Record<Flag | 'ING_ERR_FRAG_TIMEOUT', string> = {
  ING_ERR_FRAG_OVERLAP: 'IP fragments of one datagram overlap (same octets)',
  ING_ERR_FRAG_CONFLICT: 'IP fragments of one datagram overlap with different octets; the first were kept',
  ING_ERR_FRAG_BEYOND_END: 'an IP fragment runs past the end its last fragment set; the excess was cut',
  ING_ERR_FRAG_TIMEOUT: 'IP datagram still incomplete at the reassembly timeout; dropped',
};

export interface DefragLimits {
  /** Datagrams being reassembled at once. */
  maxDatagrams: number;
  /** Bytes held in fragments across all datagrams. */
  maxBytes: number;
  /** Fragments (duplicates included) one datagram may take; beyond, it is dropped. */
  maxFragmentsPerDatagram: number;
  /** A datagram not complete after this long is dropped (RFC 791 suggests 15 s; Linux uses 30 s). */
  timeoutMicros: number;
}

export const DEFAULT_DEFRAG_LIMITS: DefragLimits = {
  maxDatagrams: 4096,
  maxBytes: 32 * 1024 * 1024,
  // A 64 KiB datagram over a 576-octet MTU takes 119 fragments.
  maxFragmentsPerDatagram: 256,
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
  /** Sorted by start, disjoint. */
  pieces: Piece[];
  bytes: number;
  /** Fragments taken, duplicates included. */
  count: number;
  /** Total payload length, known once the last fragment (MF=0) arrived. */
  total: number;
  /** Bytes of [0, total) the pieces cover (0 while total is unknown). */
  covered: number;
  startedMicros: number;
  flags: Set<Flag> | null;
}

export interface DefragCounters {
  fragments: number;
  reassembled: number;
  timedOut: number;
  evicted: number;
  overlapBytes: number;
  tooLarge: number;
  tooManyFragments: number;
  /** Datagrams with overlapping fragments whose octets differ. */
  conflicts: number;
  /** Datagrams with a fragment past the end the last fragment set. */
  beyondEnd: number;
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
    tooManyFragments: 0,
    conflicts: 0,
    beyondEnd: 0,
  };
  #steps = 0;
  readonly #report: (code: IngestErrorCode, reason: string) => void;

  constructor(limits: Partial<DefragLimits> = {}, report: (code: IngestErrorCode, reason: string) => void = () => {}) {
    this.#limits = { ...DEFAULT_DEFRAG_LIMITS, ...limits };
    this.#report = report;
  }

  get bytesHeld(): number {
    return this.#bytes;
  }

  get datagramsHeld(): number {
    return this.#pending.size;
  }

  /** Pieces visited and search steps taken so far: a work counter for tests. */
  get steps(): number {
    return this.#steps;
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
      d = {
        first: null,
        protocol: p.protocol,
        pieces: [],
        bytes: 0,
        count: 0,
        total: -1,
        covered: 0,
        startedMicros: tsMicros,
        flags: null,
      };
      this.#pending.set(key, d);
    }
    if (++d.count > this.#limits.maxFragmentsPerDatagram) {
      this.counters.tooManyFragments++;
      this.#drop(key, d);
      return null;
    }
    if (f.offset === 0) d.first = p;
    const fragEnd = f.offset + p.payload.length;
    if (d.total >= 0 && (fragEnd > d.total || (!f.more && fragEnd !== d.total)))
      this.#flag(d, 'ING_ERR_FRAG_BEYOND_END');
    if (!f.more) {
      const total = fragEnd;
      if (d.total < 0 && d.pieces.some((pc) => pc.start + pc.data.length > total))
        this.#flag(d, 'ING_ERR_FRAG_BEYOND_END');
      if (total !== d.total) {
        d.total = total;
        d.covered = 0;
        for (const pc of d.pieces) d.covered += clip(pc, total);
        this.#steps += d.pieces.length;
      }
    }
    this.#insert(d, f.offset, p.payload);
    while (this.#bytes > this.#limits.maxBytes && this.#pending.size > 0) this.#evictOldest();
    if (!this.#pending.has(key)) return null;
    // Disjoint pieces covering total bytes of [0, total) leave no hole.
    if (d.total < 0 || !d.first || d.covered < d.total) return null;
    const payload = Buffer.alloc(d.total);
    for (const pc of d.pieces) {
      if (pc.start < d.total) pc.data.copy(payload, pc.start, 0, Math.min(pc.data.length, d.total - pc.start));
    }
    this.#drop(key, d);
    this.counters.reassembled++;
    this.#flush(d);
    return { ...d.first, protocol: d.first.protocol, payload, fragment: null };
  }

  /** Drops datagrams older than the timeout; call as packet time advances. */
  expire(nowMicros: number): void {
    for (const [key, d] of this.#pending) {
      if (nowMicros - d.startedMicros <= this.#limits.timeoutMicros) break; // insertion order = age order
      this.#drop(key, d);
      this.counters.timedOut++;
      this.#flush(d);
      this.#report('ING_ERR_FRAG_TIMEOUT', FLAG_REASONS.ING_ERR_FRAG_TIMEOUT);
    }
  }

  #insert(d: Pending, start: number, data: Buffer): void {
    const pieces = d.pieces;
    const end = start + data.length;
    // First piece ending after start.
    let lo = 0;
    let hi = pieces.length;
    while (lo < hi) {
      this.#steps++;
      const mid = (lo + hi) >>> 1;
      const m = pieces[mid] as Piece;
      if (m.start + m.data.length <= start) lo = mid + 1;
      else hi = mid;
    }
    // Keep only bytes no earlier fragment covered (first wins): the holes between the
    // existing pieces this fragment overlaps, merged in order with those pieces.
    const merged: Piece[] = [];
    let at = start;
    let i = lo;
    for (; i < pieces.length && at < end; i++) {
      this.#steps++;
      const ex = pieces[i] as Piece;
      if (ex.start >= end) break;
      const exEnd = ex.start + ex.data.length;
      if (ex.start > at) merged.push(this.#piece(d, at, data.subarray(at - start, ex.start - start)));
      const from = Math.max(at, ex.start);
      const to = Math.min(end, exEnd);
      this.counters.overlapBytes += to - from;
      const same = data.subarray(from - start, to - start).equals(ex.data.subarray(from - ex.start, to - ex.start));
      this.#flag(d, same ? 'ING_ERR_FRAG_OVERLAP' : 'ING_ERR_FRAG_CONFLICT');
      merged.push(ex);
      at = Math.max(at, exEnd);
    }
    if (at < end) merged.push(this.#piece(d, at, data.subarray(at - start)));
    pieces.splice(lo, i - lo, ...merged);
  }

  #flag(d: Pending, flag: Flag): void {
    if (!d.flags) d.flags = new Set();
    if (d.flags.has(flag)) return;
    d.flags.add(flag);
    if (flag === 'ING_ERR_FRAG_CONFLICT') this.counters.conflicts++;
    if (flag === 'ING_ERR_FRAG_BEYOND_END') this.counters.beyondEnd++;
  }

  #flush(d: Pending): void {
    if (d.flags) for (const f of d.flags) this.#report(f, FLAG_REASONS[f]);
  }

  #piece(d: Pending, start: number, data: Buffer): Piece {
    const pc = { start, data: Buffer.from(data) }; // do not pin the capture chunk
    d.bytes += pc.data.length;
    this.#bytes += pc.data.length;
    if (d.total >= 0) d.covered += clip(pc, d.total);
    return pc;
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

/** Bytes of a piece inside [0, total). */
function clip(pc: Piece, total: number): number {
  return Math.max(0, Math.min(pc.start + pc.data.length, total) - pc.start);
}
