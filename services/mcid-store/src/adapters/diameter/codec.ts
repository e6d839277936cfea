// Diameter base protocol codec (RFC 6733 §3 header, §4 AVPs, §4.2-4.3 data formats).
import { isIPv4, isIPv6 } from 'node:net';

export const FLAG_R = 0x80;
export const FLAG_P = 0x40;
export const FLAG_E = 0x20;
const AVP_V = 0x80;
const AVP_M = 0x40;

export const VENDOR_3GPP = 10415;
/** Seconds between the NTP epoch (1900-01-01, Diameter Time, RFC 6733 §4.3.1) and the Unix epoch. */
const NTP_UNIX_OFFSET = 2_208_988_800;

export interface Avp {
  code: number;
  vendorId?: number;
  mandatory?: boolean;
  /** Raw data, or the children of a Grouped AVP. */
  data: Buffer | Avp[];
}

export interface DiameterMessage {
  flags: number;
  commandCode: number;
  applicationId: number;
  hopByHop: number;
  endToEnd: number;
  avps: Avp[];
}

/** On failure, `resultCode` is the RFC 6733 §7.1 code to answer a request with. */
type DecodeResult<T> = { ok: true; value: T } | { ok: false; reason: string; resultCode: number };

/** RFC 6733 §7.1.3-7.1.5 result codes for messages that cannot be read. */
const DECODE_RESULT = {
  UNABLE_TO_COMPLY: 5012,
  INVALID_AVP_LENGTH: 5014,
  INVALID_MESSAGE_LENGTH: 5015,
  UNSUPPORTED_VERSION: 5011,
} as const;

/**
 * Grouped AVPs nested deeper than this are refused. The deepest AVP of an Rf ACR/ACA is four
 * levels down (Service-Information > IMS-Information > ...); without a bound a peer's nesting
 * sets the decoder's recursion depth, and a 40 KB message of nested headers overflowed the stack.
 */
export const MAX_AVP_DEPTH = 16;
/** Default bound on an incoming message: Rf answers are a few hundred bytes. */
const MAX_MESSAGE_BYTES = 65_536;

// --- data formats --------------------------------------------------------------------------

const NO_FLAGS: { v?: number; m?: boolean } = {};

export const avp = {
  raw: (code: number, data: Buffer, o: { v?: number; m?: boolean } = NO_FLAGS): Avp => {
    // Built without a spread: an ACR makes ~40 of these, and the spread was its top cost (profile).
    const a: Avp = { code, data, mandatory: o.m ?? true };
    if (o.v !== undefined) a.vendorId = o.v;
    return a;
  },
  utf8: (code: number, s: string, o: { v?: number; m?: boolean } = {}): Avp => avp.raw(code, Buffer.from(s, 'utf8'), o),
  // The number AVPs take pooled unzeroed buffers: each write fills all of its bytes.
  u32: (code: number, n: number, o: { v?: number; m?: boolean } = {}): Avp => {
    const b = Buffer.allocUnsafe(4);
    b.writeUInt32BE(n >>> 0);
    return avp.raw(code, b, o);
  },
  i32: (code: number, n: number, o: { v?: number; m?: boolean } = {}): Avp => {
    const b = Buffer.allocUnsafe(4);
    b.writeInt32BE(n | 0);
    return avp.raw(code, b, o);
  },
  u64: (code: number, n: bigint, o: { v?: number; m?: boolean } = {}): Avp => {
    const b = Buffer.allocUnsafe(8);
    b.writeBigUInt64BE(n);
    return avp.raw(code, b, o);
  },
  /** Diameter Time: NTP seconds since 1900 (RFC 6733 §4.3.1; wraps in 2036 per RFC 5905). */
  time: (code: number, unixMillis: number, o: { v?: number; m?: boolean } = {}): Avp => {
    const b = Buffer.allocUnsafe(4);
    b.writeUInt32BE((Math.floor(unixMillis / 1000) + NTP_UNIX_OFFSET) % 2 ** 32);
    return avp.raw(code, b, o);
  },
  /** Address: 2-byte IANA address family (1 IPv4, 2 IPv6) then the address (RFC 6733 §4.3.1). */
  address: (code: number, ip: string, o: { v?: number; m?: boolean } = {}): Avp => {
    if (isIPv4(ip)) return avp.raw(code, Buffer.from([0, 1, ...ip.split('.').map(Number)]), o);
    if (isIPv6(ip)) return avp.raw(code, Buffer.concat([Buffer.from([0, 2]), ipv6Bytes(ip)]), o);
    throw new TypeError('not an IP address');
  },
  grouped: (code: number, children: Avp[], o: { v?: number; m?: boolean } = NO_FLAGS): Avp => {
    const a: Avp = { code, data: children, mandatory: o.m ?? true };
    if (o.v !== undefined) a.vendorId = o.v;
    return a;
  },
};

function ipv6Bytes(ip: string): Buffer {
  const [head, tail] = ip.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => {
    b.writeUInt16BE(Number.parseInt(g, 16), i * 2);
  });
  return b;
}

// --- encoding ------------------------------------------------------------------------------

// Sizes first, then one buffer written in place: an ACR is ~40 AVPs nested four deep, and a
// buffer per AVP copied again at each level was most of mcid-store's encoding cost (profile).

/** The AVP's length on the wire, padding included (RFC 6733 §4.1). */
function avpSize(a: Avp): number {
  const headerLen = a.vendorId !== undefined && a.vendorId !== 0 ? 12 : 8;
  return (headerLen + avpDataSize(a) + 3) & ~3;
}

function avpDataSize(a: Avp): number {
  if (!Array.isArray(a.data)) return a.data.length;
  let n = 0;
  for (const c of a.data) n += avpSize(c);
  return n;
}

/** Writes the AVP at offset; returns the offset after it (and its zeroed padding). */
function writeAvp(a: Avp, out: Buffer, offset: number): number {
  const hasVendor = a.vendorId !== undefined && a.vendorId !== 0;
  const headerLen = hasVendor ? 12 : 8;
  const len = headerLen + avpDataSize(a); // AVP Length excludes the padding
  out.writeUInt32BE(a.code >>> 0, offset);
  out.writeUInt32BE(len, offset + 4);
  out[offset + 4] = (hasVendor ? AVP_V : 0) | (a.mandatory === false ? 0 : AVP_M);
  if (hasVendor) out.writeUInt32BE(a.vendorId! >>> 0, offset + 8);
  let at = offset + headerLen;
  if (Array.isArray(a.data)) for (const c of a.data) at = writeAvp(c, out, at);
  else {
    // TypedArray set and a byte loop: Buffer copy and fill cost more than these few bytes (profile).
    out.set(a.data, at);
    at += a.data.length;
  }
  const end = offset + ((len + 3) & ~3);
  for (; at < end; at++) out[at] = 0;
  return end;
}

export function encodeAvp(a: Avp): Buffer {
  const out = Buffer.allocUnsafe(avpSize(a));
  writeAvp(a, out, 0);
  return out;
}

export function encodeMessage(m: DiameterMessage): Buffer {
  let size = 20;
  for (const a of m.avps) size += avpSize(a);
  const out = Buffer.allocUnsafe(size);
  out.writeUInt32BE(size, 0);
  out[0] = 1; // version
  out.writeUInt32BE(m.commandCode & 0xffffff, 4);
  out[4] = m.flags & 0xf0;
  out.writeUInt32BE(m.applicationId >>> 0, 8);
  out.writeUInt32BE(m.hopByHop >>> 0, 12);
  out.writeUInt32BE(m.endToEnd >>> 0, 16);
  let at = 20;
  for (const a of m.avps) at = writeAvp(a, out, at);
  return out;
}

/**
 * Writes AVPs straight into one buffer, in the bytes writeAvp gives the same AVPs (a vendor id
 * of 0 is none, as there): grouped AVPs by open/close, their length set at close. One scratch
 * buffer reused (encoding is synchronous); finish() copies the message out.
 */
export class AvpWriter {
  private static instance: AvpWriter | null = null;
  private buf = Buffer.allocUnsafe(8192);
  private at = 0;

  static shared(): AvpWriter {
    AvpWriter.instance ??= new AvpWriter();
    AvpWriter.instance.at = 0;
    return AvpWriter.instance;
  }

  private ensure(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const b = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(b, 0, 0, this.at);
    this.buf = b;
  }

  messageHeader(flags: number, commandCode: number, applicationId: number, hopByHop: number, endToEnd: number): void {
    this.ensure(20);
    const out = this.buf;
    out.writeUInt32BE(commandCode & 0xffffff, 4);
    out[4] = flags & 0xf0;
    out.writeUInt32BE(applicationId >>> 0, 8);
    out.writeUInt32BE(hopByHop >>> 0, 12);
    out.writeUInt32BE(endToEnd >>> 0, 16);
    this.at = 20;
  }

  /** Writes the header but the length; returns the AVP's offset. */
  private header(code: number, vendorId: number, mandatory: boolean, dataMax: number): number {
    this.ensure(12 + dataMax + 3);
    const out = this.buf;
    const start = this.at;
    out.writeUInt32BE(code >>> 0, start);
    const hasVendor = vendorId !== 0;
    out[start + 4] = (hasVendor ? AVP_V : 0) | (mandatory ? AVP_M : 0);
    if (hasVendor) out.writeUInt32BE(vendorId >>> 0, start + 8);
    this.at = start + (hasVendor ? 12 : 8);
    return start;
  }

  /** Sets the length (24 bits, the flags byte kept) and zeroes the padding. */
  private end(start: number): void {
    const out = this.buf;
    const len = this.at - start;
    out[start + 5] = (len >>> 16) & 0xff;
    out.writeUInt16BE(len & 0xffff, start + 6);
    for (; this.at & 3; this.at++) out[this.at] = 0;
  }

  u32(code: number, n: number, vendorId: number, mandatory: boolean): void {
    const start = this.header(code, vendorId, mandatory, 4);
    this.buf.writeUInt32BE(n >>> 0, this.at);
    this.at += 4;
    this.end(start);
  }

  i32(code: number, n: number, vendorId: number, mandatory: boolean): void {
    const start = this.header(code, vendorId, mandatory, 4);
    this.buf.writeInt32BE(n | 0, this.at);
    this.at += 4;
    this.end(start);
  }

  time(code: number, unixMillis: number, vendorId: number, mandatory: boolean): void {
    const start = this.header(code, vendorId, mandatory, 4);
    this.buf.writeUInt32BE((Math.floor(unixMillis / 1000) + NTP_UNIX_OFFSET) % 2 ** 32, this.at);
    this.at += 4;
    this.end(start);
  }

  utf8(code: number, s: string, vendorId: number, mandatory: boolean): void {
    // At most 3 bytes per UTF-16 unit.
    const start = this.header(code, vendorId, mandatory, s.length * 3);
    this.at += this.buf.write(s, this.at, 'utf8');
    this.end(start);
  }

  open(code: number, vendorId: number, mandatory: boolean): number {
    return this.header(code, vendorId, mandatory, 0);
  }

  close(start: number): void {
    this.end(start);
  }

  /** The message with its length set, in a buffer of its own. */
  finish(): Buffer {
    const out = this.buf;
    out.writeUInt32BE(this.at, 0);
    out[0] = 1; // version
    const msg = Buffer.allocUnsafe(this.at);
    out.copy(msg, 0, 0, this.at);
    return msg;
  }
}

// --- decoding ------------------------------------------------------------------------------

/** Tells the decoder which AVPs are Grouped (their data is decoded into children). */
type GroupedPredicate = (code: number, vendorId: number) => boolean;

function decodeAvps(buf: Buffer, isGrouped: GroupedPredicate, depth = 0): DecodeResult<Avp[]> {
  if (depth > MAX_AVP_DEPTH)
    return {
      ok: false,
      reason: `AVPs nested deeper than ${MAX_AVP_DEPTH}`,
      resultCode: DECODE_RESULT.UNABLE_TO_COMPLY,
    };
  const out: Avp[] = [];
  let off = 0;
  while (off < buf.length) {
    if (buf.length - off < 8)
      return { ok: false, reason: `truncated AVP header at ${off}`, resultCode: DECODE_RESULT.INVALID_AVP_LENGTH };
    const code = buf.readUInt32BE(off);
    const flags = buf[off + 4]!;
    const len = buf.readUInt32BE(off + 4) & 0xffffff;
    const hasVendor = (flags & AVP_V) !== 0;
    const headerLen = hasVendor ? 12 : 8;
    if (len < headerLen || off + len > buf.length)
      return {
        ok: false,
        reason: `bad AVP length ${len} (code ${code})`,
        resultCode: DECODE_RESULT.INVALID_AVP_LENGTH,
      };
    const vendorId = hasVendor ? buf.readUInt32BE(off + 8) : 0;
    const data = buf.subarray(off + headerLen, off + len);
    const a: Avp = { code, mandatory: (flags & AVP_M) !== 0, data };
    if (hasVendor) a.vendorId = vendorId;
    if (isGrouped(code, vendorId)) {
      const inner = decodeAvps(data, isGrouped, depth + 1);
      if (!inner.ok) return inner;
      a.data = inner.value;
    }
    out.push(a);
    off += (len + 3) & ~3;
  }
  return { ok: true, value: out };
}

export interface DiameterHeader {
  flags: number;
  commandCode: number;
  applicationId: number;
  hopByHop: number;
  endToEnd: number;
}

/** The fixed header alone (RFC 6733 §3), so that a message whose AVPs cannot be read can still be answered. */
export function decodeHeader(buf: Buffer): DiameterHeader | undefined {
  if (buf.length < 20) return undefined;
  return {
    flags: buf[4]!,
    commandCode: buf.readUInt32BE(4) & 0xffffff,
    applicationId: buf.readUInt32BE(8),
    hopByHop: buf.readUInt32BE(12),
    endToEnd: buf.readUInt32BE(16),
  };
}

export function decodeMessage(buf: Buffer, isGrouped: GroupedPredicate): DecodeResult<DiameterMessage> {
  const header = decodeHeader(buf);
  if (!header)
    return { ok: false, reason: 'shorter than a Diameter header', resultCode: DECODE_RESULT.INVALID_MESSAGE_LENGTH };
  if (buf[0] !== 1)
    return { ok: false, reason: `unsupported version ${buf[0]}`, resultCode: DECODE_RESULT.UNSUPPORTED_VERSION };
  const len = buf.readUInt32BE(0) & 0xffffff;
  if (len !== buf.length || len % 4 !== 0)
    return {
      ok: false,
      reason: `message length ${len} vs ${buf.length}`,
      resultCode: DECODE_RESULT.INVALID_MESSAGE_LENGTH,
    };
  const avps = decodeAvps(buf.subarray(20, len), isGrouped);
  if (!avps.ok) return avps;
  return { ok: true, value: { ...header, avps: avps.value } };
}

/** A stream that cannot be cut into messages any more: the connection must be closed. */
export class FramingError extends Error {
  readonly code = 'MCD_ERR_DIAMETER_DECODE';
}

/**
 * Cuts a TCP byte stream into whole Diameter messages. A message announced longer than
 * `maxBytes` is refused before any of it is buffered: the 24-bit length lets a peer ask for
 * 16 MiB per message.
 */
export class MessageFramer {
  private buf: Buffer = Buffer.alloc(0);
  private readonly maxBytes: number;

  constructor(maxBytes = MAX_MESSAGE_BYTES) {
    this.maxBytes = maxBytes;
  }

  push(chunk: Buffer): Buffer[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const out: Buffer[] = [];
    while (this.buf.length >= 4) {
      const len = this.buf.readUInt32BE(0) & 0xffffff;
      if (len < 20) throw new FramingError(`invalid Diameter message length ${len}`);
      if (len > this.maxBytes) throw new FramingError(`Diameter message length ${len} over ${this.maxBytes}`);
      if (this.buf.length < len) break;
      out.push(this.buf.subarray(0, len));
      this.buf = this.buf.subarray(len);
    }
    return out;
  }
}

// --- reading -------------------------------------------------------------------------------

export function findAvp(avps: readonly Avp[], code: number, vendorId = 0): Avp | undefined {
  return avps.find((a) => a.code === code && (a.vendorId ?? 0) === vendorId);
}

export function findAll(avps: readonly Avp[], code: number, vendorId = 0): Avp[] {
  return avps.filter((a) => a.code === code && (a.vendorId ?? 0) === vendorId);
}

export function asU32(a: Avp | undefined): number | undefined {
  return a && Buffer.isBuffer(a.data) && a.data.length === 4 ? a.data.readUInt32BE(0) : undefined;
}

export function asUtf8(a: Avp | undefined): string | undefined {
  return a && Buffer.isBuffer(a.data) ? a.data.toString('utf8') : undefined;
}

/** Diameter Time → Unix milliseconds. */
export function asTime(a: Avp | undefined): number | undefined {
  const s = asU32(a);
  return s === undefined ? undefined : (s - NTP_UNIX_OFFSET) * 1000;
}

export function children(a: Avp | undefined): Avp[] {
  return a && Array.isArray(a.data) ? a.data : [];
}
