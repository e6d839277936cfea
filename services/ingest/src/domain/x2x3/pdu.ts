// ETSI TS 103 221-2 X2/X3 PDU codec (clause 5): 40-octet fixed header, conditional attributes
// as TLVs (clause 5.3), then the payload. Big-endian throughout. Decoding never throws: every
// failure is a typed result with an ING_ERR_X2X3_* code.
import type { IngestErrorCode } from '../../errors.ts';

export const PDU_TYPE = { X2: 1, X3: 2, KEEPALIVE: 3, KEEPALIVE_ACK: 4 } as const;

export const FIXED_HEADER_LENGTH = 40;
/** Version 0.5 (V1.6.1..V1.9.1); decoders accept any minor of major 0. */
const DEFAULT_VERSION = 0x0005;

/** Table 3 payload formats: [name, allowed on X2, allowed on X3]. */
export const PAYLOAD_FORMATS: Record<number, readonly [string, boolean, boolean]> = {
  1: ['etsi102232-1', true, true],
  2: ['3gpp33128', true, true],
  3: ['3gpp33108', true, true],
  4: ['proprietary', true, true],
  5: ['ipv4', true, true],
  6: ['ipv6', true, true],
  7: ['ethernet', false, true],
  8: ['rtp', false, true],
  9: ['sip', true, false],
  10: ['dhcp', true, false],
  11: ['radius', true, false],
  12: ['gtp-u', false, true],
  13: ['msrp', false, true],
  14: ['eps-iri', true, false],
  15: ['mime', true, true],
  16: ['3gpp-unstructured', false, true],
  17: ['etsi102232-1-payload', true, true],
};

export const ATTR = {
  ETSI_102232: 1,
  TGPP_33128: 2,
  TGPP_33108: 3,
  PROPRIETARY: 4,
  DOMAIN_ID: 5,
  NFID: 6,
  IPID: 7,
  SEQUENCE_NUMBER: 8,
  TIMESTAMP: 9,
  SOURCE_IPV4: 10,
  DESTINATION_IPV4: 11,
  SOURCE_IPV6: 12,
  DESTINATION_IPV6: 13,
  SOURCE_PORT: 14,
  DESTINATION_PORT: 15,
  IP_PROTOCOL: 16,
  MATCHED_TARGET: 17,
  OTHER_TARGET: 18,
  MIME_CONTENT_TYPE: 19,
  MIME_TRANSFER_ENCODING: 20,
  AXRI: 21,
  SDP: 22,
} as const;

/** Fixed sizes of the attributes that have one (clause 5.3). */
const FIXED_ATTR_SIZE: Record<number, number> = { 8: 4, 9: 8, 10: 4, 11: 4, 12: 16, 13: 16, 14: 2, 15: 2, 16: 1 };

export interface Tlv {
  type: number;
  value: Buffer;
}

export interface X2X3Pdu {
  version: number;
  pduType: number;
  payloadFormat: number;
  payloadDirection: number;
  /** UUID text, lower case, RFC 4122 byte order. */
  xid: string;
  correlationId: bigint;
  attributes: Tlv[];
  payload: Buffer;
}

/** Conditional attributes interpreted; repeatable ones are lists, unknown types kept raw. */
export interface X2X3Attributes {
  domainId?: Buffer;
  nfid?: string;
  ipid?: string;
  sequenceNumber?: number;
  timestamp?: { seconds: number; nanoseconds: number };
  sourceAddress?: string;
  destinationAddress?: string;
  sourcePort?: number;
  destinationPort?: number;
  ipProtocol?: number;
  matchedTargets: string[];
  otherTargets: string[];
  mimeContentType?: string;
  mimeTransferEncoding?: string;
  axri: Buffer[];
  sdp?: string;
  etsi102232: Buffer[];
  tgpp33128: Buffer[];
  tgpp33108: Buffer[];
  proprietary: Buffer[];
  unknown: Tlv[];
}

export type DecodeResult =
  | { ok: true; pdu: X2X3Pdu; attrs: X2X3Attributes }
  | { ok: false; code: IngestErrorCode; reason: string };

function uuidFromBytes(b: Buffer): string {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

function uuidToBytes(uuid: string): Buffer {
  const hex = uuid.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new TypeError('XID must be a UUID');
  return Buffer.from(hex, 'hex');
}

const ZERO_XID = '00000000-0000-0000-0000-000000000000';

function ipv4(b: Buffer): string {
  return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
}

function ipv6(b: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}

/** Reads and checks the fixed header fields that framing depends on (clause 5.1, 5.2). */
export function peekLengths(
  buf: Buffer,
):
  | { ok: true; headerLength: number; payloadLength: number }
  | { ok: false; code: IngestErrorCode; reason: string }
  | null {
  if (buf.length < 12) return null;
  const version = buf.readUInt16BE(0);
  if (version >> 8 !== 0)
    return { ok: false, code: 'ING_ERR_X2X3_VERSION', reason: `unsupported major version ${version >> 8}` };
  const headerLength = buf.readUInt32BE(4);
  if (headerLength < FIXED_HEADER_LENGTH) {
    return { ok: false, code: 'ING_ERR_X2X3_HEADER_LENGTH', reason: `header length ${headerLength} below 40` };
  }
  return { ok: true, headerLength, payloadLength: buf.readUInt32BE(8) };
}

function decodeAttributes(tlvs: Tlv[]): X2X3Attributes {
  const a: X2X3Attributes = {
    matchedTargets: [],
    otherTargets: [],
    axri: [],
    etsi102232: [],
    tgpp33128: [],
    tgpp33108: [],
    proprietary: [],
    unknown: [],
  };
  for (const { type, value } of tlvs) {
    switch (type) {
      case ATTR.ETSI_102232:
        a.etsi102232.push(value);
        break;
      case ATTR.TGPP_33128:
        a.tgpp33128.push(value);
        break;
      case ATTR.TGPP_33108:
        a.tgpp33108.push(value);
        break;
      case ATTR.PROPRIETARY:
        a.proprietary.push(value);
        break;
      case ATTR.DOMAIN_ID:
        a.domainId = value;
        break;
      case ATTR.NFID:
        a.nfid = value.toString('utf8');
        break;
      case ATTR.IPID:
        a.ipid = value.toString('utf8');
        break;
      case ATTR.SEQUENCE_NUMBER:
        a.sequenceNumber = value.readUInt32BE(0);
        break;
      case ATTR.TIMESTAMP:
        a.timestamp = { seconds: value.readUInt32BE(0), nanoseconds: value.readUInt32BE(4) };
        break;
      case ATTR.SOURCE_IPV4:
        a.sourceAddress = ipv4(value);
        break;
      case ATTR.DESTINATION_IPV4:
        a.destinationAddress = ipv4(value);
        break;
      case ATTR.SOURCE_IPV6:
        a.sourceAddress = ipv6(value);
        break;
      case ATTR.DESTINATION_IPV6:
        a.destinationAddress = ipv6(value);
        break;
      case ATTR.SOURCE_PORT:
        a.sourcePort = value.readUInt16BE(0);
        break;
      case ATTR.DESTINATION_PORT:
        a.destinationPort = value.readUInt16BE(0);
        break;
      case ATTR.IP_PROTOCOL:
        a.ipProtocol = value[0] ?? 0;
        break;
      case ATTR.MATCHED_TARGET:
        a.matchedTargets.push(value.toString('utf8'));
        break;
      case ATTR.OTHER_TARGET:
        a.otherTargets.push(value.toString('utf8'));
        break;
      case ATTR.MIME_CONTENT_TYPE:
        a.mimeContentType = value.toString('utf8');
        break;
      case ATTR.MIME_TRANSFER_ENCODING:
        a.mimeTransferEncoding = value.toString('utf8');
        break;
      case ATTR.AXRI:
        a.axri.push(value);
        break;
      case ATTR.SDP:
        a.sdp = value.toString('utf8');
        break;
      default:
        // Later versions may add types: skip by length rather than reject (X2X3.md §5).
        a.unknown.push({ type, value });
    }
  }
  return a;
}

/** Decodes exactly one PDU occupying all of `buf`. */
export function decodePdu(buf: Buffer): DecodeResult {
  if (buf.length < FIXED_HEADER_LENGTH)
    return { ok: false, code: 'ING_ERR_X2X3_SHORT', reason: `${buf.length} octets, need 40` };
  const lengths = peekLengths(buf);
  if (lengths === null) return { ok: false, code: 'ING_ERR_X2X3_SHORT', reason: 'truncated header' };
  if (!lengths.ok) return lengths;
  const { headerLength, payloadLength } = lengths;
  if (headerLength + payloadLength !== buf.length) {
    return {
      ok: false,
      code: 'ING_ERR_X2X3_SHORT',
      reason: `lengths say ${headerLength}+${payloadLength} octets, have ${buf.length}`,
    };
  }
  const pduType = buf.readUInt16BE(2);
  const payloadFormat = buf.readUInt16BE(12);
  const payloadDirection = buf.readUInt16BE(14);
  if (pduType < 1 || pduType > 4) return { ok: false, code: 'ING_ERR_X2X3_PDU_TYPE', reason: `PDU type ${pduType}` };
  const keepalive = pduType === PDU_TYPE.KEEPALIVE || pduType === PDU_TYPE.KEEPALIVE_ACK;
  if (keepalive) {
    if (payloadLength !== 0) return { ok: false, code: 'ING_ERR_X2X3_KEEPALIVE', reason: 'keepalive with a payload' };
  } else {
    const fmt = PAYLOAD_FORMATS[payloadFormat];
    if (!fmt) return { ok: false, code: 'ING_ERR_X2X3_PAYLOAD_FORMAT', reason: `payload format ${payloadFormat}` };
    if (!(pduType === PDU_TYPE.X2 ? fmt[1] : fmt[2])) {
      return {
        ok: false,
        code: 'ING_ERR_X2X3_PAYLOAD_FORMAT',
        reason: `payload format ${payloadFormat} not allowed on X${pduType + 1}`,
      };
    }
    if (payloadDirection < 1 || payloadDirection > 5) {
      return { ok: false, code: 'ING_ERR_X2X3_PAYLOAD_DIRECTION', reason: `payload direction ${payloadDirection}` };
    }
  }
  const attributes: Tlv[] = [];
  let off = FIXED_HEADER_LENGTH;
  while (off < headerLength) {
    if (off + 4 > headerLength)
      return { ok: false, code: 'ING_ERR_X2X3_ATTRIBUTE', reason: `attribute header overruns at ${off}` };
    const type = buf.readUInt16BE(off);
    const len = buf.readUInt16BE(off + 2);
    if (off + 4 + len > headerLength)
      return { ok: false, code: 'ING_ERR_X2X3_ATTRIBUTE', reason: `attribute ${type} overruns header` };
    const size = FIXED_ATTR_SIZE[type];
    if (size !== undefined && len !== size) {
      return {
        ok: false,
        code: 'ING_ERR_X2X3_ATTRIBUTE',
        reason: `attribute ${type} has length ${len}, expected ${size}`,
      };
    }
    attributes.push({ type, value: Buffer.from(buf.subarray(off + 4, off + 4 + len)) });
    off += 4 + len;
  }
  const pdu: X2X3Pdu = {
    version: buf.readUInt16BE(0),
    pduType,
    payloadFormat,
    payloadDirection,
    xid: uuidFromBytes(buf.subarray(16, 32)),
    correlationId: buf.readBigUInt64BE(32),
    attributes,
    payload: Buffer.from(buf.subarray(headerLength)),
  };
  return { ok: true, pdu, attrs: decodeAttributes(attributes) };
}

export interface EncodeInput {
  version?: number;
  pduType: number;
  payloadFormat?: number;
  payloadDirection?: number;
  xid?: string;
  correlationId?: bigint;
  attributes?: Tlv[];
  payload?: Buffer;
}

export function encodePdu(p: EncodeInput): Buffer {
  const attrs = p.attributes ?? [];
  const payload = p.payload ?? Buffer.alloc(0);
  const attrLen = attrs.reduce((n, a) => n + 4 + a.value.length, 0);
  const out = Buffer.alloc(FIXED_HEADER_LENGTH + attrLen + payload.length);
  out.writeUInt16BE(p.version ?? DEFAULT_VERSION, 0);
  out.writeUInt16BE(p.pduType, 2);
  out.writeUInt32BE(FIXED_HEADER_LENGTH + attrLen, 4);
  out.writeUInt32BE(payload.length, 8);
  out.writeUInt16BE(p.payloadFormat ?? 0, 12);
  out.writeUInt16BE(p.payloadDirection ?? 0, 14);
  uuidToBytes(p.xid ?? ZERO_XID).copy(out, 16);
  out.writeBigUInt64BE(p.correlationId ?? 0n, 32);
  let off = FIXED_HEADER_LENGTH;
  for (const a of attrs) {
    out.writeUInt16BE(a.type, off);
    out.writeUInt16BE(a.value.length, off + 2);
    a.value.copy(out, off + 4);
    off += 4 + a.value.length;
  }
  payload.copy(out, off);
  return out;
}

/** Attribute value builders for the encoder. */
export const attr = {
  sequenceNumber(n: number): Tlv {
    const v = Buffer.alloc(4);
    v.writeUInt32BE(n >>> 0);
    return { type: ATTR.SEQUENCE_NUMBER, value: v };
  },
  timestamp(seconds: number, nanoseconds: number): Tlv {
    const v = Buffer.alloc(8);
    v.writeUInt32BE(seconds >>> 0, 0);
    v.writeUInt32BE(nanoseconds >>> 0, 4);
    return { type: ATTR.TIMESTAMP, value: v };
  },
  text(type: number, s: string): Tlv {
    return { type, value: Buffer.from(s, 'utf8') };
  },
  ipv4(type: typeof ATTR.SOURCE_IPV4 | typeof ATTR.DESTINATION_IPV4, address: string): Tlv {
    return { type, value: Buffer.from(address.split('.').map(Number)) };
  },
  u16(type: number, n: number): Tlv {
    const v = Buffer.alloc(2);
    v.writeUInt16BE(n);
    return { type, value: v };
  },
  u8(type: number, n: number): Tlv {
    return { type, value: Buffer.from([n & 0xff]) };
  },
};

/** Clause 6.2.4: the Ack echoes the Keepalive's Sequence Number; everything else zero. */
export function keepaliveAck(keepalive: X2X3Pdu): Buffer {
  const seq = keepalive.attributes.filter((a) => a.type === ATTR.SEQUENCE_NUMBER);
  return encodePdu({ pduType: PDU_TYPE.KEEPALIVE_ACK, version: keepalive.version, attributes: seq });
}

export function keepalive(sequenceNumber: number): Buffer {
  return encodePdu({ pduType: PDU_TYPE.KEEPALIVE, attributes: [attr.sequenceNumber(sequenceNumber)] });
}
