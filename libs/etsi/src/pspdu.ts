// TS 102 232-1 PS-PDU (LI-PS-PDU module version43, spec/asn1/LI-PS-PDU.asn).
import {
  BerError,
  BerWriter,
  byTag,
  CONTEXT,
  checkCountryCode,
  checkRange,
  children,
  choiceOf,
  type DecodeResult,
  EtsiEncodeError,
  expectConstructed,
  formatGeneralizedTime,
  guard,
  need,
  oidContent,
  readGeneralizedTime,
  readLatin1,
  readLenientTime,
  readNull,
  readOctets,
  readOid,
  readTlv,
  readUint,
  type Tlv,
  U,
  UNIVERSAL,
} from './ber.ts';
import { decodeEmailCc, decodeEmailIri, type EmailCc, type EmailIri, encodeEmailCc, encodeEmailIri } from './email.ts';
import { decodeHi1Operation, encodeHi1Operation, type Hi1Operation } from './hi1.ts';
import {
  decodeHi2IrisContentAt,
  decodeIriParameters,
  encodeHi2IrisContentTo,
  encodeIriParameters,
  type Hi2IrisContent,
  type IriParameters,
} from './hi2.ts';
import { decodeIpCc, decodeIpIri, encodeIpCc, encodeIpIri, type IpCc, type IpIri } from './ipaccess.ts';
import { decodeIpmmCc, decodeIpmmIri, encodeIpmmCc, encodeIpmmIri, type IpmmCc, type IpmmIri } from './ipmm.ts';

/** li-psDomainId {0.4.0.2.2.5.1 version43}: the LI-PS-PDU module we write and validate against. */
export const LI_PS_DOMAIN_ID: readonly number[] = [0, 4, 0, 2, 2, 5, 1, 43];

export const IRI_TYPE = { begin: 1, end: 2, continue: 3, report: 4 } as const;
export type IriType = (typeof IRI_TYPE)[keyof typeof IRI_TYPE];

export const PAYLOAD_DIRECTION = {
  fromTarget: 0,
  toTarget: 1,
  indeterminate: 2,
  combined: 3,
  notApplicable: 4,
} as const;

export const TIMESTAMP_QUALIFIER = {
  unknown: 0,
  timeOfInterception: 1,
  timeOfMediation: 2,
  timeOfAggregation: 3,
} as const;

export interface MicroSecondTimeStamp {
  seconds: number;
  microSeconds: number;
}

export interface CommunicationIdentifier {
  /** operatorIdentifier [0]: 1..16 octets (latin1 string). */
  operatorIdentifier: string;
  /** networkElementIdentifier [1]: 1..16 octets. */
  networkElementIdentifier?: string;
  /** communicationIdentityNumber [1] (CIN), 0..2^32-1; mandatory for IRI and CC. */
  cin?: number;
  deliveryCountryCode?: string;
}

export interface PsHeader {
  /** Defaults to LI_PS_DOMAIN_ID. */
  domainId?: readonly number[];
  /** lawfulInterceptionIdentifier [1]: 1..25 octets; a latin1 string so binary LIIDs survive. */
  liid: string;
  authorizationCountryCode?: string;
  communicationIdentifier: CommunicationIdentifier;
  sequenceNumber: number;
  /** timeStamp [5] GeneralizedTime, microseconds since the epoch (UTC). */
  timeStamp?: number;
  interceptionPointId?: string;
  microSecondTimeStamp?: MicroSecondTimeStamp;
  timeStampQualifier?: number;
}

export type IriContents =
  | { kind: 'emailIRI'; value: EmailIri }
  | { kind: 'iPIRI'; value: IpIri }
  | { kind: 'iPMMIRI'; value: IpmmIri }
  | { kind: 'eTSI671IRI'; value: Etsi671Iri }
  /** An alternative this codec does not model (decode only); raw is the whole alternative TLV. */
  | { kind: 'other'; tag: number; raw: Uint8Array };

export type Etsi671Iri =
  | { kind: 'iRIParameters'; params: IriParameters }
  | { kind: 'iRIsContent'; content: Hi2IrisContent };

export type CcContents =
  | { kind: 'emailCC'; value: EmailCc }
  | { kind: 'iPCC'; value: IpCc }
  | { kind: 'iPMMCC'; value: IpmmCc }
  | { kind: 'other'; tag: number; raw: Uint8Array };

export interface IriPayload {
  iriType?: number;
  timeStamp?: number;
  contents: IriContents;
  microSecondTimeStamp?: MicroSecondTimeStamp;
  timeStampQualifier?: number;
  sessionDirection?: number;
  payloadDirection?: number;
}

export interface CcPayload {
  payloadDirection?: number;
  timeStamp?: number;
  contents: CcContents;
  microSecondTimeStamp?: MicroSecondTimeStamp;
  timeStampQualifier?: number;
}

export interface IntegrityCheck {
  includedSequenceNumbers: number[];
  /** 1 hash, 2 signature. */
  checkType: number;
  /** 1 IRI, 2 CC, 3 ILHI. */
  dataType?: number;
  checkValue: Uint8Array;
  hashAlgorithm?: number;
  signatureAlgorithm?: number;
}

export type TriPayload =
  | { kind: 'integrityCheck'; value: IntegrityCheck }
  | { kind: 'testPDU' }
  | { kind: 'paddingPDU'; padding: Uint8Array }
  | { kind: 'keepAlive' }
  | { kind: 'keepAliveResponse' }
  | { kind: 'firstSegmentFlag' }
  | { kind: 'lastSegmentFlag' }
  | { kind: 'cINReset' }
  | { kind: 'operatorLeaMessage'; priority: number; message: Uint8Array }
  | { kind: 'optionComplete' }
  | { kind: 'pDUAcknowledgementRequest' }
  | { kind: 'pDUAcknowledgementResponse' }
  | { kind: 'other'; tag: number; raw: Uint8Array };

export type Payload =
  | { kind: 'iri'; items: IriPayload[] }
  | { kind: 'cc'; items: CcPayload[] }
  | { kind: 'tri'; tri: TriPayload }
  /** [3] hI1-Operation: TS 101 671 HI1 notifications (liActivated, liDeactivated, liModified). */
  | { kind: 'hi1'; operation: Hi1Operation }
  /** encryptionContainer and later alternatives: raw alternative TLV (decode only). */
  | { kind: 'other'; tag: number; raw: Uint8Array };

export interface PsPdu {
  header: PsHeader;
  payload: Payload;
}

// NULL-valued TRI alternatives and their tags (TS 102 232-1 TRIPayload).
const TRI_NULL_TAG = {
  testPDU: 1,
  keepAlive: 3,
  keepAliveResponse: 4,
  firstSegmentFlag: 5,
  lastSegmentFlag: 6,
  cINReset: 7,
  optionComplete: 11,
  pDUAcknowledgementRequest: 12,
  pDUAcknowledgementResponse: 13,
} as const;
type TriNullKind = keyof typeof TRI_NULL_TAG;
const TRI_NULL_KIND = new Map<number, TriNullKind>(Object.entries(TRI_NULL_TAG).map(([k, v]) => [v, k as TriNullKind]));

const MAX_U32 = 0xffff_ffff;
const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

const domainCache = new Map<readonly number[], Buffer>();
function domainBytes(arcs: readonly number[]): Buffer {
  let b = domainCache.get(arcs);
  if (!b) {
    b = oidContent(arcs);
    if (domainCache.size < 16) domainCache.set(arcs, b);
  }
  return b;
}

/** OCTET STRING identifiers travel as latin1 strings: one char per octet, none above 0xFF. */
function checkLen(s: string, min: number, max: number, what: string): void {
  if (s.length < min || s.length > max) throw new EtsiEncodeError(`${what} must be ${min}..${max} octets`);
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0xff) throw new EtsiEncodeError(`${what} must be octets (latin1), got a wider character`);
  }
}

function checkU32(v: number, what: string): void {
  if (!Number.isInteger(v) || v < 0 || v > MAX_U32) throw new EtsiEncodeError(`${what} must be 0..4294967295`);
}

function encodeMicro(w: BerWriter, num: number, m: MicroSecondTimeStamp): void {
  if (m.microSeconds < 0 || m.microSeconds > 999_999) throw new EtsiEncodeError('microSeconds must be 0..999999');
  w.open(CONTEXT, num);
  w.int(CONTEXT, 0, m.seconds);
  w.int(CONTEXT, 1, m.microSeconds);
  w.end();
}

/** Splits microseconds since the epoch into the MicroSecondTimeStamp fields. */
export function microSecondTimeStamp(micros: number): MicroSecondTimeStamp {
  const seconds = Math.floor(micros / 1_000_000);
  return { seconds, microSeconds: micros - seconds * 1_000_000 };
}

function encodeHeader(w: BerWriter, h: PsHeader): void {
  checkLen(h.liid, 1, 25, 'lawfulInterceptionIdentifier');
  const ci = h.communicationIdentifier;
  checkLen(ci.operatorIdentifier, 1, 16, 'operatorIdentifier');
  checkU32(h.sequenceNumber, 'sequenceNumber');
  w.open(CONTEXT, 1);
  w.octets(CONTEXT, 0, domainBytes(h.domainId ?? LI_PS_DOMAIN_ID));
  w.latin1(CONTEXT, 1, h.liid);
  if (h.authorizationCountryCode !== undefined) {
    checkCountryCode(h.authorizationCountryCode, 'authorizationCountryCode');
    w.latin1(CONTEXT, 2, h.authorizationCountryCode);
  }
  w.open(CONTEXT, 3);
  w.open(CONTEXT, 0);
  w.latin1(CONTEXT, 0, ci.operatorIdentifier);
  if (ci.networkElementIdentifier !== undefined) {
    checkLen(ci.networkElementIdentifier, 1, 16, 'networkElementIdentifier');
    w.latin1(CONTEXT, 1, ci.networkElementIdentifier);
  }
  w.end();
  if (ci.cin !== undefined) {
    checkU32(ci.cin, 'communicationIdentityNumber');
    w.int(CONTEXT, 1, ci.cin);
  }
  if (ci.deliveryCountryCode !== undefined) {
    checkCountryCode(ci.deliveryCountryCode, 'deliveryCountryCode');
    w.latin1(CONTEXT, 2, ci.deliveryCountryCode);
  }
  w.end();
  w.int(CONTEXT, 4, h.sequenceNumber);
  if (h.timeStamp !== undefined) w.latin1(CONTEXT, 5, formatGeneralizedTime(h.timeStamp));
  if (h.interceptionPointId !== undefined) {
    const id = h.interceptionPointId;
    if (id.length < 1 || id.length > 8 || !PRINTABLE.test(id)) {
      throw new EtsiEncodeError('interceptionPointID must be 1..8 PrintableString characters');
    }
    w.latin1(CONTEXT, 6, h.interceptionPointId);
  }
  if (h.microSecondTimeStamp) encodeMicro(w, 7, h.microSecondTimeStamp);
  if (h.timeStampQualifier !== undefined) w.int(CONTEXT, 8, h.timeStampQualifier);
  w.end();
}

function encodeIriContents(w: BerWriter, c: IriContents): void {
  w.open(CONTEXT, 2); // iRIContents is a CHOICE: explicit wrapper
  switch (c.kind) {
    case 'emailIRI':
      encodeEmailIri(w, 1, c.value);
      break;
    case 'iPIRI':
      encodeIpIri(w, 2, c.value);
      break;
    case 'iPMMIRI':
      encodeIpmmIri(w, 11, c.value);
      break;
    case 'eTSI671IRI':
      w.open(CONTEXT, 5); // ETSI671IRI is itself a CHOICE: explicit wrapper
      if (c.value.kind === 'iRIParameters') encodeIriParameters(w, 0, c.value.params);
      else encodeHi2IrisContentTo(w, 1, c.value.content);
      w.end();
      break;
    case 'other':
      w.raw(c.raw);
      break;
  }
  w.end();
}

function encodeCcContents(w: BerWriter, c: CcContents): void {
  w.open(CONTEXT, 2);
  switch (c.kind) {
    case 'emailCC':
      encodeEmailCc(w, 1, c.value);
      break;
    case 'iPCC':
      encodeIpCc(w, 2, c.value);
      break;
    case 'iPMMCC':
      encodeIpmmCc(w, 12, c.value);
      break;
    case 'other':
      w.raw(c.raw);
      break;
  }
  w.end();
}

function encodeTri(w: BerWriter, t: TriPayload): void {
  w.open(CONTEXT, 2); // TRIPayload is a CHOICE: explicit wrapper
  switch (t.kind) {
    case 'integrityCheck': {
      const v = t.value;
      w.open(CONTEXT, 0);
      w.open(CONTEXT, 0);
      for (const n of v.includedSequenceNumbers) {
        checkU32(n, 'includedSequenceNumbers');
        w.int(UNIVERSAL, U.INTEGER, n);
      }
      w.end();
      w.int(CONTEXT, 1, v.checkType);
      if (v.dataType !== undefined) w.int(CONTEXT, 2, v.dataType);
      w.octets(CONTEXT, 3, v.checkValue);
      if (v.hashAlgorithm !== undefined) w.int(CONTEXT, 4, v.hashAlgorithm);
      if (v.signatureAlgorithm !== undefined) w.int(CONTEXT, 5, v.signatureAlgorithm);
      w.end();
      break;
    }
    case 'paddingPDU':
      w.octets(CONTEXT, 2, t.padding);
      break;
    case 'operatorLeaMessage':
      if (t.message.length < 1 || t.message.length > 255) throw new EtsiEncodeError('message must be 1..255 octets');
      w.open(CONTEXT, 8);
      w.int(CONTEXT, 0, t.priority);
      w.octets(CONTEXT, 1, t.message);
      w.end();
      break;
    case 'other':
      w.raw(t.raw);
      break;
    default:
      w.nul(CONTEXT, TRI_NULL_TAG[t.kind]);
  }
  w.end();
}

function encodePayload(w: BerWriter, p: Payload): void {
  w.open(CONTEXT, 2); // Payload is a CHOICE: explicit wrapper
  switch (p.kind) {
    case 'iri':
      w.open(CONTEXT, 0);
      for (const it of p.items) {
        w.seq();
        if (it.iriType !== undefined) {
          checkRange(it.iriType, 1, 4, 'iRIType');
          w.int(CONTEXT, 0, it.iriType);
        }
        if (it.timeStamp !== undefined) w.latin1(CONTEXT, 1, formatGeneralizedTime(it.timeStamp));
        encodeIriContents(w, it.contents);
        if (it.microSecondTimeStamp) encodeMicro(w, 3, it.microSecondTimeStamp);
        if (it.timeStampQualifier !== undefined) w.int(CONTEXT, 4, it.timeStampQualifier);
        if (it.sessionDirection !== undefined) w.int(CONTEXT, 5, it.sessionDirection);
        if (it.payloadDirection !== undefined) w.int(CONTEXT, 6, it.payloadDirection);
        w.end();
      }
      w.end();
      break;
    case 'cc':
      w.open(CONTEXT, 1);
      for (const it of p.items) {
        w.seq();
        if (it.payloadDirection !== undefined) w.int(CONTEXT, 0, it.payloadDirection);
        if (it.timeStamp !== undefined) w.latin1(CONTEXT, 1, formatGeneralizedTime(it.timeStamp));
        encodeCcContents(w, it.contents);
        if (it.microSecondTimeStamp) encodeMicro(w, 3, it.microSecondTimeStamp);
        if (it.timeStampQualifier !== undefined) w.int(CONTEXT, 4, it.timeStampQualifier);
        w.end();
      }
      w.end();
      break;
    case 'tri':
      encodeTri(w, p.tri);
      break;
    case 'hi1':
      encodeHi1Operation(w, 3, p.operation);
      break;
    case 'other':
      w.raw(p.raw);
      break;
  }
  w.end();
}

// One writer per process: encoding is synchronous, so it is never shared by two calls at once.
const writer = new BerWriter(64 * 1024);

/** Encodes into a caller-owned writer (for batching several PDUs into one buffer). */
export function writePsPdu(w: BerWriter, pdu: PsPdu): void {
  w.seq();
  encodeHeader(w, pdu.header);
  encodePayload(w, pdu.payload);
  w.end();
}

/**
 * Encodes one PS-PDU. Throws EtsiEncodeError (code ETSI_ERR_INVALID_VALUE) when a value breaks
 * a constraint of the module (LIID length, country code, sequence number range, ...).
 */
export function encodePsPdu(pdu: PsPdu): Buffer {
  writer.reset();
  try {
    writePsPdu(writer, pdu);
    return writer.finish();
  } finally {
    writer.reset();
  }
}

// ------------------------------------------------------------------------------------------
// Decoding
// ------------------------------------------------------------------------------------------

function decodeMicro(buf: Uint8Array, t: Tlv): MicroSecondTimeStamp {
  expectConstructed(t, 'microSecondTimeStamp');
  const m = byTag(children(buf, t));
  return {
    seconds: readUint(buf, need(m, 0, 'seconds', t), Number.MAX_SAFE_INTEGER),
    microSeconds: readUint(buf, need(m, 1, 'microSeconds', t), 999_999),
  };
}

function decodeHeader(buf: Uint8Array, t: Tlv): PsHeader {
  expectConstructed(t, 'pSHeader');
  const list = children(buf, t);
  const m = byTag(list);
  const ciT = need(m, 3, 'communicationIdentifier', t);
  expectConstructed(ciT, 'communicationIdentifier');
  const ciM = byTag(children(buf, ciT));
  const nidT = need(ciM, 0, 'networkIdentifier', ciT);
  expectConstructed(nidT, 'networkIdentifier');
  const nid = byTag(children(buf, nidT));
  const ci: CommunicationIdentifier = { operatorIdentifier: readLatin1(buf, need(nid, 0, 'operatorIdentifier', nidT)) };
  const ne = nid.get(1);
  if (ne) ci.networkElementIdentifier = readLatin1(buf, ne);
  const cin = ciM.get(1);
  if (cin) ci.cin = readUint(buf, cin);
  const dcc = ciM.get(2);
  if (dcc) ci.deliveryCountryCode = readLatin1(buf, dcc);
  const h: PsHeader = {
    domainId: readOid(buf, need(m, 0, 'li-psDomainId', t)),
    liid: readLatin1(buf, need(m, 1, 'lawfulInterceptionIdentifier', t)),
    communicationIdentifier: ci,
    sequenceNumber: readUint(buf, need(m, 4, 'sequenceNumber', t)),
  };
  for (const x of list) {
    if (x.cls !== CONTEXT) continue;
    switch (x.num) {
      case 2:
        h.authorizationCountryCode = readLatin1(buf, x);
        break;
      case 5:
        // what LEMFs send back is read leniently: a two-digit year must not reset the link
        h.timeStamp = readLenientTime(buf, x).micros;
        break;
      case 6:
        h.interceptionPointId = readLatin1(buf, x);
        break;
      case 7:
        h.microSecondTimeStamp = decodeMicro(buf, x);
        break;
      case 8:
        h.timeStampQualifier = readUint(buf, x, 255);
        break;
    }
  }
  return h;
}

function rawOf(buf: Uint8Array, t: Tlv): Uint8Array {
  return buf.subarray(t.offset, t.next);
}

function decodeIriContents(buf: Uint8Array, wrapper: Tlv): IriContents {
  const alt = choiceOf(buf, wrapper, 'iRIContents');
  if (alt.cls === CONTEXT) {
    switch (alt.num) {
      case 1:
        return { kind: 'emailIRI', value: decodeEmailIri(buf, alt) };
      case 2:
        return { kind: 'iPIRI', value: decodeIpIri(buf, alt) };
      case 11:
        return { kind: 'iPMMIRI', value: decodeIpmmIri(buf, alt) };
      case 5: {
        const inner = choiceOf(buf, alt, 'eTSI671IRI');
        if (inner.num === 0)
          return { kind: 'eTSI671IRI', value: { kind: 'iRIParameters', params: decodeIriParameters(buf, inner) } };
        if (inner.num === 1) {
          return {
            kind: 'eTSI671IRI',
            value: { kind: 'iRIsContent', content: decodeHi2IrisContentAt(buf, choiceOf(buf, inner, 'iRIsContent')) },
          };
        }
        break;
      }
    }
  }
  return { kind: 'other', tag: alt.num, raw: rawOf(buf, alt) };
}

function decodeCcContents(buf: Uint8Array, wrapper: Tlv): CcContents {
  const alt = choiceOf(buf, wrapper, 'cCContents');
  if (alt.cls === CONTEXT) {
    if (alt.num === 1) return { kind: 'emailCC', value: decodeEmailCc(buf, alt) };
    if (alt.num === 2) return { kind: 'iPCC', value: decodeIpCc(buf, alt) };
    if (alt.num === 12) return { kind: 'iPMMCC', value: decodeIpmmCc(buf, alt) };
  }
  return { kind: 'other', tag: alt.num, raw: rawOf(buf, alt) };
}

/** The time fields IRIPayload and CCPayload share: timeStamp [1], microSecondTimeStamp [3], timeStampQualifier [4]. */
function readPayloadTime(
  buf: Uint8Array,
  x: Tlv,
  out: Pick<IriPayload, 'timeStamp' | 'microSecondTimeStamp' | 'timeStampQualifier'>,
): void {
  if (x.num === 1) out.timeStamp = readGeneralizedTime(buf, x).micros;
  else if (x.num === 3) out.microSecondTimeStamp = decodeMicro(buf, x);
  else if (x.num === 4) out.timeStampQualifier = readUint(buf, x, 255);
}

function decodeIriPayload(buf: Uint8Array, t: Tlv): IriPayload {
  expectConstructed(t, 'IRIPayload');
  const list = children(buf, t);
  const m = byTag(list);
  const out: IriPayload = { contents: decodeIriContents(buf, need(m, 2, 'iRIContents', t)) };
  for (const x of list) {
    if (x.cls !== CONTEXT) continue;
    switch (x.num) {
      case 0:
        out.iriType = readUint(buf, x, 255);
        break;
      case 1:
      case 3:
      case 4:
        readPayloadTime(buf, x, out);
        break;
      case 5:
        out.sessionDirection = readUint(buf, x, 255);
        break;
      case 6:
        out.payloadDirection = readUint(buf, x, 255);
        break;
    }
  }
  return out;
}

function decodeCcPayload(buf: Uint8Array, t: Tlv): CcPayload {
  expectConstructed(t, 'CCPayload');
  const list = children(buf, t);
  const m = byTag(list);
  const out: CcPayload = { contents: decodeCcContents(buf, need(m, 2, 'cCContents', t)) };
  for (const x of list) {
    if (x.cls !== CONTEXT) continue;
    if (x.num === 0) out.payloadDirection = readUint(buf, x, 255);
    else readPayloadTime(buf, x, out);
  }
  return out;
}

function decodeTri(buf: Uint8Array, wrapper: Tlv): TriPayload {
  const alt = choiceOf(buf, wrapper, 'tRIPayload');
  if (alt.cls !== CONTEXT) return { kind: 'other', tag: alt.num, raw: rawOf(buf, alt) };
  const nullKind = TRI_NULL_KIND.get(alt.num);
  if (nullKind) {
    readNull(buf, alt);
    return { kind: nullKind };
  }
  switch (alt.num) {
    case 0: {
      expectConstructed(alt, 'integrityCheck');
      const list = children(buf, alt);
      const m = byTag(list);
      const seqT = need(m, 0, 'includedSequenceNumbers', alt);
      expectConstructed(seqT, 'includedSequenceNumbers');
      const v: IntegrityCheck = {
        includedSequenceNumbers: children(buf, seqT).map((c) => readUint(buf, c)),
        checkType: readUint(buf, need(m, 1, 'checkType', alt), 255),
        checkValue: readOctets(buf, need(m, 3, 'checkValue', alt)),
      };
      const dt = m.get(2);
      if (dt) v.dataType = readUint(buf, dt, 255);
      const ha = m.get(4);
      if (ha) v.hashAlgorithm = readUint(buf, ha, 255);
      const sa = m.get(5);
      if (sa) v.signatureAlgorithm = readUint(buf, sa, 255);
      return { kind: 'integrityCheck', value: v };
    }
    case 2:
      return { kind: 'paddingPDU', padding: readOctets(buf, alt) };
    case 8: {
      expectConstructed(alt, 'operatorLeaMessage');
      const m = byTag(children(buf, alt));
      return {
        kind: 'operatorLeaMessage',
        priority: readUint(buf, need(m, 0, 'messagePriority', alt), 255),
        message: readOctets(buf, need(m, 1, 'message', alt)),
      };
    }
  }
  return { kind: 'other', tag: alt.num, raw: rawOf(buf, alt) };
}

function decodePayload(buf: Uint8Array, wrapper: Tlv): Payload {
  const alt = choiceOf(buf, wrapper, 'payload');
  if (alt.cls === CONTEXT) {
    if (alt.num === 0) {
      expectConstructed(alt, 'iRIPayloadSequence');
      return { kind: 'iri', items: children(buf, alt).map((c) => decodeIriPayload(buf, c)) };
    }
    if (alt.num === 1) {
      expectConstructed(alt, 'cCPayloadSequence');
      return { kind: 'cc', items: children(buf, alt).map((c) => decodeCcPayload(buf, c)) };
    }
    if (alt.num === 2) return { kind: 'tri', tri: decodeTri(buf, alt) };
    if (alt.num === 3) return { kind: 'hi1', operation: decodeHi1Operation(buf, alt) };
  }
  return { kind: 'other', tag: alt.num, raw: rawOf(buf, alt) };
}

/** Decodes the PS-PDU whose TLV is t. Throws BerError (internal). */
function decodePsPduAt(buf: Uint8Array, t: Tlv): PsPdu {
  if (t.cls !== UNIVERSAL || t.num !== U.SEQUENCE || !t.constructed) {
    throw new BerError('ETSI_ERR_UNEXPECTED_TAG', 'PS-PDU must be a SEQUENCE', t.offset);
  }
  const m = byTag(children(buf, t));
  return {
    header: decodeHeader(buf, need(m, 1, 'pSHeader', t)),
    payload: decodePayload(buf, need(m, 2, 'payload', t)),
  };
}

/**
 * Decodes the PS-PDU at the start of buf. Never throws: bad input gives { ok: false, code, reason }.
 * bytesRead is the size of the PDU, so a stream of concatenated PDUs can be walked.
 * Byte fields of the result are views into buf.
 */
export function decodePsPdu(buf: Uint8Array): DecodeResult<PsPdu> {
  return guard(() => {
    const t = readTlv(buf, 0, buf.length);
    return { value: decodePsPduAt(buf, t), bytesRead: t.next };
  });
}

/**
 * Length of the first complete BER value in buf (for framing a TCP stream), or undefined when
 * more bytes are needed. Returns a DecodeFailure-like reason when the header itself is invalid.
 */
export function pduLength(buf: Uint8Array): { ok: true; length: number | undefined } | { ok: false; reason: string } {
  try {
    const t = readTlv(buf, 0, buf.length);
    return { ok: true, length: t.next };
  } catch (e) {
    if (e instanceof BerError && e.code === 'ETSI_ERR_TRUNCATED') return { ok: true, length: undefined };
    return { ok: false, reason: e instanceof Error ? e.message : 'bad header' };
  }
}
