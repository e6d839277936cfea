// apply(state, matchedEvent) -> { records, stateChanges }: the pure core of the iri-encoder.
// The input state is never mutated; the service writes records and stateChanges in one Kafka
// transaction and then calls commit(state, stateChanges).
import {
  type CcContents,
  type CcPayload,
  EMAIL_EVENT,
  EMAIL_FORMAT,
  EtsiEncodeError,
  encodeHi2Iri,
  encodePsPdu,
  headerTime,
  IRI_TYPE,
  type IriContents,
  microSecondTimeStamp,
  type NetworkElementIdentifier,
  type PsHeader,
  splitContent,
  TIMESTAMP_QUALIFIER,
} from '@li/etsi';
import type { MatchedEvent } from '@li/schemas';
import { type EventRole, type IriRecordType, resolve, roleOf, type ServiceKind, serviceOf } from './classify.ts';
import { ENC_ERR, type EncErrorCode } from './errors.ts';
import { isMsnpMessage, msnpPackets } from './packet.ts';
import {
  type CommunicationEntry,
  cinFor,
  commKey,
  type EncoderState,
  nextSeq,
  type StateChange,
  StateView,
} from './state.ts';
import {
  emailCcDirection,
  emailEventType,
  emailIri,
  hi2Iri,
  ipIri,
  ipmmCc,
  isIpPacket,
  isRtp,
  mediaDirection,
  sessionDirection,
  sipIri,
  ValueError,
} from './values.ts';

export interface EncoderOptions {
  /** networkIdentifier.operatorIdentifier; keep it ≤5 characters for TS 101 671 records. */
  operatorIdentifier: string;
  /** networkIdentifier.networkElementIdentifier (≤16), e.g. this mediation function's id. */
  networkElementIdentifier?: string;
  /** deliveryCountryCode of the PSHeader (the LEMFs' country). */
  deliveryCountryCode?: string;
  /** Header time as GeneralizedTime, microSecondTimeStamp, or both (fits every LEMF). */
  timestampFormat: 'GENERALIZED_TIME' | 'MICROSECOND' | 'BOTH';
  /** Authorisation countries whose IRIs are also encoded as TS 101 671 HI2 records. */
  ts101671Countries: readonly string[];
  /** network-Element-Identifier of the TS 101 671 records. */
  hi2NetworkElement?: NetworkElementIdentifier;
  /** Content octets per CC PDU; larger content is segmented. */
  maxSegment: number;
}

export const DEFAULT_OPTIONS: Omit<EncoderOptions, 'operatorIdentifier'> = {
  timestampFormat: 'BOTH',
  ts101671Countries: ['IT'],
  maxSegment: 64_000,
};

export type RecordFormat = 'TS102232' | 'TS101671';

export interface EncodedRecord {
  /** HI2 for IRI and HI1 notifications, HI3 for CC (and the segment flag TRIs that bracket CC). */
  handover: 'HI2' | 'HI3';
  format: RecordFormat;
  kind: 'IRI' | 'CC' | 'TRI' | 'HI1';
  liid: string;
  cin: number;
  /** The PS-PDU sequenceNumber; a TS 101 671 record carries that of its PS-PDU twin. */
  sequenceNumber: number;
  iriType?: IriRecordType;
  lemfIds: string[];
  eventId: string;
  bytes: Buffer;
}

export interface Skipped {
  what: 'IRI' | 'CC';
  reason: string;
}

export type ApplyResult =
  | { ok: true; records: EncodedRecord[]; stateChanges: StateChange[]; skipped: Skipped[] }
  | { ok: false; code: EncErrorCode; reason: string };

// E-mail events that move a message, and so have content for EmailCC.
const CC_EMAIL_EVENTS: ReadonlySet<number> = new Set([
  EMAIL_EVENT.send,
  EMAIL_EVENT.receive,
  EMAIL_EVENT.download,
  EMAIL_EVENT.partialDownload,
  EMAIL_EVENT.upload,
]);

const TYPE_NUMBER: Record<IriRecordType, number> = {
  BEGIN: IRI_TYPE.begin,
  CONTINUE: IRI_TYPE.continue,
  END: IRI_TYPE.end,
  REPORT: IRI_TYPE.report,
};

function header(m: MatchedEvent, o: EncoderOptions, cin: number, seq: number): PsHeader {
  const micros = m.event.occurredAtMicros;
  const h: PsHeader = {
    liid: m.liid,
    communicationIdentifier: { operatorIdentifier: o.operatorIdentifier, cin },
    sequenceNumber: seq,
    ...(o.timestampFormat === 'BOTH'
      ? {
          timeStamp: micros,
          microSecondTimeStamp: microSecondTimeStamp(micros),
          timeStampQualifier: TIMESTAMP_QUALIFIER.timeOfInterception,
        }
      : headerTime(micros, o.timestampFormat)),
  };
  if (/^[A-Z]{2}$/.test(m.authorisationCountry)) h.authorizationCountryCode = m.authorisationCountry;
  if (o.networkElementIdentifier) h.communicationIdentifier.networkElementIdentifier = o.networkElementIdentifier;
  if (o.deliveryCountryCode) h.communicationIdentifier.deliveryCountryCode = o.deliveryCountryCode;
  return h;
}

interface Ctx {
  m: MatchedEvent;
  o: EncoderOptions;
  view: StateView;
  comm: CommunicationEntry;
  records: EncodedRecord[];
  skipped: Skipped[];
}

function push(ctx: Ctx, r: Omit<EncodedRecord, 'liid' | 'cin' | 'lemfIds' | 'eventId'>): void {
  ctx.records.push({ ...r, liid: ctx.m.liid, cin: ctx.comm.cin, lemfIds: ctx.m.lemfIds, eventId: ctx.m.event.eventId });
}

function emitIri(
  ctx: Ctx,
  type: IriRecordType,
  contents: IriContents,
  service: ServiceKind,
  withDirection: boolean,
): void {
  const { m, o, comm } = ctx;
  const seq = nextSeq(ctx.view, m.liid, comm.cin, 'iri');
  const item: { iriType: number; contents: IriContents; sessionDirection?: number } = {
    iriType: TYPE_NUMBER[type],
    contents,
  };
  if (withDirection) item.sessionDirection = sessionDirection(m);
  const bytes = encodePsPdu({ header: header(m, o, comm.cin, seq), payload: { kind: 'iri', items: [item] } });
  push(ctx, { handover: 'HI2', format: 'TS102232', kind: 'IRI', sequenceNumber: seq, iriType: type, bytes });
  if (o.ts101671Countries.includes(m.authorisationCountry)) {
    const hi2 = hi2Iri(m, type, comm.cin, service, {
      operatorIdentifier: o.operatorIdentifier,
      countryCode: m.authorisationCountry,
      ...(o.hi2NetworkElement ? { networkElement: o.hi2NetworkElement } : {}),
    });
    push(ctx, {
      handover: 'HI2',
      format: 'TS101671',
      kind: 'IRI',
      sequenceNumber: seq,
      iriType: type,
      bytes: encodeHi2Iri(hi2),
    });
  }
}

const ipccPackets = (part: Uint8Array): CcContents => ({
  kind: 'iPCC',
  value: { contents: { kind: 'iPPackets', packets: part } },
});

/**
 * IPCC for an MSNP message: one CC PDU per rebuilt IP packet (packet.ts says what in them is
 * from the wire). False when the packets cannot be rebuilt (addresses not IP).
 */
function emitMsnpCc(ctx: Ctx, direction: number): boolean {
  const packets = msnpPackets(ctx.m.event);
  for (const p of packets) emitCc(ctx, p, direction, ipccPackets);
  return packets.length > 0;
}

/** One CC PDU, or first-segment TRI + CC PDUs + last-segment TRI for large content. */
function emitCc(ctx: Ctx, content: Uint8Array, direction: number, wrap: (part: Uint8Array) => CcContents): void {
  const { m, o, comm } = ctx;
  const parts = splitContent(content, o.maxSegment);
  // Every PDU of the HI3 stream, the flag TRIs included, takes its own number from the CC
  // counter (TS 102 232-1 5.2.7: a PDU's sequenceNumber is unique within its LIID and CIN).
  const tri = (kind: 'firstSegmentFlag' | 'lastSegmentFlag') => {
    const seq = nextSeq(ctx.view, m.liid, comm.cin, 'cc');
    push(ctx, {
      handover: 'HI3',
      format: 'TS102232',
      kind: 'TRI',
      sequenceNumber: seq,
      bytes: encodePsPdu({ header: header(m, o, comm.cin, seq), payload: { kind: 'tri', tri: { kind } } }),
    });
  };
  if (parts.length > 1) tri('firstSegmentFlag');
  for (const part of parts) {
    const seq = nextSeq(ctx.view, m.liid, comm.cin, 'cc');
    const item: CcPayload = { payloadDirection: direction, contents: wrap(part) };
    const bytes = encodePsPdu({ header: header(m, o, comm.cin, seq), payload: { kind: 'cc', items: [item] } });
    push(ctx, { handover: 'HI3', format: 'TS102232', kind: 'CC', sequenceNumber: seq, bytes });
  }
  if (parts.length > 1) tri('lastSegmentFlag');
}

function handleMedia(ctx: Ctx): void {
  const { m } = ctx;
  const e = m.event;
  if (m.deliver !== 'IRI_AND_CC') return;
  if (!e.content || e.content.length === 0) {
    ctx.skipped.push({ what: 'CC', reason: 'media event without content' });
    return;
  }
  const dir = mediaDirection(m);
  if (ctx.comm.service === 'sip' || isRtp(e)) {
    emitCc(ctx, e.content, dir, (part) => ({ kind: 'iPMMCC', value: ipmmCc(e, part) }));
  } else if (isIpPacket(e)) {
    emitCc(ctx, e.content, dir, ipccPackets);
  } else if (isMsnpMessage(e) && emitMsnpCc(ctx, sessionDirection(m))) {
    // MSNP invitations to voice/video (category MEDIA) carry the MSG payload: IPCC as for chat.
  } else {
    ctx.skipped.push({ what: 'CC', reason: `no CC format for content type ${e.contentType ?? 'unknown'}` });
  }
}

function handleIri(ctx: Ctx, role: EventRole, service: ServiceKind): void {
  const { m, comm } = ctx;
  const e = m.event;
  const r = resolve(role, comm);
  if (!r) return;
  let contents: IriContents;
  let emailEvent: number | undefined;
  if (service === 'sip') contents = sipIri(e);
  else if (service === 'email') {
    emailEvent = emailEventType(e, role);
    if (emailEvent === undefined) {
      ctx.skipped.push({ what: 'IRI', reason: `no e-mail event type for ${e.category}` });
      return;
    }
    contents = emailIri(m, emailEvent);
  } else contents = ipIri(m, role);

  ctx.comm = {
    ...comm,
    phase: r.phase,
    answered: comm.answered || role === 'answer',
    lastEventMicros: Math.max(comm.lastEventMicros, e.occurredAtMicros),
    service: comm.service ?? service,
  };
  ctx.view.set(commKey(m.liid, e.communicationId || e.eventId), ctx.comm);
  emitIri(ctx, r.type, contents, service, service !== 'email');

  if (m.deliver !== 'IRI_AND_CC' || !e.content || e.content.length === 0) return;
  if (service === 'email' && emailEvent !== undefined && CC_EMAIL_EVENTS.has(emailEvent)) {
    const dir = emailCcDirection(m, emailEvent);
    emitCc(ctx, e.content, dir, (part) => ({
      kind: 'emailCC',
      value: { format: EMAIL_FORMAT.application, content: part },
    }));
  } else if (service === 'ip') {
    if (isIpPacket(e)) {
      emitCc(ctx, e.content, sessionDirection(m), ipccPackets);
    } else if (isMsnpMessage(e)) {
      // Messaging captured on the wire: IPCC (TS 102 232-3) of the message's packets, rebuilt
      // from the flow and the captured MSG payload (packet.ts).
      if (!emitMsnpCc(ctx, sessionDirection(m))) {
        ctx.skipped.push({ what: 'CC', reason: 'MSNP message without IP addresses to rebuild its packets' });
      }
    } else {
      // IPCC carries whole IP packets; other application payloads have no CC format here.
      ctx.skipped.push({ what: 'CC', reason: `content type ${e.contentType ?? 'unknown'} is not an IP packet` });
    }
  }
}

/** Encodes the records of one matched event. Never throws: failures come back with a code. */
export function apply(state: EncoderState, m: MatchedEvent, options: EncoderOptions): ApplyResult {
  try {
    const e = m.event;
    const service = serviceOf(e);
    const role = roleOf(e, service);
    if (role === 'ccOnly' && m.deliver !== 'IRI_AND_CC')
      return { ok: true, records: [], stateChanges: [], skipped: [] };
    // Activity without an IRI event is normal operation, not a failure: nothing is skipped, so
    // the service writes no DLQ record (reports for e-mail/PIPE LEMFs are composed apart).
    if (role === 'ignore' || role === 'reportOnly') return { ok: true, records: [], stateChanges: [], skipped: [] };
    const view = new StateView(state);
    // Events without a communication id stand alone: their own id keys the CIN.
    const comm = cinFor(view, m.liid, e.communicationId || e.eventId, e.occurredAtMicros);
    const ctx: Ctx = { m, o: options, view, comm, records: [], skipped: [] };
    if (role === 'ccOnly') {
      handleMedia(ctx);
      if (e.occurredAtMicros > comm.lastEventMicros) {
        view.set(commKey(m.liid, e.communicationId || e.eventId), { ...comm, lastEventMicros: e.occurredAtMicros });
      }
    } else {
      handleIri(ctx, role, service);
    }
    return { ok: true, records: ctx.records, stateChanges: view.changes(), skipped: ctx.skipped };
  } catch (err) {
    if (err instanceof ValueError) return { ok: false, code: err.code as EncErrorCode, reason: err.message };
    if (err instanceof EtsiEncodeError) return { ok: false, code: ENC_ERR.INVALID_VALUE, reason: err.message };
    // A bug, not bad input: still a result, so the event goes to the DLQ and the batch goes on.
    return { ok: false, code: ENC_ERR.INTERNAL, reason: err instanceof Error ? err.message : String(err) };
  }
}
