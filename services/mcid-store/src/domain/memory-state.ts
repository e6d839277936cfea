// A Map-backed state: what the compacted topic materialises to (KafkaStateStore builds on it).
import type { Change, StateValue, StateView } from './model.ts';

export class MemoryState implements StateView {
  readonly records = new Map<string, StateValue>();

  get(key: string): StateValue | undefined {
    return this.records.get(key);
  }

  *keys(prefix: string): Iterable<string> {
    for (const k of this.records.keys()) if (k.startsWith(prefix)) yield k;
  }

  applyChanges(changes: readonly Change[]): void {
    for (const c of changes) {
      if (c.value === null) this.records.delete(c.key);
      else this.records.set(c.key, structuredClone(c.value));
    }
  }
}

/**
 * Pending changes over a read view: applying several events in a row sees the earlier ones'
 * writes, and the whole batch commits as one set of changes.
 */
export class OverlayView implements StateView {
  private readonly base: StateView;
  private readonly pending = new Map<string, StateValue | null>();

  constructor(base: StateView) {
    this.base = base;
  }

  get(key: string): StateValue | undefined {
    if (this.pending.has(key)) return this.pending.get(key) ?? undefined;
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

  changes(): Change[] {
    return [...this.pending].map(([key, value]) => ({ key, value }));
  }
}
