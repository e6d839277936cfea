// For other packages' tests and benchmarks: what the iri-encoder writes for a list of events.
import type { MatchedEvent } from '@li/schemas';
import { apply } from '../domain/apply.ts';
import type { EncodedRecord } from '../domain/encode.ts';
import type { EncoderOptions } from '../domain/options.ts';
import { commit, emptyState } from '../domain/state.ts';

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
