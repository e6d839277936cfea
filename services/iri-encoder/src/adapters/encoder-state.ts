// The encoder's CIN and sequence counters, per tenant, backed by the compacted changelog
// li.<t>.encoder-state. Counters are reloaded whenever partitions are assigned, after the
// previous owner was fenced, so sequence numbers never repeat or skip.
import { type Bus, type OutputRecord, readTopic, topicName } from '@li/bus';
import type { Logger } from '@li/log';
import { commit, type EncoderState, emptyState, restore, type StateChange } from '../domain/state.ts';

interface StateStore {
  reload(tenant: string): Promise<void>;
  /** A working copy for one batch: sees the committed state and the batch's writes, without copying it. */
  working(tenant: string): EncoderState;
  /** Applies the batch's changelog records to the committed state, once the transaction committed. */
  committed(tenant: string, outputs: readonly OutputRecord[]): void;
}

export function stateRecord(tenant: string, c: StateChange): OutputRecord {
  const topic = topicName(tenant, 'encoder-state');
  return { topic, key: c.key, value: c.value === null ? null : Buffer.from(JSON.stringify(c.value)) };
}

function stateChange(key: string, value: Buffer | null): StateChange {
  return { key, value: value ? JSON.parse(value.toString('utf8')) : null };
}

export function stateStore(bus: Bus, tenants: readonly string[], log: Logger): StateStore {
  const states = new Map<string, EncoderState>(tenants.map((t) => [t, emptyState()]));
  return {
    async reload(tenant) {
      const changes: StateChange[] = [];
      for (const r of await readTopic(bus.kafka, topicName(tenant, 'encoder-state'))) {
        if (r.key) changes.push(stateChange(r.key, r.value));
      }
      states.set(tenant, restore(changes));
      log.info({ tenant, records: changes.length }, 'encoder state reloaded');
    },
    working(tenant) {
      const base = states.get(tenant) ?? emptyState();
      return { entries: Object.create(base.entries) as EncoderState['entries'] };
    },
    committed(tenant, outputs) {
      const stateTopic = topicName(tenant, 'encoder-state');
      const changes: StateChange[] = [];
      for (const o of outputs) if (o.topic === stateTopic && o.key) changes.push(stateChange(o.key, o.value));
      commit(states.get(tenant)!, changes);
    },
  };
}
