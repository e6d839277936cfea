// A Map-backed state: what the compacted topic materialises to (KafkaStateStore builds on it).
// Values are never changed in place (the engine builds new objects for every write), so they
// are kept as committed, without a copy; the test stores deep-freeze them to keep that true.
import type { Change, StateValue, StateView } from './model.ts';

export class MemoryState implements StateView {
  readonly records = new Map<string, StateValue>();
  /**
   * Keys of the reports not delivered yet, in the records' order: redelivery runs every tick,
   * and scanning every report for the few undelivered ones grew with the reports kept.
   */
  private readonly undelivered = new Set<string>();

  get(key: string): StateValue | undefined {
    return this.records.get(key);
  }

  *keys(prefix: string): Iterable<string> {
    for (const k of this.records.keys()) if (k.startsWith(prefix)) yield k;
  }

  /** The keys whose values are undelivered reports (what keys('report/') filtered would give). */
  undeliveredReportKeys(): Iterable<string> {
    return this.undelivered;
  }

  applyChanges(changes: readonly Change[]): void {
    for (const c of changes) this.load(c.key, c.value);
  }

  /** Sets or (null) deletes one record. */
  protected load(key: string, value: StateValue | null): void {
    if (value === null) {
      this.records.delete(key);
      this.undelivered.delete(key);
      return;
    }
    this.records.set(key, value);
    if (value.type === 'report' && value.delivery === null && key.startsWith('report/')) this.undelivered.add(key);
    else this.undelivered.delete(key);
  }
}

/**
 * Pending changes over a read view: applying several events in a row sees the earlier ones'
 * writes, and the whole batch commits as one set of changes (one per key, the latest value).
 */
export class OverlayView implements StateView {
  private readonly base: StateView;
  private readonly pending = new Map<string, StateValue | null>();

  constructor(base: StateView) {
    this.base = base;
  }

  get(key: string): StateValue | undefined {
    const p = this.pending.get(key);
    if (p !== undefined) return p ?? undefined;
    return this.base.get(key);
  }

  *keys(prefix: string): Iterable<string> {
    for (const k of this.base.keys(prefix)) if (!this.pending.has(k) || this.pending.get(k) !== null) yield k;
    for (const [k, v] of this.pending)
      if (k.startsWith(prefix) && v !== null && this.base.get(k) === undefined) yield k;
  }

  stage(changes: readonly Change[]): void {
    for (const c of changes) this.pending.set(c.key, c.value);
  }

  /** The batch's changes; a key created and deleted within the batch was never written, so it needs no tombstone. */
  changes(): Change[] {
    const out: Change[] = [];
    for (const [key, value] of this.pending) {
      if (value === null && this.base.get(key) === undefined) continue;
      out.push({ key, value });
    }
    return out;
  }
}
