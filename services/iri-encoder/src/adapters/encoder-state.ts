// The encoder's CIN and sequence counters, per tenant, backed by the compacted changelog
// li.<t>.encoder-state. Counters are reloaded whenever partitions are assigned, after the
// previous owner was fenced, so sequence numbers never repeat or skip. Expired communications
// are tombstoned (adapters/batch.ts), so the state holds live communications only.
import { type Bus, type OutputRecord, readTopic, topicName } from '@li/bus';
import type { Logger } from '@li/log';
import { commit, type EncoderState, emptyState, restore, type StateChange } from '../domain/state.ts';

/** The tenants' committed states in memory, and the per-batch working copies over them. */
interface MemoryStates {
  /** The committed state of a tenant (read-only for callers). */
  current(tenant: string): EncoderState;
  replace(tenant: string, state: EncoderState): void;
  /** A working copy for one batch: sees the committed state and the batch's writes, without copying it. */
  working(tenant: string): EncoderState;
  /** Applies the batch's changelog records (tombstones delete) to the committed state, once the transaction committed. */
  committed(tenant: string, outputs: readonly OutputRecord[]): void;
}

interface StateStore extends Omit<MemoryStates, 'current' | 'replace'> {
  reload(tenant: string): Promise<void>;
}

export function stateRecord(tenant: string, c: StateChange): OutputRecord {
  const topic = topicName(tenant, 'encoder-state');
  return { topic, key: c.key, value: c.value === null ? null : Buffer.from(JSON.stringify(c.value)) };
}

function stateChange(key: string, value: Buffer | null): StateChange {
  return { key, value: value ? JSON.parse(value.toString('utf8')) : null };
}

export function memoryStates(tenants: readonly string[]): MemoryStates {
  const states = new Map<string, EncoderState>(tenants.map((t) => [t, emptyState()]));
  const current = (tenant: string) => states.get(tenant) ?? emptyState();
  return {
    current,
    replace: (tenant, state) => states.set(tenant, state),
    working(tenant) {
      return { entries: Object.create(current(tenant).entries) as EncoderState['entries'] };
    },
    committed(tenant, outputs) {
      const stateTopic = topicName(tenant, 'encoder-state');
      const changes: StateChange[] = [];
      for (const o of outputs) if (o.topic === stateTopic && o.key) changes.push(stateChange(o.key, o.value));
      commit(states.get(tenant)!, changes);
    },
  };
}

export function stateStore(bus: Bus, tenants: readonly string[], log: Logger): StateStore {
  const states = memoryStates(tenants);
  return {
    // Tombstones delete on restore too: expired communications are not read back.
    async reload(tenant) {
      const changes: StateChange[] = [];
      for (const r of await readTopic(bus.kafka, topicName(tenant, 'encoder-state'))) {
        if (r.key) changes.push(stateChange(r.key, r.value));
      }
      const state = restore(changes);
      states.replace(tenant, state);
      log.info(
        { tenant, records: changes.length, count: Object.keys(state.entries).length },
        'encoder state reloaded (count: live keys)',
      );
    },
    working: states.working,
    committed: states.committed,
  };
}
