// HI1 notifications (TS 101 671 HI1NotificationOperations in a TS 102 232-1 PS-PDU, payload [3]
// hI1-Operation), sent on HI2 when a warrant is activated, deactivated or modified. Which one is
// decided against the previous version of the warrant, kept in the encoder's compacted state
// (one entry per warrant, written in the same Kafka transaction as the notification):
//
//   first seen ACTIVE, or SUSPENDED/DEACTIVATED -> ACTIVE      liActivated
//   ACTIVE -> SUSPENDED or DEACTIVATED                          liDeactivated
//   ACTIVE -> ACTIVE with other targets, LEMFs or validity      liModified
//   a version not newer than the stored one (replay)            nothing
//
// Header as OpenLI sends it (notes/openli.md §4.6): CIN 0, no network element id, and the
// sequence number from a gap-free per-warrant HI1 counter (separate from IRI/CC counters).
import { encodePsPdu, HI1_OPERATION, type Hi1Notification, type Hi1OperationKind, TIMESTAMP_QUALIFIER } from '@li/etsi';
import type { Warrant } from '@li/schemas';
import type { EncErrorCode } from '../errors.ts';
import { type EncodedRecord, psHeader } from './encode.ts';
import type { EncoderOptions } from './options.ts';
import { type EncoderState, type Hi1Entry, MAX_SEQ, type StateChange, StateView } from './state.ts';

/** Keys start with the LIID, like the other state keys; the country keeps two warrants apart. */
export const hi1Key = (w: Pick<Warrant, 'liid' | 'authorisationCountry'>) => `${w.liid}/hi1/${w.authorisationCountry}`;

type Hi1Result =
  | { ok: true; records: EncodedRecord[]; stateChanges: StateChange[]; notification?: Hi1OperationKind }
  | { ok: false; code: EncErrorCode; reason: string };

function fingerprint(w: Warrant): string {
  const targets = w.targets.map((t) => `${t.type}:${t.value}`).sort();
  return JSON.stringify([targets, [...w.lemfIds].sort(), w.validFromMicros, w.validUntilMicros]);
}

/** Which notification a new warrant version gives after the stored one (undefined: none). */
function notificationFor(prev: Hi1Entry | undefined, w: Warrant): Hi1OperationKind | undefined {
  const wasActive = prev?.state === 'ACTIVE';
  const isActive = w.state === 'ACTIVE';
  if (!wasActive && isActive) return 'liActivated';
  if (wasActive && !isActive) return 'liDeactivated';
  if (wasActive && isActive && prev.fingerprint !== fingerprint(w)) return 'liModified';
  return undefined;
}

/** target-Information: the targets as text, whole entries only, within the 256 octets allowed. */
function targetInformation(w: Warrant): Buffer | undefined {
  let text = '';
  for (const t of w.targets) {
    const next = text ? `${text}, ${t.value}` : t.value;
    if (Buffer.byteLength(next, 'utf8') > 256) break;
    text = next;
  }
  return text ? Buffer.from(text, 'utf8') : undefined;
}

/**
 * The HI1 notification for one warrant version, and the state entry to store. Never throws:
 * a value the encoder cannot carry (e.g. an operator id longer than 5) comes back as an error.
 */
export function applyWarrant(state: EncoderState, w: Warrant, o: EncoderOptions): Hi1Result {
  const v = new StateView(state);
  const key = hi1Key(w);
  const prev = v.get<Hi1Entry>(key, 'hi1');
  if (prev && w.version <= prev.version) return { ok: true, records: [], stateChanges: [] };
  const kind = notificationFor(prev, w);
  const entry: Hi1Entry = {
    t: 'hi1',
    version: w.version,
    state: w.state,
    lemfIds: [...w.lemfIds],
    fingerprint: fingerprint(w),
    seq: prev?.seq ?? 0,
  };
  const records: EncodedRecord[] = [];
  if (kind) {
    // Deactivation also reaches the LEMFs of the version that was active.
    const lemfIds =
      kind === 'liDeactivated' && prev ? [...new Set([...prev.lemfIds, ...w.lemfIds])] : [...new Set(w.lemfIds)];
    const seq = entry.seq;
    entry.seq = seq >= MAX_SEQ ? 0 : seq + 1;
    const notification: Hi1Notification = {
      liid: w.liid,
      communicationIdentifier: { operatorIdentifier: o.operatorIdentifier },
      timeStamp: { kind: 'utcTime', micros: w.updatedAtMicros },
    };
    const info = targetInformation(w);
    if (info) notification.targetInformation = info;
    try {
      const bytes = encodePsPdu({
        header: psHeader(
          {
            liid: w.liid,
            cin: 0,
            seq,
            micros: w.updatedAtMicros,
            qualifier: TIMESTAMP_QUALIFIER.timeOfMediation,
            authorisationCountry: w.authorisationCountry,
          },
          o,
        ),
        payload: { kind: 'hi1', operation: { kind, notification } },
      });
      records.push({
        handover: 'HI2',
        format: 'TS102232',
        kind: 'HI1',
        liid: w.liid,
        cin: 0,
        sequenceNumber: seq,
        lemfIds,
        eventId: `warrant:${w.authorisationCountry}:${w.liid}:${w.version}:${HI1_OPERATION[kind]}`,
        bytes,
      });
    } catch (err) {
      return { ok: false, code: 'ENC_ERR_INVALID_VALUE', reason: err instanceof Error ? err.message : String(err) };
    }
  }
  v.set(key, entry);
  return { ok: true, records, stateChanges: v.changes(), ...(kind ? { notification: kind } : {}) };
}
