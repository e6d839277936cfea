// The in-memory StateStore for tests: commits are applied at once.
import { MemoryState } from '../domain/memory-state.ts';
import type { Change } from '../domain/model.ts';
import type { StateStore } from '../domain/ports.ts';

export class MemoryStateStore extends MemoryState implements StateStore {
  async commit(changes: readonly Change[]): Promise<void> {
    this.applyChanges(changes);
  }
}
