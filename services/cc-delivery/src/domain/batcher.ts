// Groups records of one LIID into files closed by record count, size or age (HI2-HI3-delivery.md
// §7: one LIID per file, keep the age limit short because IRI must stay near-real-time).
import { type LemfDestination, TRANSPORT_TRAITS } from '@li/schemas';
import type { Result } from '../errors.ts';
import { formatFileName, validatePattern } from './naming.ts';
import type { DeliveryRecord, FileMeta } from './types.ts';

export interface BatchPolicy {
  maxRecords: number;
  maxBytes: number;
  maxMs: number;
  namePattern: string;
}

interface FileBatch {
  file: FileMeta;
  records: DeliveryRecord[];
  bytes: number;
}

interface Open {
  records: DeliveryRecord[];
  bytes: number;
  openedAt: number;
}

/** The file batching of a LEMF, or null where records stream one by one. */
export function batchPolicyFor(dest: LemfDestination): BatchPolicy | null {
  const f = filesOf(dest);
  // an invalid pattern is a config error shown by the transport; records then wait unbatched
  if (!f || !validatePattern(f.namePattern).ok) return null;
  return {
    maxRecords: Math.max(1, f.maxRecords),
    maxBytes: Math.max(1, f.maxBytes),
    maxMs: Math.max(0, f.maxSeconds) * 1000,
    namePattern: f.namePattern,
  };
}

/** File transports batch by their file settings (TRANSPORT_TRAITS unit 'file'); others send records one by one. */
function filesOf(dest: LemfDestination): LemfDestination['files'] | null {
  return TRANSPORT_TRAITS[dest.transport]?.unit === 'file' ? dest.files : null;
}

export type BatchOutput = { batch: FileBatch } | { rejected: DeliveryRecord[]; error: Result<never> };

export class FileBatcher {
  readonly #policy: BatchPolicy;
  readonly #lemf: string;
  readonly #open = new Map<string, Open>();
  readonly #nextSeq = new Map<string, number>();

  /**
   * `lemf` is the LEMF's own id, for {lemf} (not the wiring's <tenant>/<id> key); `startSeq` restores
   * per-LIID file counters so a restart never reuses a file name.
   */
  constructor(policy: BatchPolicy, lemf: string, startSeq: Record<string, number> = {}) {
    this.#policy = policy;
    this.#lemf = lemf;
    for (const [liid, seq] of Object.entries(startSeq)) this.#nextSeq.set(liid, seq);
  }

  /** Adds a record; returns the files this closed (size or count reached). */
  add(record: DeliveryRecord, now: number): BatchOutput[] {
    const out: BatchOutput[] = [];
    let open = this.#open.get(record.liid);
    // Size limit: close the current file before it would grow past maxBytes (a lone oversize record still ships).
    if (open && open.records.length > 0 && open.bytes + record.bytes.length > this.#policy.maxBytes) {
      out.push(this.#close(record.liid, open, now));
      open = undefined;
    }
    if (!open) {
      open = { records: [], bytes: 0, openedAt: now };
      this.#open.set(record.liid, open);
    }
    open.records.push(record);
    open.bytes += record.bytes.length;
    if (open.records.length >= this.#policy.maxRecords || open.bytes >= this.#policy.maxBytes) {
      out.push(this.#close(record.liid, open, now));
    }
    return out;
  }

  /** Closes every file older than maxMs. */
  due(now: number): BatchOutput[] {
    const out: BatchOutput[] = [];
    for (const [liid, open] of this.#open) {
      if (now - open.openedAt >= this.#policy.maxMs) out.push(this.#close(liid, open, now));
    }
    return out;
  }

  flushAll(now: number): BatchOutput[] {
    return [...this.#open].map(([liid, open]) => this.#close(liid, open, now));
  }

  nextDeadline(): number | null {
    let min: number | null = null;
    for (const o of this.#open.values()) {
      const d = o.openedAt + this.#policy.maxMs;
      if (min === null || d < min) min = d;
    }
    return min;
  }

  /**
   * Numbers another process stored meanwhile (a partition moved here): never go below them, so a
   * file name another owner of the LIID used is not used again.
   */
  raiseSeq(next: Record<string, number>): void {
    for (const [liid, seq] of Object.entries(next)) if (seq > this.nextSeqOf(liid)) this.#nextSeq.set(liid, seq);
  }

  nextSeqOf(liid: string): number {
    return this.#nextSeq.get(liid) ?? 1;
  }

  #close(liid: string, open: Open, now: number): BatchOutput {
    this.#open.delete(liid);
    const seq = this.nextSeqOf(liid);
    this.#nextSeq.set(liid, seq + 1);
    const name = formatFileName(this.#policy.namePattern, { liid, seq, ts: now, lemf: this.#lemf });
    if (!name.ok) return { rejected: open.records, error: name };
    return { batch: { file: { liid, seq, name: name.value }, records: open.records, bytes: open.bytes } };
  }
}
