// The encoder's CIN and sequence counters, per tenant, backed by the compacted changelog
// li.<t>.encoder-state. Counters are reloaded whenever partitions are assigned, after the
// previous owner was fenced, so sequence numbers never repeat or skip. Expired communications
// are tombstoned (adapters/batch.ts), so the state holds live communications only.
import { type Bus, Changelog, jsonChangelog, type OutputRecord, topicName } from '@li/bus';
import type { Logger } from '@li/log';
import { commit, type EncoderState, emptyState, restore, type StateChange } from '../domain/state.ts';

type Entry = NonNullable<StateChange['value']>;

/** li.<t>.encoder-state: the entries as JSON (only the encoder reads them). */
const changelogOf = (tenant: string) => new Changelog<Entry>(topicName(tenant, 'encoder-state'), jsonChangelog());

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
  return changelogOf(tenant).record(c);
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
      commit(states.get(tenant)!, changelogOf(tenant).changesOf(outputs));
    },
  };
}

export function stateStore(bus: Bus, tenants: readonly string[], log: Logger): StateStore {
  const states = memoryStates(tenants);
  return {
    // Tombstones delete on restore too: expired communications are not read back.
    async reload(tenant) {
      // Committed records only; tombstones delete: expired communications are not read back.
      const { live, records } = await changelogOf(tenant).read(bus);
      const state = restore([...live].map(([key, value]) => ({ key, value })));
      states.replace(tenant, state);
      log.info(
        { tenant, records, count: Object.keys(state.entries).length },
        'encoder state reloaded (count: live keys)',
      );
    },
    working: states.working,
    committed: states.committed,
  };
}
