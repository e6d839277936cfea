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
