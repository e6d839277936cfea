// The eventIds of the last events committed, per input partition, so an event that reaches
// li.<t>.events twice (ingest re-sent a request whose answer was lost, or replayed its spool after
// a restart: same eventId; issue 14) is matched once. The window changes only when a batch's
// transaction committed, so a retried batch is checked against committed state. A window that is
// out of date (emptied at a rebalance or a restart) can only miss a duplicate: an id is minted once
// per event, so a distinct event never carries an id already seen. The ids are fresh strings of
// each decoded event: StringTable, not Set (see string-table.ts).
import { StringTable } from './string-table.ts';

type IdSet = Pick<StringTable<true>, 'has'>;
const NONE: IdSet = new StringTable<true>();

/** The ids of one batch of one partition, checked against the window as it was when the batch began. */
export class BatchEventIds {
  /** How many of the batch's events repeated an id: dropped, not matched. */
  repeats = 0;
  /** The batch's new ids, in order: what the window takes once the batch committed. */
  readonly fresh: string[] = [];
  readonly partition: string;
  private readonly inBatch = new StringTable<true>();
  /** The partition's window; undefined: the check is off. */
  private readonly committed: IdSet | undefined;

  constructor(partition: string, committed: IdSet | undefined) {
    this.partition = partition;
    this.committed = committed;
  }

  /**
   * Whether the event repeats one of the window or one earlier in the batch (then it is counted);
   * otherwise its id joins the batch's. An empty id identifies nothing and never repeats.
   */
  isRepeat(eventId: string): boolean {
    if (eventId === '' || this.committed === undefined) return false;
    if (this.committed.has(eventId) || this.inBatch.has(eventId)) {
      this.repeats++;
      return true;
    }
    this.inBatch.set(eventId, true);
    this.fresh.push(eventId);
    return false;
  }
}

/** The last `capacity` ids of one partition: a ring of ids with a set over it. */
class PartitionWindow {
  readonly ids = new StringTable<true>();
  private readonly ring: (string | undefined)[];
  private next = 0;

  constructor(capacity: number) {
    this.ring = new Array<string | undefined>(capacity);
  }

  add(eventId: string): void {
    if (this.ids.has(eventId)) return;
    const oldest = this.ring[this.next];
    if (oldest !== undefined) this.ids.delete(oldest);
    this.ring[this.next] = eventId;
    this.next = (this.next + 1) % this.ring.length;
    this.ids.set(eventId, true);
  }
}

export class RecentEventIds {
  private readonly windows = new Map<string, PartitionWindow>();
  private readonly capacity: number;

  /** `capacity`: ids remembered per partition; 0 turns the check off. */
  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 0) throw new RangeError('capacity must be an integer >= 0');
    this.capacity = capacity;
  }

  /** Starts checking a batch of `partition` (any string naming one input partition). Changes nothing. */
  batch(partition: string): BatchEventIds {
    if (this.capacity === 0) return new BatchEventIds(partition, undefined);
    return new BatchEventIds(partition, this.windows.get(partition)?.ids ?? NONE);
  }

  /** The batch committed: its new ids join its partition's window, the oldest leave beyond capacity. */
  commit(batch: BatchEventIds): void {
    if (this.capacity === 0 || batch.fresh.length === 0) return;
    let window = this.windows.get(batch.partition);
    if (!window) {
      window = new PartitionWindow(this.capacity);
      this.windows.set(batch.partition, window);
    }
    for (const id of batch.fresh) window.add(id);
  }

  /** Forgets the partitions not in `partitions` (no longer assigned: their windows would go stale). */
  keepOnly(partitions: Iterable<string>): void {
    const kept = new Set(partitions);
    for (const p of this.windows.keys()) if (!kept.has(p)) this.windows.delete(p);
  }

  /** Ids remembered for `partition`. */
  size(partition: string): number {
    return this.windows.get(partition)?.ids.size ?? 0;
  }
}
