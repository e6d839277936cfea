// For other packages' tests and benchmarks: what the iri-encoder writes for a list of events.
import { type InputRecord, topicName } from '@li/bus';
import type { MatchedEvent, Warrant } from '@li/schemas';
import { type BatchResult, encodeBatch, expirySweep, type Input } from '../adapters/batch.ts';
import { memoryStates } from '../adapters/encoder-state.ts';
import { apply } from '../domain/apply.ts';
import type { EncodedRecord } from '../domain/encode.ts';
import type { EncoderOptions } from '../domain/options.ts';
import { commit, type ExpiryPolicy, emptyState } from '../domain/state.ts';

export type { EncodedRecord, EncoderOptions };

/** The ETSI records the service writes on hi2/hi3 for these events, starting from an empty state. */
export function expectedRecords(events: Iterable<MatchedEvent>, options: EncoderOptions): EncodedRecord[] {
  const state = emptyState();
  const records: EncodedRecord[] = [];
  for (const m of events) {
    const r = apply(state, m, options);
    if (!r.ok) throw new Error(`event rejected by the encoder: ${r.code}`);
    commit(state, r.stateChanges);
    records.push(...r.records);
  }
  return records;
}
export { composeReport } from '../domain/report.ts';

/**
 * The service's batch path without Kafka: each encode() is one batch whose transaction
 * committed (state records, tombstones included, applied as the service applies them).
 * The wall clock defaults to never capping the events' times.
 */
export function batchEncoder(
  tenant: string,
  options: EncoderOptions,
  policy: ExpiryPolicy,
  wallMicros: () => number = () => Number.POSITIVE_INFINITY,
) {
  const states = memoryStates([tenant]);
  const expiry = expirySweep(policy, wallMicros);
  const deps = {
    options,
    lemfs: { get: () => undefined },
    reportFrom: 'li-reports@mediation.invalid',
    expiry,
    nowMicros: () => Date.now() * 1000,
  };
  let offset = 0;
  return {
    /** One batch of matched events and warrant versions, in this order. */
    encode(inputs: readonly (MatchedEvent | Warrant)[]): BatchResult {
      const batch = inputs.map((x): InputRecord<Input> => {
        const common = { partition: 0, offset: String(offset++), headers: {} };
        if ('event' in x) {
          return {
            ...common,
            topic: topicName(tenant, 'matched'),
            key: x.liid,
            value: { kind: 'matched', value: x },
            timestamp: String(Math.floor(x.event.occurredAtMicros / 1000)),
          };
        }
        return {
          ...common,
          topic: topicName(tenant, 'warrants'),
          key: `${x.authorisationCountry}:${x.liid}`,
          value: { kind: 'warrant', value: x },
          timestamp: String(Math.floor(x.updatedAtMicros / 1000)),
        };
      });
      const result = encodeBatch(tenant, states.working(tenant), batch, deps);
      states.committed(tenant, result.outputs);
      return result;
    },
    /** As after a rebalance: the LIIDs swept are again only those encoded from now on. */
    reassigned: () => expiry.reassigned(tenant),
    /** Keys in the committed state: CIN counters, live communications and their counters. */
    liveEntries: () => Object.keys(states.current(tenant).entries).length,
  };
}
