// Commit position per topic-partition: it advances only over a contiguous run of records the
// transport confirmed, so a crash re-delivers (never skips) anything unconfirmed.
import type { SourcePosition } from './types.ts';

/** Offsets of one partition in arrival (= increasing) order; a moving head instead of shift() keeps it O(1). */
interface Pending {
  offsets: number[];
  confirmed: boolean[];
  head: number;
}

export interface CommitPoint {
  topic: string;
  partition: number;
  /** Kafka convention: the offset of the next record to read. */
  offset: number;
}

export class OffsetTracker {
  #pending = new Map<string, Pending>();
  #commit = new Map<string, CommitPoint>();

  static key(p: { topic: string; partition: number }): string {
    return `${p.topic}\u0000${p.partition}`;
  }

  /**
   * Registers a record as handed to delivery; false when this tracker has it already (queued,
   * in flight or confirmed). Offsets of one partition must arrive in order.
   */
  track(pos: SourcePosition): boolean {
    const k = OffsetTracker.key(pos);
    let p = this.#pending.get(k);
    if (!p) {
      p = { offsets: [], confirmed: [], head: 0 };
      this.#pending.set(k, p);
    }
    const last = p.offsets.length > p.head ? p.offsets[p.offsets.length - 1]! : null;
    if (last !== null && pos.offset <= last) return false; // read again: already tracked
    const done = this.#commit.get(k);
    if (done && pos.offset < done.offset) return false; // read again: confirmed already
    p.offsets.push(pos.offset);
    p.confirmed.push(false);
    return true;
  }

  /** Marks a record confirmed; returns the partition's new commit point if it moved. */
  confirm(pos: SourcePosition): CommitPoint | null {
    const k = OffsetTracker.key(pos);
    const p = this.#pending.get(k);
    if (!p) return null;
    const i = search(p.offsets, p.head, pos.offset);
    if (i < 0) return null;
    p.confirmed[i] = true;
    let moved: CommitPoint | null = null;
    while (p.head < p.offsets.length && p.confirmed[p.head]) {
      moved = { topic: pos.topic, partition: pos.partition, offset: p.offsets[p.head]! + 1 };
      p.head++;
    }
    if (p.head > 1024 && p.head * 2 > p.offsets.length) {
      p.offsets = p.offsets.slice(p.head);
      p.confirmed = p.confirmed.slice(p.head);
      p.head = 0;
    }
    if (moved) this.#commit.set(k, moved);
    return moved;
  }

  committed(): CommitPoint[] {
    return [...this.#commit.values()];
  }

  pendingCount(): number {
    let n = 0;
    for (const p of this.#pending.values()) n += p.offsets.length - p.head;
    return n;
  }
}

function search(a: number[], from: number, x: number): number {
  let lo = from;
  let hi = a.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = a[mid]!;
    if (v === x) return mid;
    if (v < x) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** A partition's position: the offset after the last record read (or to commit). */
export interface PartitionOffset {
  topic: string;
  partition: number;
  offset: bigint;
}

/**
 * What to commit after confirmations moved `points`. Records of other LEMFs and transaction
 * markers read after a confirmed point need no confirmation, so once nothing of this LEMF is
 * unconfirmed (`drained`) every partition it read moves up to `readUpTo` — every one, not only
 * those of `points`: a partition whose last records were confirmed while another stream still
 * had records in flight would otherwise stay behind its commit marker, its lag 1 for good.
 * Offsets at or below what was already committed are left out (nothing moves backwards).
 */
export function commitPlan(
  points: readonly CommitPoint[],
  readUpTo: ReadonlyMap<string, PartitionOffset>,
  drained: boolean,
  committed: ReadonlyMap<string, bigint>,
): PartitionOffset[] {
  const plan = new Map<string, PartitionOffset>();
  for (const p of points) plan.set(OffsetTracker.key(p), { ...p, offset: BigInt(p.offset) });
  if (drained) {
    for (const [k, r] of readUpTo) {
      const at = plan.get(k);
      if (!at || r.offset > at.offset) plan.set(k, r);
    }
  }
  return [...plan].filter(([k, p]) => p.offset > (committed.get(k) ?? -1n)).map(([, p]) => p);
}
