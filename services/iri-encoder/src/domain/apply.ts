// apply(state, matchedEvent) -> { records, stateChanges }: the pure core of the iri-encoder.
// One straight path: classify (classify.ts) -> allocate the CIN (state.ts) -> build the values
// (values.ts) -> encode, numbering each PDU (encode.ts). The input state is never mutated; the
// service writes records and stateChanges in one Kafka transaction and then calls
// commit(state, stateChanges).
import { EtsiEncodeError } from '@li/etsi';
import type { MatchedEvent } from '@li/schemas';
import { type EncErrorCode, encErrors } from '../errors.ts';
import { classify } from './classify.ts';
import { type EncodedRecord, encode } from './encode.ts';
import type { EncoderOptions } from './options.ts';
import { allocate, type EncoderState, type StateChange, StateView } from './state.ts';
import { buildValues, type Skipped } from './values.ts';

type ApplyResult =
  | { ok: true; records: EncodedRecord[]; stateChanges: StateChange[]; skipped: Skipped[] }
  | { ok: false; code: EncErrorCode; reason: string };

/** Encodes the records of one matched event. Never throws: failures come back with a code. */
export function apply(state: EncoderState, m: MatchedEvent, options: EncoderOptions): ApplyResult {
  try {
    const c = classify(m);
    if (!c) return { ok: true, records: [], stateChanges: [], skipped: [] };
    const view = new StateView(state);
    const a = allocate(view, m, c);
    const values = buildValues(m, c.role, a, options);
    const records = encode(m, options, a, values);
    return { ok: true, records, stateChanges: view.changes(), skipped: values.skipped };
  } catch (err) {
    if (encErrors.is(err)) return { ok: false, code: err.code, reason: err.message };
    if (err instanceof EtsiEncodeError) return { ok: false, code: 'ENC_ERR_INVALID_VALUE', reason: err.message };
    // A bug, not bad input: still a result, so the event goes to the DLQ and the batch goes on.
    return { ok: false, code: 'ENC_ERR_INTERNAL', reason: err instanceof Error ? err.message : String(err) };
  }
}
