// TRI keep-alive handling (TS 102 232-1 clause 6.3.4), PDU acknowledgement PDUs (clause 6.3.6)
// and header timestamp helpers.
import {
  type CommunicationIdentifier,
  decodePsPdu,
  encodePsPdu,
  microSecondTimeStamp,
  type PsHeader,
  TIMESTAMP_QUALIFIER,
  type TriPayload,
} from './pspdu.ts';

export type TimestampFormat = 'GENERALIZED_TIME' | 'MICROSECOND';

/** The header time fields for one LEA's choice of format, qualified as time of interception. */
export function headerTime(
  micros: number,
  format: TimestampFormat,
  qualifier: number = TIMESTAMP_QUALIFIER.timeOfInterception,
): Pick<PsHeader, 'timeStamp' | 'microSecondTimeStamp' | 'timeStampQualifier'> {
  return format === 'GENERALIZED_TIME'
    ? { timeStamp: micros, timeStampQualifier: qualifier }
    : { microSecondTimeStamp: microSecondTimeStamp(micros), timeStampQualifier: qualifier };
}

export interface KeepaliveOptions {
  /** Any value is allowed in a keep-alive header (6.3.4); '-' unless the LEA wants another. */
  liid?: string;
  operatorIdentifier: string;
  networkElementIdentifier?: string;
  authorizationCountryCode?: string;
  deliveryCountryCode?: string;
  /** The per-connection keep-alive counter (not an IRI/CC sequence number). */
  sequenceNumber: number;
  /** communicationIdentityNumber; 0 unless the PDU names a data PDU (acknowledgements). */
  cin?: number;
  timeMicros: number;
  timestampFormat: TimestampFormat;
}

function triPdu(o: KeepaliveOptions, tri: TriPayload): Buffer {
  const ci: CommunicationIdentifier = { operatorIdentifier: o.operatorIdentifier, cin: o.cin ?? 0 };
  if (o.networkElementIdentifier !== undefined) ci.networkElementIdentifier = o.networkElementIdentifier;
  if (o.deliveryCountryCode !== undefined) ci.deliveryCountryCode = o.deliveryCountryCode;
  const header: PsHeader = {
    liid: o.liid ?? '-',
    communicationIdentifier: ci,
    sequenceNumber: o.sequenceNumber,
    ...headerTime(o.timeMicros, o.timestampFormat, TIMESTAMP_QUALIFIER.timeOfMediation),
  };
  if (o.authorizationCountryCode !== undefined) header.authorizationCountryCode = o.authorizationCountryCode;
  return encodePsPdu({ header, payload: { kind: 'tri', tri } });
}

/** A TRI keep-alive PS-PDU. */
export function encodeKeepalive(o: KeepaliveOptions): Buffer {
  return triPdu(o, { kind: 'keepAlive' });
}

/** A TRI keep-aliveResponse PS-PDU (what a LEMF answers; used by test peers). */
export function encodeKeepaliveResponse(o: KeepaliveOptions): Buffer {
  return triPdu(o, { kind: 'keepAliveResponse' });
}

/**
 * A TRI pDUAcknowledgementRequest PS-PDU. Its TRI payload is NULL, so the PDU it asks about is
 * named by its header: give the LIID, CIN and sequence number of that data PDU.
 */
export function encodePduAckRequest(o: KeepaliveOptions): Buffer {
  return triPdu(o, { kind: 'pDUAcknowledgementRequest' });
}

/** A TRI pDUAcknowledgementResponse PS-PDU, naming (LIID, CIN, seq) the acknowledged PDU (used by test peers). */
export function encodePduAckResponse(o: KeepaliveOptions): Buffer {
  return triPdu(o, { kind: 'pDUAcknowledgementResponse' });
}

/**
 * True when buf holds a PS-PDU whose payload is a TRI keep-aliveResponse, and, when
 * expectedSequenceNumber is given, it echoes that sequence number. Never throws.
 */
export function isKeepaliveResponse(buf: Uint8Array, expectedSequenceNumber?: number): boolean {
  const r = decodePsPdu(buf);
  if (!r.ok) return false;
  const { header, payload } = r.value;
  if (payload.kind !== 'tri' || payload.tri.kind !== 'keepAliveResponse') return false;
  return expectedSequenceNumber === undefined || header.sequenceNumber === expectedSequenceNumber;
}

/** True when buf holds a TRI keep-alive request (a LEMF may send them too). Never throws. */
export function isKeepalive(buf: Uint8Array): boolean {
  const r = decodePsPdu(buf);
  return r.ok && r.value.payload.kind === 'tri' && r.value.payload.tri.kind === 'keepAlive';
}
