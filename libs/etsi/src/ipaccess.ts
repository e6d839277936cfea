// TS 102 232-3 IPAccessPDU (module version18, spec/asn1/IPAccessPDU.asn): IPIRI and IPCC.
import {
  BerError,
  type BerWriter,
  byTag,
  CONTEXT,
  checkRange,
  children,
  choiceOf,
  EtsiEncodeError,
  expectConstructed,
  formatGeneralizedTime,
  need,
  readGeneralizedTime,
  readInteger,
  readOctets,
  readRelOid,
  readUint,
  readUtf8,
  relOidContent,
  type Tlv,
} from './ber.ts';
import { decodeIpAddress, encodeIpAddress, type IpAddress } from './ipaddress.ts';

/**
 * {li-ps(5) iPAccess(3) version18(18) iRI(1)}, relative to {0.4.0.2.2}: the IPAccessPDU module we
 * write and validate against (not version20, which LI-PS-PDU v43 imports). Per-LEA override: objId.
 */
export const IPIRI_OBJ_ID: readonly number[] = [5, 3, 18, 1];
export const IPCC_OBJ_ID: readonly number[] = [5, 3, 18, 2];

export const ACCESS_EVENT_TYPE = {
  accessAttempt: 0,
  accessAccept: 1,
  accessReject: 2,
  accessFailed: 3,
  sessionStart: 4,
  sessionEnd: 5,
  interimUpdate: 6,
  startOfInterceptionWithSessionActive: 7,
  accessEnd: 8,
  endOfInterceptionWithSessionActive: 9,
  unknown: 10,
} as const;

export const INTERNET_ACCESS_TYPE = {
  undefined: 0,
  dialUp: 1,
  xDSL: 2,
  cableModem: 3,
  lAN: 4,
  wirelessLAN: 5,
  fTTx: 6,
  wIMAXHIPERMAN: 7,
  satellite: 8,
  wirelessOther: 9,
} as const;

export const IP_VERSION = { iPV4: 1, iPV6: 2, iPV4andV6: 3 } as const;

export interface IpIriContents {
  accessEventType: number;
  /** targetUsername [1] OCTET STRING "in ASCII-characters" (written as UTF-8 octets). */
  targetUsername: string;
  internetAccessType: number;
  iPVersion: number;
  targetIPAddress?: IpAddress;
  targetNetworkID?: string;
  targetCPEID?: string;
  targetLocation?: string;
  pOPPortNumber?: number;
  callBackNumber?: string;
  /** Microseconds since the epoch (GeneralizedTime). */
  startTime?: number;
  endTime?: number;
  endReason?: number;
  octetsReceived?: number | bigint;
  octetsTransmitted?: number | bigint;
  rawAAAData?: Uint8Array;
  expectedEndTime?: number;
  pOPPhoneNumber?: string;
  pOPIPAddress?: IpAddress;
  additionalIPAddress?: IpAddress;
  authenticationType?: number;
}

export interface IpIri {
  objId?: readonly number[];
  contents: IpIriContents;
}

export type IpCcContents =
  | { kind: 'iPPackets'; packets: Uint8Array }
  | { kind: 'iPTruncatedPacket'; truncatedPacket: Uint8Array; originalLength?: number };

export interface IpCc {
  objId?: readonly number[];
  contents: IpCcContents;
}

const relOidCache = new Map<readonly number[], Buffer>();
/** Encoded RELATIVE-OID content, cached per constant array. */
export function relOidBytes(arcs: readonly number[]): Buffer {
  let b = relOidCache.get(arcs);
  if (!b) {
    b = relOidContent(arcs);
    if (relOidCache.size < 64) relOidCache.set(arcs, b);
  }
  return b;
}

// UTF8String SIZE constraints count characters, not octets.
function utf8Sized(w: BerWriter, num: number, s: string, max: number, what: string): void {
  let n = 0;
  for (const _ of s) n++;
  if (n < 1 || n > max) throw new EtsiEncodeError(`${what} must be 1..${max} characters`);
  w.utf8(CONTEXT, num, s);
}

/** Encodes IPIRI as [tag] (an IRIContents alternative, IMPLICIT SEQUENCE). */
export function encodeIpIri(w: BerWriter, tag: number, v: IpIri): void {
  const c = v.contents;
  w.open(CONTEXT, tag);
  w.octets(CONTEXT, 0, relOidBytes(v.objId ?? IPIRI_OBJ_ID));
  w.open(CONTEXT, 1);
  w.int(CONTEXT, 0, c.accessEventType);
  w.utf8(CONTEXT, 1, c.targetUsername); // OCTET STRING; UTF-8 keeps non-ASCII names intact
  w.int(CONTEXT, 2, c.internetAccessType);
  w.int(CONTEXT, 3, c.iPVersion);
  if (c.targetIPAddress) encodeIpAddress(w, 4, c.targetIPAddress);
  if (c.targetNetworkID !== undefined) utf8Sized(w, 5, c.targetNetworkID, 20, 'targetNetworkID');
  if (c.targetCPEID !== undefined) utf8Sized(w, 6, c.targetCPEID, 128, 'targetCPEID');
  if (c.targetLocation !== undefined) utf8Sized(w, 7, c.targetLocation, 64, 'targetLocation');
  if (c.pOPPortNumber !== undefined) {
    checkRange(c.pOPPortNumber, 0, 0xffff_ffff, 'pOPPortNumber');
    w.int(CONTEXT, 8, c.pOPPortNumber);
  }
  if (c.callBackNumber !== undefined) utf8Sized(w, 9, c.callBackNumber, 20, 'callBackNumber');
  if (c.startTime !== undefined) w.latin1(CONTEXT, 10, formatGeneralizedTime(c.startTime));
  if (c.endTime !== undefined) w.latin1(CONTEXT, 11, formatGeneralizedTime(c.endTime));
  if (c.endReason !== undefined) w.int(CONTEXT, 12, c.endReason);
  if (c.octetsReceived !== undefined) w.int(CONTEXT, 13, c.octetsReceived);
  if (c.octetsTransmitted !== undefined) w.int(CONTEXT, 14, c.octetsTransmitted);
  if (c.rawAAAData !== undefined) w.octets(CONTEXT, 15, c.rawAAAData);
  if (c.expectedEndTime !== undefined) w.latin1(CONTEXT, 16, formatGeneralizedTime(c.expectedEndTime));
  if (c.pOPPhoneNumber !== undefined) utf8Sized(w, 17, c.pOPPhoneNumber, 20, 'pOPPhoneNumber');
  if (c.pOPIPAddress) encodeIpAddress(w, 19, c.pOPIPAddress);
  if (c.additionalIPAddress) encodeIpAddress(w, 21, c.additionalIPAddress);
  if (c.authenticationType !== undefined) w.int(CONTEXT, 22, c.authenticationType);
  w.end();
  w.end();
}

function readBig(buf: Uint8Array, t: Tlv): number | bigint {
  const v = readInteger(buf, t);
  if (v < 0) throw new BerError('ETSI_ERR_BAD_VALUE', 'negative octet count', t.offset);
  return v;
}

export function decodeIpIri(buf: Uint8Array, t: Tlv): IpIri {
  expectConstructed(t, 'IPIRI');
  const m = byTag(children(buf, t));
  const objId = readRelOid(buf, need(m, 0, 'iPIRIObjId', t));
  const ct = need(m, 1, 'iPIRIContents', t);
  expectConstructed(ct, 'iPIRIContents');
  const fields = children(buf, ct);
  const f = byTag(fields);
  const c: IpIriContents = {
    accessEventType: readUint(buf, need(f, 0, 'accessEventType', ct), 255),
    targetUsername: readUtf8(buf, need(f, 1, 'targetUsername', ct)),
    internetAccessType: readUint(buf, need(f, 2, 'internetAccessType', ct), 255),
    iPVersion: readUint(buf, need(f, 3, 'iPVersion', ct), 255),
  };
  for (const x of fields) {
    if (x.cls !== CONTEXT) continue;
    switch (x.num) {
      case 4:
        c.targetIPAddress = decodeIpAddress(buf, x);
        break;
      case 5:
        c.targetNetworkID = readUtf8(buf, x);
        break;
      case 6:
        c.targetCPEID = readUtf8(buf, x);
        break;
      case 7:
        c.targetLocation = readUtf8(buf, x);
        break;
      case 8:
        c.pOPPortNumber = readUint(buf, x);
        break;
      case 9:
        c.callBackNumber = readUtf8(buf, x);
        break;
      case 10:
        c.startTime = readGeneralizedTime(buf, x).micros;
        break;
      case 11:
        c.endTime = readGeneralizedTime(buf, x).micros;
        break;
      case 12:
        c.endReason = readUint(buf, x, 255);
        break;
      case 13:
        c.octetsReceived = readBig(buf, x);
        break;
      case 14:
        c.octetsTransmitted = readBig(buf, x);
        break;
      case 15:
        c.rawAAAData = readOctets(buf, x);
        break;
      case 16:
        c.expectedEndTime = readGeneralizedTime(buf, x).micros;
        break;
      case 17:
        c.pOPPhoneNumber = readUtf8(buf, x);
        break;
      case 19:
        c.pOPIPAddress = decodeIpAddress(buf, x);
        break;
      case 21:
        c.additionalIPAddress = decodeIpAddress(buf, x);
        break;
      case 22:
        c.authenticationType = readUint(buf, x, 255);
        break;
    }
  }
  return { objId, contents: c };
}

/** Encodes IPCC as [tag] (a CCContents alternative). */
export function encodeIpCc(w: BerWriter, tag: number, v: IpCc): void {
  w.open(CONTEXT, tag);
  w.octets(CONTEXT, 0, relOidBytes(v.objId ?? IPCC_OBJ_ID));
  w.open(CONTEXT, 1); // IPCCContents is a CHOICE: explicit wrapper
  const c = v.contents;
  if (c.kind === 'iPPackets') {
    w.octets(CONTEXT, 0, c.packets);
  } else {
    w.open(CONTEXT, 1);
    w.octets(CONTEXT, 0, c.truncatedPacket);
    if (c.originalLength !== undefined) w.int(CONTEXT, 1, c.originalLength);
    w.end();
  }
  w.end();
  w.end();
}

export function decodeIpCc(buf: Uint8Array, t: Tlv): IpCc {
  expectConstructed(t, 'IPCC');
  const m = byTag(children(buf, t));
  const objId = readRelOid(buf, need(m, 0, 'iPCCObjId', t));
  const alt = choiceOf(buf, need(m, 1, 'iPCCContents', t), 'iPCCContents');
  if (alt.num === 0) return { objId, contents: { kind: 'iPPackets', packets: readOctets(buf, alt) } };
  if (alt.num === 1) {
    expectConstructed(alt, 'iPTruncatedPacket');
    const f = byTag(children(buf, alt));
    const contents: IpCcContents = {
      kind: 'iPTruncatedPacket',
      truncatedPacket: readOctets(buf, need(f, 0, 'truncatedPacket', alt)),
    };
    const ol = f.get(1);
    if (ol) contents.originalLength = readUint(buf, ol, Number.MAX_SAFE_INTEGER);
    return { objId, contents };
  }
  throw new BerError('ETSI_ERR_UNEXPECTED_TAG', `unknown iPCCContents [${alt.num}]`, alt.offset);
}
