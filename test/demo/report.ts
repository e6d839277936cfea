// The demo's end report, pure: whether the pipeline has drained, and per (LIID, CIN, handover)
// whether the sequence numbers a LEMF received are 0..n without gap or repeat (TS 102 232-1
// numbers IRI (HI2, with HI1 notifications on CIN 0) and CC (HI3) separately per CIN).

/** What the report needs of a received record (test/pipeline/lemf.ts ReceivedRecord). */
export interface SequencedRecord {
  handover: 'HI2' | 'HI3';
  liid: string;
  cin: number;
  /** -1 when the record carries none (TS 101 671, undecodable). */
  seq: number;
}

export interface StreamCheck {
  liid: string;
  cin: number;
  handover: 'HI2' | 'HI3';
  records: number;
  /** The highest sequence number received. */
  last: number;
  /** Missing ranges, inclusive. */
  gaps: [number, number][];
  /** Sequence numbers received more than once, with how often. */
  repeats: [number, number][];
}

export const isComplete = (c: StreamCheck): boolean => c.gaps.length === 0 && c.repeats.length === 0;

/** One check per (LIID, CIN, handover) of the records that carry a sequence number, sorted. */
export function checkSequences(records: readonly SequencedRecord[]): StreamCheck[] {
  const byKey = new Map<string, { r: SequencedRecord; seqs: Map<number, number> }>();
  for (const r of records) {
    if (r.seq < 0) continue;
    const k = `${r.liid}\u0000${r.cin}\u0000${r.handover}`;
    const e = byKey.get(k) ?? { r, seqs: new Map<number, number>() };
    e.seqs.set(r.seq, (e.seqs.get(r.seq) ?? 0) + 1);
    byKey.set(k, e);
  }
  const checks = [...byKey.values()].map(({ r, seqs }) => {
    const sorted = [...seqs.keys()].sort((a, b) => a - b);
    const gaps: [number, number][] = [];
    let expect = 0;
    for (const s of sorted) {
      if (s > expect) gaps.push([expect, s - 1]);
      expect = s + 1;
    }
    const repeats = sorted.flatMap((s): [number, number][] => {
      const n = seqs.get(s) ?? 0;
      return n > 1 ? [[s, n]] : [];
    });
    let count = 0;
    for (const n of seqs.values()) count += n;
    return {
      liid: r.liid,
      cin: r.cin,
      handover: r.handover,
      records: count,
      last: sorted.at(-1) ?? -1,
      gaps,
      repeats,
    };
  });
  return checks.sort((a, b) => a.liid.localeCompare(b.liid) || a.cin - b.cin || a.handover.localeCompare(b.handover));
}

const LIST_AT_MOST = 5;
const listed = (items: string[]): string =>
  items.length <= LIST_AT_MOST
    ? items.join(', ')
    : `${items.slice(0, LIST_AT_MOST).join(', ')}, … (${items.length} in all)`;

/** "0..12 complete" or "0..12: missing 3-5, 9; repeated 2 (x2)". */
export function describeCheck(c: StreamCheck): string {
  if (isComplete(c)) return `0..${c.last} complete`;
  const parts: string[] = [];
  if (c.gaps.length > 0) parts.push(`missing ${listed(c.gaps.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)))}`);
  if (c.repeats.length > 0) parts.push(`repeated ${listed(c.repeats.map(([s, n]) => `${s} (x${n})`))}`);
  return `0..${c.last}: ${parts.join('; ')}`;
}

export interface Verdict {
  complete: boolean;
  line: string;
}

export interface VerdictInput {
  /** The run's LIIDs: each must have received something. */
  liids: readonly string[];
  checks: readonly StreamCheck[];
  /** Records without LIID or sequence number (undecodable). */
  undecodable: number;
  /** Records still in the pipeline when the report was made (0 when drained). */
  backlog: number;
  /** False when the wait ended with the LEMFs' count still growing. */
  settled: boolean;
  /** Dead-lettered records per tenant. */
  dlq: Readonly<Record<string, number>>;
}

/** The verdict line: complete only when nothing is missing, repeated, left behind or dead-lettered. */
export function verdict(v: VerdictInput): Verdict {
  const problems: string[] = [];
  const received = new Set(v.checks.map((c) => c.liid));
  const silent = v.liids.filter((l) => !received.has(l));
  if (silent.length > 0) problems.push(`no records for LIID ${silent.join(', ')}`);
  const broken = v.checks.filter((c) => v.liids.includes(c.liid) && !isComplete(c));
  if (broken.length > 0) {
    problems.push(`${broken.length} (LIID, CIN, handover) with gaps or repeats`);
  }
  if (v.undecodable > 0) problems.push(`${v.undecodable} undecodable records`);
  if (v.backlog > 0) problems.push(`${v.backlog} records still in the pipeline`);
  else if (!v.settled) problems.push('the LEMFs were still receiving when the wait ended');
  const dlq = Object.entries(v.dlq).filter(([, n]) => n > 0);
  if (dlq.length > 0) problems.push(`dead-lettered: ${dlq.map(([t, n]) => `${n} of tenant ${t}`).join(', ')}`);
  return problems.length === 0
    ? { complete: true, line: 'complete: every (LIID, CIN) has sequence numbers 0..n' }
    : { complete: false, line: `INCOMPLETE: ${problems.join('; ')}` };
}

export interface DrainSample {
  atMs: number;
  /** Records the LEMFs have received so far. */
  received: number;
  /** Records the consumer groups have not committed yet. */
  backlog: number;
}

export type DrainStatus = 'drained' | 'quiet' | 'busy';

/**
 * Fed one sample at a time (the caller bounds the wait): 'drained' once the backlog has been 0 and
 * the LEMFs' count unchanged for `quietMs`; 'quiet' when only the count has been.
 */
export class DrainTracker {
  readonly #quietMs: number;
  #received = -1;
  #countSince = 0;
  #emptySince: number | null = null;

  constructor(quietMs: number) {
    this.#quietMs = quietMs;
  }

  observe(s: DrainSample): DrainStatus {
    if (s.received !== this.#received) this.#countSince = s.atMs;
    this.#received = s.received;
    if (s.backlog > 0) this.#emptySince = null;
    else this.#emptySince ??= s.atMs;
    if (s.atMs - this.#countSince < this.#quietMs) return 'busy';
    return this.#emptySince !== null && s.atMs - this.#emptySince >= this.#quietMs ? 'drained' : 'quiet';
  }
}

export interface Uncommitted {
  partition: number;
  /** The first offset the group has still to commit. */
  from: number;
  /** The partition's end. */
  high: number;
}

/**
 * Per partition, the offsets the group has not committed (records plus transaction markers);
 * a group that committed nothing, or below the first offset still in the log, counts from there.
 */
export function uncommitted(
  ends: readonly { partition: number; high: string; low: string }[],
  committed: readonly { partition: number; offset: string }[],
): Uncommitted[] {
  return ends.flatMap((e) => {
    const c = Number(committed.find((o) => o.partition === e.partition)?.offset ?? -1);
    const from = Math.max(c, Number(e.low));
    const high = Number(e.high);
    return high > from ? [{ partition: e.partition, from, high }] : [];
  });
}
