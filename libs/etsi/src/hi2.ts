// TS 101 671 HI2Operations IRI records, in the version11 structure that bookworm's tshark and
// the asn1c profile (spec/asn1/asn1c-profiles/HI2Operations.asn1c-profile.asn) both decode.
// Wire form of one record: IRIsContent.iRIContent [0] (explicit, IRIContent is a CHOICE)
// around iRI-Begin/End/Continue/Report-record [1..4] IRI-Parameters (implicit SEQUENCE).
import {
  BerError,
  BerWriter,
  byTag,
  CONTEXT,
  checkCountryCode,
  children,
  choiceOf,
  type DecodeResult,
  EtsiEncodeError,
  expectConstructed,
  formatGeneralizedTime,
  formatUtcTime,
  guard,
  need,
  oidContent,
  readGeneralizedTime,
  readLatin1,
  readOctets,
  readOid,
  readTlv,
  readUint,
  readUtcTime,
  type Tlv,
  U,
  UNIVERSAL,
} from './ber.ts';
import { decodeIpAddress, encodeIpAddress, type IpAddress } from './ipaddress.ts';

/** IRIContent alternative tags. */
export const HI2_RECORD = { begin: 1, end: 2, continue: 3, report: 4 } as const;
export type Hi2RecordType = (typeof HI2_RECORD)[keyof typeof HI2_RECORD];

/**
 * hi2OperationId {0.4.0.2.2.1 version11}: the records have the version11 structure (the module
 * tshark 4.0 and our asn1c decoder read), whose domainID is constrained to that value. Not the
 * version18 that LI-PS-PDU v43 imports: we do not have that text. Per-LEA override: domainId.
 */
export const HI2_DOMAIN_ID: readonly number[] = [0, 4, 0, 2, 2, 1, 11];
/** iRIversion: TS 101 671 recommends always sending lastVersion(8). */
export const IRI_VERSION_LAST = 8;

export const CALL_DIRECTION = { notAvailable: 0, originatingTarget: 1, terminatingTarget: 2 } as const;
export const CALL_STATE = { idle: 1, setUpInProcess: 2, connected: 3 } as const;
export const PARTY_QUALIFIER = { originating: 0, terminating: 1, forwardedTo: 2, gprsTarget: 3 } as const;
export const WINTER_SUMMER = { notProvided: 0, winterTime: 1, summerTime: 2 } as const;

export type Hi2TimeStamp =
  | { kind: 'localTime'; micros: number; winterSummer: number; offsetMinutes?: number }
  | { kind: 'utcTime'; micros: number };

export type NetworkElementIdentifier =
  | { kind: 'e164' | 'x25' | 'iP' | 'dNS'; value: string }
  | { kind: 'iPAddress'; address: IpAddress };

const NEID_TAG = { e164: 1, x25: 2, iP: 3, dNS: 4 } as const;
const NEID_KIND = ['', 'e164', 'x25', 'iP', 'dNS'] as const;

export interface Hi2CommunicationIdentifier {
  /** communication-Identity-Number: 1..8 ASCII digits. */
  cin?: string;
  /** operator-Identifier: 1..5 ASCII characters. */
  operatorIdentifier: string;
  networkElementIdentifier?: NetworkElementIdentifier;
}

/** A CallingPartyNumber/CalledPartyNumber CHOICE: the alternative tag and its octets. */
export interface PartyNumber {
  tag: number;
  value: Uint8Array;
}

export interface PartyIdentity {
  imei?: Uint8Array;
  tei?: Uint8Array;
  imsi?: Uint8Array;
  callingPartyNumber?: PartyNumber;
  calledPartyNumber?: PartyNumber;
  msISDN?: Uint8Array;
  e164Format?: Uint8Array;
  sipUri?: string;
  telUrl?: string;
}

export interface PartyInformation {
  qualifier: number;
  identity: PartyIdentity;
}

export interface IriParameters {
  domainId?: readonly number[];
  iriVersion?: number;
  liid: string;
  communicationIdentifier: Hi2CommunicationIdentifier;
  timeStamp: Hi2TimeStamp;
  interceptedCallDirection?: number;
  interceptedCallState?: number;
  /** Encoded as 3 BCD octets HHMMSS. */
  ringingDurationSeconds?: number;
  conversationDurationSeconds?: number;
  partyInformation?: PartyInformation[];
  /** Q.850 cause, 2 octets. */
  releaseReason?: Uint8Array;
  natureOfInterceptedCall?: number;
  nationalParameters?: Uint8Array[];
  sipMessage?: Uint8Array;
  nationalHI2Asn1Parameters?: { countryCode: string };
}

export interface Hi2Iri {
  recordType: number;
  params: IriParameters;
}

export type Hi2IrisContent = { kind: 'iRIContent'; iri: Hi2Iri } | { kind: 'iRISequence'; iris: Hi2Iri[] };

const oidCache = new Map<readonly number[], Buffer>();
function oidBytes(arcs: readonly number[]): Buffer {
  let b = oidCache.get(arcs);
  if (!b) {
    b = oidContent(arcs);
    if (oidCache.size < 64) oidCache.set(arcs, b);
  }
  return b;
}

function bcdDuration(seconds: number): Uint8Array {
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > 99 * 3600 + 59 * 60 + 59) {
    throw new EtsiEncodeError('duration out of range for BCD HHMMSS');
  }
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const bcd = (n: number) => ((Math.floor(n / 10) << 4) | (n % 10)) & 0xff;
  return Uint8Array.of(bcd(h), bcd(m), bcd(s));
}

function fromBcdDuration(b: Uint8Array, t: Tlv): number {
  if (b.length !== 3) throw new BerError('ETSI_ERR_BAD_VALUE', 'duration must be 3 octets', t.offset);
  let total = 0;
  const mult = [3600, 60, 1];
  for (let i = 0; i < 3; i++) {
    const hi = b[i]! >> 4;
    const lo = b[i]! & 0x0f;
    if (hi > 9 || lo > 9) throw new BerError('ETSI_ERR_BAD_VALUE', 'bad BCD digit', t.offset);
    total += (hi * 10 + lo) * mult[i]!;
  }
  return total;
}

function checkAscii(s: string, min: number, max: number, what: string, re?: RegExp): void {
  if (s.length < min || s.length > max) throw new EtsiEncodeError(`${what} must be ${min}..${max} characters`);
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0xff) throw new EtsiEncodeError(`${what} must be octets (latin1), got a wider character`);
  }
  if (re && !re.test(s)) throw new EtsiEncodeError(`${what} has characters outside its alphabet`);
}

const DIGITS = /^[0-9]+$/;

/** TimeStamp (HI2Operations, a CHOICE) as an explicit [num] wrapper; also used by HI1 notifications. */
export function encodeTimeStamp(w: BerWriter, num: number, ts: Hi2TimeStamp): void {
  w.open(CONTEXT, num); // TimeStamp is a CHOICE: explicit wrapper
  if (ts.kind === 'localTime') {
    w.open(CONTEXT, 0);
    w.latin1(CONTEXT, 0, formatGeneralizedTime(ts.micros, ts.offsetMinutes));
    w.int(CONTEXT, 1, ts.winterSummer);
    w.end();
  } else {
    w.latin1(CONTEXT, 1, formatUtcTime(ts.micros));
  }
  w.end();
}

function encodePartyNumber(w: BerWriter, num: number, p: PartyNumber): void {
  w.open(CONTEXT, num);
  w.octets(CONTEXT, p.tag, p.value);
  w.end();
}

function checkCommunicationIdentifier(ci: Hi2CommunicationIdentifier): void {
  if (ci.cin !== undefined) checkAscii(ci.cin, 1, 8, 'communication-Identity-Number', DIGITS);
  checkAscii(ci.operatorIdentifier, 1, 5, 'operator-Identifier');
}

/** CommunicationIdentifier (HI2Operations) as [tag] IMPLICIT SEQUENCE; also used by HI1 notifications. */
export function encodeCommunicationIdentifier(w: BerWriter, tag: number, ci: Hi2CommunicationIdentifier): void {
  checkCommunicationIdentifier(ci);
  w.open(CONTEXT, tag);
  if (ci.cin !== undefined) w.latin1(CONTEXT, 0, ci.cin);
  w.open(CONTEXT, 1);
  w.latin1(CONTEXT, 0, ci.operatorIdentifier);
  const ne = ci.networkElementIdentifier;
  if (ne) {
    w.open(CONTEXT, 1); // Network-Element-Identifier is a CHOICE: explicit wrapper
    if (ne.kind === 'iPAddress') encodeIpAddress(w, 5, ne.address);
    else {
      checkAscii(ne.value, 1, 25, 'network-Element-Identifier');
      w.latin1(CONTEXT, NEID_TAG[ne.kind], ne.value);
    }
    w.end();
  }
  w.end();
  w.end();
}

/** IRI-Parameters as [tag] IMPLICIT SEQUENCE; fields in the module's definition order. */
export function encodeIriParameters(w: BerWriter, tag: number, p: IriParameters): void {
  checkAscii(p.liid, 1, 25, 'lawfulInterceptionIdentifier');
  checkCommunicationIdentifier(p.communicationIdentifier);
  w.open(CONTEXT, tag);
  w.octets(CONTEXT, 0, oidBytes(p.domainId ?? HI2_DOMAIN_ID));
  if (p.iriVersion !== undefined) w.int(CONTEXT, 23, p.iriVersion);
  w.latin1(CONTEXT, 1, p.liid);
  encodeCommunicationIdentifier(w, 2, p.communicationIdentifier);
  encodeTimeStamp(w, 3, p.timeStamp);
  if (p.interceptedCallDirection !== undefined) w.int(CONTEXT, 4, p.interceptedCallDirection);
  if (p.interceptedCallState !== undefined) w.int(CONTEXT, 5, p.interceptedCallState);
  if (p.ringingDurationSeconds !== undefined) w.octets(CONTEXT, 6, bcdDuration(p.ringingDurationSeconds));
  if (p.conversationDurationSeconds !== undefined) w.octets(CONTEXT, 7, bcdDuration(p.conversationDurationSeconds));
  if (p.partyInformation !== undefined) {
    if (p.partyInformation.length < 1 || p.partyInformation.length > 10) {
      throw new EtsiEncodeError('partyInformation needs 1..10 entries');
    }
    w.open(CONTEXT, 9);
    for (const party of p.partyInformation) {
      w.seq();
      w.int(CONTEXT, 0, party.qualifier);
      w.open(CONTEXT, 1);
      const id = party.identity;
      if (id.imei) w.octets(CONTEXT, 1, id.imei);
      if (id.tei) w.octets(CONTEXT, 2, id.tei);
      if (id.imsi) w.octets(CONTEXT, 3, id.imsi);
      if (id.callingPartyNumber) encodePartyNumber(w, 4, id.callingPartyNumber);
      if (id.calledPartyNumber) encodePartyNumber(w, 5, id.calledPartyNumber);
      if (id.msISDN) w.octets(CONTEXT, 6, id.msISDN);
      if (id.e164Format) w.octets(CONTEXT, 7, id.e164Format);
      if (id.sipUri !== undefined) w.utf8(CONTEXT, 8, id.sipUri);
      if (id.telUrl !== undefined) w.utf8(CONTEXT, 9, id.telUrl);
      w.end();
      w.end();
    }
    w.end();
  }
  if (p.releaseReason !== undefined) {
    if (p.releaseReason.length !== 2) throw new EtsiEncodeError('release-Reason must be 2 octets');
    w.octets(CONTEXT, 11, p.releaseReason);
  }
  if (p.natureOfInterceptedCall !== undefined) w.int(CONTEXT, 12, p.natureOfInterceptedCall);
  if (p.nationalParameters !== undefined) {
    w.open(CONTEXT, 16);
    for (const np of p.nationalParameters) w.octets(UNIVERSAL, U.OCTET_STRING, np);
    w.end();
  }
  if (p.sipMessage !== undefined) w.octets(CONTEXT, 30, p.sipMessage);
  if (p.nationalHI2Asn1Parameters) {
    checkCountryCode(p.nationalHI2Asn1Parameters.countryCode, 'national-HI2-ASN1parameters countryCode');
    w.open(CONTEXT, 255);
    w.latin1(CONTEXT, 1, p.nationalHI2Asn1Parameters.countryCode);
    w.end();
  }
  w.end();
}

function encodeIri(w: BerWriter, iri: Hi2Iri): void {
  if (iri.recordType < 1 || iri.recordType > 4) throw new EtsiEncodeError('recordType must be 1..4');
  encodeIriParameters(w, iri.recordType, iri.params);
}

export function encodeHi2IrisContentTo(w: BerWriter, tag: number | undefined, v: Hi2IrisContent): void {
  if (tag !== undefined) w.open(CONTEXT, tag);
  if (v.kind === 'iRIContent') {
    w.open(CONTEXT, 0); // IRIContent is a CHOICE: explicit [0]
    encodeIri(w, v.iri);
    w.end();
  } else {
    w.open(CONTEXT, 1);
    for (const iri of v.iris) encodeIri(w, iri);
    w.end();
  }
  if (tag !== undefined) w.end();
}

const writer = new BerWriter(8 * 1024);

/** One IRI record as IRIsContent (A0 wrapper), ready for a file. */
export function encodeHi2Iri(iri: Hi2Iri): Buffer {
  return encodeHi2IrisContent({ kind: 'iRIContent', iri });
}

export function encodeHi2IrisContent(v: Hi2IrisContent): Buffer {
  writer.reset();
  try {
    encodeHi2IrisContentTo(writer, undefined, v);
    return writer.finish();
  } finally {
    writer.reset();
  }
}

export function decodeTimeStamp(buf: Uint8Array, wrapper: Tlv): Hi2TimeStamp {
  const alt = choiceOf(buf, wrapper, 'timeStamp');
  if (alt.num === 0) {
    expectConstructed(alt, 'localTime');
    const m = byTag(children(buf, alt));
    const gt = readGeneralizedTime(buf, need(m, 0, 'generalizedTime', alt));
    const out: Hi2TimeStamp = {
      kind: 'localTime',
      micros: gt.micros,
      winterSummer: readUint(buf, need(m, 1, 'winterSummerIndication', alt), 255),
    };
    if (gt.offsetMinutes !== undefined) out.offsetMinutes = gt.offsetMinutes;
    return out;
  }
  if (alt.num === 1) return { kind: 'utcTime', micros: readUtcTime(buf, alt) };
  throw new BerError('ETSI_ERR_UNEXPECTED_TAG', `unknown timeStamp [${alt.num}]`, alt.offset);
}

function decodePartyNumber(buf: Uint8Array, wrapper: Tlv): PartyNumber {
  const alt = choiceOf(buf, wrapper, 'party number');
  return { tag: alt.num, value: readOctets(buf, alt) };
}

function decodeParty(buf: Uint8Array, t: Tlv): PartyInformation {
  expectConstructed(t, 'PartyInformation');
  const m = byTag(children(buf, t));
  const idT = need(m, 1, 'partyIdentity', t);
  expectConstructed(idT, 'partyIdentity');
  const identity: PartyIdentity = {};
  for (const x of children(buf, idT)) {
    if (x.cls !== CONTEXT) continue;
    switch (x.num) {
      case 1:
        identity.imei = readOctets(buf, x);
        break;
      case 2:
        identity.tei = readOctets(buf, x);
        break;
      case 3:
        identity.imsi = readOctets(buf, x);
        break;
      case 4:
        identity.callingPartyNumber = decodePartyNumber(buf, x);
        break;
      case 5:
        identity.calledPartyNumber = decodePartyNumber(buf, x);
        break;
      case 6:
        identity.msISDN = readOctets(buf, x);
        break;
      case 7:
        identity.e164Format = readOctets(buf, x);
        break;
      case 8:
        identity.sipUri = readOctets(buf, x).toString('utf8');
        break;
      case 9:
        identity.telUrl = readOctets(buf, x).toString('utf8');
        break;
    }
  }
  return { qualifier: readUint(buf, need(m, 0, 'party-Qualifier', t), 255), identity };
}

export function decodeCommunicationIdentifier(buf: Uint8Array, t: Tlv): Hi2CommunicationIdentifier {
  expectConstructed(t, 'communicationIdentifier');
  const m = byTag(children(buf, t));
  const nid = need(m, 1, 'network-Identifier', t);
  expectConstructed(nid, 'network-Identifier');
  const n = byTag(children(buf, nid));
  const out: Hi2CommunicationIdentifier = {
    operatorIdentifier: readLatin1(buf, need(n, 0, 'operator-Identifier', nid)),
  };
  const cin = m.get(0);
  if (cin) out.cin = readLatin1(buf, cin);
  const ne = n.get(1);
  if (ne) {
    const alt = choiceOf(buf, ne, 'network-Element-Identifier');
    if (alt.num === 5) out.networkElementIdentifier = { kind: 'iPAddress', address: decodeIpAddress(buf, alt) };
    else if (alt.num >= 1 && alt.num <= 4) {
      out.networkElementIdentifier = { kind: NEID_KIND[alt.num] as 'e164', value: readLatin1(buf, alt) };
    } else throw new BerError('ETSI_ERR_UNEXPECTED_TAG', `unknown network-Element-Identifier [${alt.num}]`, alt.offset);
  }
  return out;
}

export function decodeIriParameters(buf: Uint8Array, t: Tlv): IriParameters {
  expectConstructed(t, 'IRI-Parameters');
  const list = children(buf, t);
  const m = byTag(list);
  const p: IriParameters = {
    liid: readLatin1(buf, need(m, 1, 'lawfulInterceptionIdentifier', t)),
    communicationIdentifier: decodeCommunicationIdentifier(buf, need(m, 2, 'communicationIdentifier', t)),
    timeStamp: decodeTimeStamp(buf, need(m, 3, 'timeStamp', t)),
  };
  for (const x of list) {
    if (x.cls !== CONTEXT) continue;
    switch (x.num) {
      case 0:
        p.domainId = readOid(buf, x);
        break;
      case 23:
        p.iriVersion = readUint(buf, x, 255);
        break;
      case 4:
        p.interceptedCallDirection = readUint(buf, x, 255);
        break;
      case 5:
        p.interceptedCallState = readUint(buf, x, 255);
        break;
      case 6:
        p.ringingDurationSeconds = fromBcdDuration(readOctets(buf, x), x);
        break;
      case 7:
        p.conversationDurationSeconds = fromBcdDuration(readOctets(buf, x), x);
        break;
      case 9:
        expectConstructed(x, 'partyInformation');
        p.partyInformation = children(buf, x).map((c) => decodeParty(buf, c));
        break;
      case 11:
        p.releaseReason = readOctets(buf, x);
        break;
      case 12:
        p.natureOfInterceptedCall = readUint(buf, x, 255);
        break;
      case 16:
        expectConstructed(x, 'national-Parameters');
        p.nationalParameters = children(buf, x).map((c) => readOctets(buf, c));
        break;
      case 30:
        p.sipMessage = readOctets(buf, x);
        break;
      case 255: {
        expectConstructed(x, 'national-HI2-ASN1parameters');
        const n = byTag(children(buf, x));
        p.nationalHI2Asn1Parameters = { countryCode: readLatin1(buf, need(n, 1, 'countryCode', x)) };
        break;
      }
    }
  }
  return p;
}

function decodeIri(buf: Uint8Array, t: Tlv): Hi2Iri {
  if (t.cls !== CONTEXT || t.num < 1 || t.num > 4) {
    throw new BerError('ETSI_ERR_UNEXPECTED_TAG', `unknown IRIContent [${t.num}]`, t.offset);
  }
  return { recordType: t.num, params: decodeIriParameters(buf, t) };
}

/** Decodes the IRIsContent whose TLV is t. */
export function decodeHi2IrisContentAt(buf: Uint8Array, t: Tlv): Hi2IrisContent {
  if (t.cls === CONTEXT && t.num === 0) {
    expectConstructed(t, 'iRIContent');
    return { kind: 'iRIContent', iri: decodeIri(buf, choiceOf(buf, t, 'iRIContent')) };
  }
  if (t.cls === CONTEXT && t.num === 1) {
    expectConstructed(t, 'iRISequence');
    return { kind: 'iRISequence', iris: children(buf, t).map((c) => decodeIri(buf, c)) };
  }
  throw new BerError('ETSI_ERR_UNEXPECTED_TAG', `not an IRIsContent: tag ${t.num}`, t.offset);
}

/** Decodes one IRIsContent at the start of buf; bytesRead tells where the next record starts. */
export function decodeHi2(buf: Uint8Array): DecodeResult<Hi2IrisContent> {
  return guard(() => {
    const t = readTlv(buf, 0, buf.length);
    return { value: decodeHi2IrisContentAt(buf, t), bytesRead: t.next };
  });
}
