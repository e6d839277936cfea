// A Map-backed state: what the compacted topic materialises to, and the store for tests.
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
