// The in-memory StateStore for tests: commits are applied at once. Values are deep-frozen, so a
// test fails if the domain changes a stored value in place (the stores keep values uncopied).
import { MemoryState } from '../domain/memory-state.ts';
import type { Change } from '../domain/model.ts';
import type { StateStore } from '../domain/ports.ts';

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

export class MemoryStateStore extends MemoryState implements StateStore {
  override applyChanges(changes: readonly Change[]): void {
    super.applyChanges(changes.map((c) => deepFreeze(c)));
  }

  async commit(changes: readonly Change[]): Promise<void> {
    this.applyChanges(changes);
  }
}
