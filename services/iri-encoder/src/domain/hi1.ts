// HI1 notifications (TS 101 671 HI1NotificationOperations in a TS 102 232-1 PS-PDU, payload [3]
// hI1-Operation), sent on HI2 when a warrant is activated, deactivated or modified. Which one is
// decided against the previous version of the warrant, kept in the encoder's compacted state
// (one entry per warrant, written in the same Kafka transaction as the notification):
//
//   first seen in effect, or SUSPENDED/DEACTIVATED/scheduled -> in effect    liActivated
//   in effect -> SUSPENDED or DEACTIVATED                                     liDeactivated
//   in effect -> in effect with other targets, LEMFs or validity              liModified
//   a version not newer than the stored one (replay)                          nothing
//
// "In effect": ACTIVE, and the version was written inside its validity window. A warrant entered
// ahead of its start is announced by the version admf's scheduler writes at the start.
//
// Times: the PSHeader carries the time the encoder writes the PDU, qualified timeOfMediation
// (TS 102 232-1 timeStampQualifier); the Notification's own timeStamp says when the change took
// effect (the window's start or end for scheduled ones, otherwise the version's write time).
//
// Interception that stops while a communication of the LIID is open ends it: an iRI-End per open
// communication (its CIN and IRI counter), carried as eTSI671IRI IRI-Parameters since no event
// of the communication's own service says "interception ended", before the liDeactivated.
//
// With several encoder instances, the LIID's communications belong to the instance that owns its
// li.<t>.matched partition, which need not be the one reading the warrant: that one then hands
// the ends over (`ends` in the result, sent to li.<t>.matched keyed by the LIID), and the owner
// makes them with endCommunications(), after the liDeactivated.
//
// Header as OpenLI sends it (notes/openli.md §4.6): CIN 0, no network element id, and the
// sequence number from a gap-free per-warrant HI1 counter (separate from IRI/CC counters).
import {
  encodeHi2Iri,
  encodePsPdu,
  HI1_OPERATION,
  type Hi1Notification,
  type Hi1OperationKind,
  IRI_TYPE,
  IRI_VERSION_LAST,
  type IriParameters,
  TIMESTAMP_QUALIFIER,
  WINTER_SUMMER,
} from '@li/etsi';
import type { Warrant } from '@li/schemas';
import type { EncErrorCode } from '../errors.ts';
import { type EncodedRecord, psHeader } from './encode.ts';
import type { EncoderOptions } from './options.ts';
import {
  type EncoderState,
  type Hi1Entry,
  MAX_SEQ,
  nextSeq,
  openCommunications,
  type StateChange,
  StateView,
} from './state.ts';
import { HI2_RECORD_TYPE } from './values.ts';

/** Keys start with the LIID, like the other state keys; the country keeps two warrants apart. */
export const hi1Key = (w: Pick<Warrant, 'liid' | 'authorisationCountry'>) => `${w.liid}/hi1/${w.authorisationCountry}`;

/** The ends of a LIID's open communications, for the instance that owns them to make. */
export interface WarrantEnd {
  liid: string;
  authorisationCountry: string;
  version: number;
  /** When interception stopped (the IRI-End's time). */
  endMicros: number;
  lemfIds: string[];
}

type Hi1Result =
  | {
      ok: true;
      records: EncodedRecord[];
      stateChanges: StateChange[];
      notification?: Hi1OperationKind;
      /** Set when another instance may own the LIID's open communications: it ends them. */
      ends?: WarrantEnd;
    }
  | { ok: false; code: EncErrorCode; reason: string };

function fingerprint(w: Warrant): string {
  const targets = w.targets.map((t) => `${t.type}:${t.value}`).sort();
  return JSON.stringify([targets, [...w.lemfIds].sort(), w.validFromMicros, w.validUntilMicros]);
}

/** ACTIVE and written inside its window (a version written before the start is scheduled). */
function inEffect(w: Warrant): boolean {
  return w.state === 'ACTIVE' && w.updatedAtMicros >= w.validFromMicros && w.updatedAtMicros < w.validUntilMicros;
}

/** Which notification a new warrant version gives after the stored one (undefined: none). */
function notificationFor(prev: Hi1Entry | undefined, w: Warrant): Hi1OperationKind | undefined {
  const wasActive = prev?.state === 'ACTIVE' && !prev.pending;
  const isActive = inEffect(w);
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

/** When the change took effect: a scheduled start or end at its window's edge, else the write. */
function effectiveMicros(kind: Hi1OperationKind, prev: Hi1Entry | undefined, w: Warrant): number {
  switch (kind) {
    case 'liActivated':
      return prev?.pending ? w.validFromMicros : w.updatedAtMicros;
    case 'liDeactivated':
      return Math.min(w.updatedAtMicros, w.validUntilMicros);
    case 'liModified':
      return w.updatedAtMicros;
    default:
      return kind satisfies never;
  }
}

/**
 * The iRI-End of every communication of the LIID still open when interception stops, on that
 * communication's CIN and IRI counter (and its TS 101 671 twin where IRIs have one).
 */
function endOpenCommunications(
  state: EncoderState,
  v: StateView,
  w: Pick<Warrant, 'liid' | 'authorisationCountry' | 'version'>,
  o: EncoderOptions,
  at: { endMicros: number; nowMicros: number },
  lemfIds: string[],
): EncodedRecord[] {
  const records: EncodedRecord[] = [];
  for (const { key, comm } of openCommunications(state, w.liid)) {
    const seq = nextSeq(v, w.liid, comm.cin, 'iri');
    const params: IriParameters = {
      iriVersion: IRI_VERSION_LAST,
      liid: w.liid,
      communicationIdentifier: { cin: String(comm.cin), operatorIdentifier: o.operatorIdentifier },
      timeStamp: { kind: 'localTime', micros: at.endMicros, winterSummer: WINTER_SUMMER.notProvided },
    };
    const header = psHeader(
      {
        liid: w.liid,
        cin: comm.cin,
        seq,
        micros: at.nowMicros,
        qualifier: TIMESTAMP_QUALIFIER.timeOfMediation,
        authorisationCountry: w.authorisationCountry,
        networkElementIdentifier: o.networkElementIdentifier,
      },
      o,
    );
    const base = {
      handover: 'HI2',
      kind: 'IRI',
      liid: w.liid,
      cin: comm.cin,
      sequenceNumber: seq,
      iriType: 'END',
      lemfIds,
      eventId: `warrant:${w.authorisationCountry}:${w.liid}:${w.version}:end:${comm.cin}`,
    } as const;
    const bytes = encodePsPdu({
      header,
      payload: {
        kind: 'iri',
        items: [{ iriType: IRI_TYPE.end, contents: { kind: 'eTSI671IRI', value: { kind: 'iRIParameters', params } } }],
      },
    });
    records.push({ ...base, format: 'TS102232', bytes });
    if (o.ts101671Countries.includes(w.authorisationCountry)) {
      const hi2Params: IriParameters = {
        ...params,
        communicationIdentifier: {
          ...params.communicationIdentifier,
          ...(o.hi2NetworkElement ? { networkElementIdentifier: o.hi2NetworkElement } : {}),
        },
        nationalHI2Asn1Parameters: { countryCode: w.authorisationCountry },
      };
      const hi2 = encodeHi2Iri({ recordType: HI2_RECORD_TYPE.END, params: hi2Params });
      records.push({ ...base, format: 'TS101671', bytes: hi2 });
    }
    v.set(key, { ...comm, phase: 'ended', lastEventMicros: Math.max(comm.lastEventMicros, at.endMicros) });
  }
  return records;
}

/** The mediation time, and whether this instance keeps the LIID's communications (see batch.ts). */
interface WarrantContext {
  nowMicros: number;
  ownsCommunications: boolean;
}

/**
 * The HI1 notification for one warrant version (with the ends of the communications it stops),
 * and the state to store. Never throws: a value the encoder cannot carry (e.g. an operator id
 * longer than 5) comes back as an error.
 */
export function applyWarrant(
  state: EncoderState,
  w: Warrant,
  o: EncoderOptions,
  { nowMicros, ownsCommunications }: WarrantContext,
): Hi1Result {
  const v = new StateView(state);
  const key = hi1Key(w);
  const prev = v.get<Hi1Entry>(key, 'hi1');
  if (prev && w.version <= prev.version) return { ok: true, records: [], stateChanges: [] };
  const kind = notificationFor(prev, w);
  const entry: Hi1Entry = {
    t: 'hi1',
    version: w.version,
    state: w.state,
    ...(w.state === 'ACTIVE' && !inEffect(w) ? { pending: true as const } : {}),
    lemfIds: [...w.lemfIds],
    fingerprint: fingerprint(w),
    seq: prev?.seq ?? 0,
  };
  const records: EncodedRecord[] = [];
  let ends: WarrantEnd | undefined;
  if (kind) {
    // Deactivation also reaches the LEMFs of the version that was active.
    const lemfIds =
      kind === 'liDeactivated' && prev ? [...new Set([...prev.lemfIds, ...w.lemfIds])] : [...new Set(w.lemfIds)];
    const seq = entry.seq;
    entry.seq = seq >= MAX_SEQ ? 0 : seq + 1;
    const effective = effectiveMicros(kind, prev, w);
    const notification: Hi1Notification = {
      liid: w.liid,
      communicationIdentifier: { operatorIdentifier: o.operatorIdentifier },
      timeStamp: { kind: 'utcTime', micros: effective },
    };
    const info = targetInformation(w);
    if (info) notification.targetInformation = info;
    try {
      if (kind === 'liDeactivated' && ownsCommunications)
        records.push(...endOpenCommunications(state, v, w, o, { endMicros: effective, nowMicros }, lemfIds));
      else if (kind === 'liDeactivated') {
        const { liid, authorisationCountry, version } = w;
        ends = { liid, authorisationCountry, version, endMicros: effective, lemfIds };
      }
      const bytes = encodePsPdu({
        header: psHeader(
          {
            liid: w.liid,
            cin: 0,
            seq,
            micros: nowMicros,
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
  return {
    ok: true,
    records,
    stateChanges: v.changes(),
    ...(kind ? { notification: kind } : {}),
    ...(ends ? { ends } : {}),
  };
}

/** The owner of the LIID's communications ends those still open (see WarrantEnd). */
export function endCommunications(
  state: EncoderState,
  end: WarrantEnd,
  o: EncoderOptions,
  nowMicros: number,
):
  | { ok: true; records: EncodedRecord[]; stateChanges: StateChange[] }
  | { ok: false; code: EncErrorCode; reason: string } {
  const v = new StateView(state);
  try {
    const records = endOpenCommunications(state, v, end, o, { endMicros: end.endMicros, nowMicros }, end.lemfIds);
    return { ok: true, records, stateChanges: v.changes() };
  } catch (err) {
    return { ok: false, code: 'ENC_ERR_INVALID_VALUE', reason: err instanceof Error ? err.message : String(err) };
  }
}
