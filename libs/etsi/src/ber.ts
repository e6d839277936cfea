// Minimal BER (X.690) writer and reader for the ETSI LI modules.
//
// Why not asn1js: the LI records are a fixed, known shape, so a schema-less TLV writer that
// encodes straight into one reusable buffer avoids building an object tree per record (asn1js
// allocates a class instance per node and re-copies every constructed value on toBER). The
// writer backpatches definite lengths; the reader never throws past its public callers (they
// catch BerError and turn it into a typed result).

export const UNIVERSAL = 0x00;
export const CONTEXT = 0x80;
export const CONSTRUCTED = 0x20;

/** Universal tag numbers used here. */
export const U = {
  BOOLEAN: 1,
  INTEGER: 2,
  OCTET_STRING: 4,
  NULL: 5,
  OID: 6,
  ENUMERATED: 10,
  UTF8String: 12,
  RELATIVE_OID: 13,
  SEQUENCE: 16,
  SET: 17,
  PrintableString: 19,
  IA5String: 22,
  UTCTime: 23,
  GeneralizedTime: 24,
} as const;

export type DecodeErrorCode =
  | 'ETSI_ERR_TRUNCATED'
  | 'ETSI_ERR_BAD_LENGTH'
  | 'ETSI_ERR_BAD_TAG'
  | 'ETSI_ERR_UNEXPECTED_TAG'
  | 'ETSI_ERR_MISSING_FIELD'
  | 'ETSI_ERR_BAD_VALUE'
  | 'ETSI_ERR_TOO_DEEP'
  | 'ETSI_ERR_TRAILING_BYTES';

/** Thrown inside the codecs only; public decode functions catch it and return DecodeFailure. */
export class BerError extends Error {
  readonly code: DecodeErrorCode;
  readonly offset: number;
  constructor(code: DecodeErrorCode, reason: string, offset: number) {
    super(reason);
    this.name = 'BerError';
    this.code = code;
    this.offset = offset;
  }
}

/** Thrown by encoders when a value breaks a constraint of the ASN.1 module (caller bug, not input). */
export class EtsiEncodeError extends Error {
  readonly code = 'ETSI_ERR_INVALID_VALUE';
  constructor(reason: string) {
    super(reason);
    this.name = 'EtsiEncodeError';
  }
}

/** A country code (PrintableString (SIZE (2)), ISO 3166-1 alpha-2 by the modules' comments). */
export function checkCountryCode(s: string, what: string): void {
  if (!/^[A-Z]{2}$/.test(s))
    throw new EtsiEncodeError(`${what} must be an ISO 3166-1 alpha-2 code (two capital letters)`);
}

/** An INTEGER (min..max) of the module. */
export function checkRange(v: number, min: number, max: number, what: string): void {
  if (!Number.isInteger(v) || v < min || v > max)
    throw new EtsiEncodeError(`${what} must be an integer ${min}..${max}`);
}

export interface DecodeFailure {
  ok: false;
  code: DecodeErrorCode;
  reason: string;
  offset: number;
}
export type DecodeResult<T> = { ok: true; value: T; bytesRead: number } | DecodeFailure;

// ------------------------------------------------------------------------------------------
// Writer
// ------------------------------------------------------------------------------------------

const TWO_32 = 0x1_0000_0000;

function lengthOfLength(len: number): number {
  if (len < 0x80) return 1;
  if (len < 0x100) return 2;
  if (len < 0x10000) return 3;
  if (len < 0x1000000) return 4;
  return 5;
}

export class BerWriter {
  private buf: Buffer;
  pos = 0;
  // Content start offsets of the open constructed values; one length octet is reserved at start-1.
  private readonly stack = new Int32Array(64);
  private depth = 0;

  constructor(initialSize = 16 * 1024) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  reset(): void {
    this.pos = 0;
    this.depth = 0;
  }

  private ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  tag(clsFlags: number, num: number): void {
    if (num < 31) {
      this.ensure(1);
      this.buf[this.pos++] = clsFlags | num;
      return;
    }
    // High tag number form (X.690 8.1.2.4), e.g. [255] national-HI2-ASN1parameters.
    let n = 1;
    for (let t = num >>> 7; t > 0; t >>>= 7) n++;
    this.ensure(n + 1);
    this.buf[this.pos++] = clsFlags | 0x1f;
    for (let i = n - 1; i >= 0; i--) {
      const b = (num >>> (7 * i)) & 0x7f;
      this.buf[this.pos++] = i === 0 ? b : b | 0x80;
    }
  }

  length(len: number): void {
    const n = lengthOfLength(len);
    this.ensure(n);
    if (n === 1) {
      this.buf[this.pos++] = len;
      return;
    }
    this.buf[this.pos++] = 0x80 | (n - 1);
    for (let i = n - 2; i >= 0; i--) this.buf[this.pos++] = Math.floor(len / 2 ** (8 * i)) & 0xff;
  }

  /** Opens a constructed value; close it with end(). */
  open(clsFlags: number, num: number): void {
    this.tag(clsFlags | CONSTRUCTED, num);
    this.ensure(1);
    this.buf[this.pos++] = 0;
    if (this.depth >= this.stack.length) throw new EtsiEncodeError('nesting too deep');
    this.stack[this.depth++] = this.pos;
  }

  seq(): void {
    this.open(UNIVERSAL, U.SEQUENCE);
  }

  end(): void {
    if (this.depth === 0) throw new Error('BerWriter.end without open');
    const start = this.stack[--this.depth]!;
    const len = this.pos - start;
    if (len < 0x80) {
      this.buf[start - 1] = len;
      return;
    }
    // Long form: shift the content right to make room (one memmove per level, cheap).
    const extra = lengthOfLength(len) - 1;
    this.ensure(extra);
    this.buf.copyWithin(start + extra, start, this.pos);
    this.buf[start - 1] = 0x80 | extra;
    for (let i = 0; i < extra; i++) this.buf[start + i] = Math.floor(len / 2 ** (8 * (extra - 1 - i))) & 0xff;
    this.pos += extra;
  }

  octets(clsFlags: number, num: number, bytes: Uint8Array): void {
    this.tag(clsFlags, num);
    this.length(bytes.length);
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** OCTET STRING / PrintableString / IA5String from a string, one octet per char (latin1). */
  latin1(clsFlags: number, num: number, s: string): void {
    this.tag(clsFlags, num);
    const len = s.length;
    this.length(len);
    this.ensure(len);
    if (len < 48) {
      // Short identifiers: a plain loop beats the native write call.
      const b = this.buf;
      let p = this.pos;
      for (let i = 0; i < len; i++) b[p++] = s.charCodeAt(i);
    } else {
      this.buf.write(s, this.pos, len, 'latin1');
    }
    this.pos += len;
  }

  utf8(clsFlags: number, num: number, s: string): void {
    const len = Buffer.byteLength(s, 'utf8');
    this.tag(clsFlags, num);
    this.length(len);
    this.ensure(len);
    this.buf.write(s, this.pos, len, 'utf8');
    this.pos += len;
  }

  /** Bytes or string (latin1). */
  bytes(clsFlags: number, num: number, v: Uint8Array | string): void {
    if (typeof v === 'string') this.latin1(clsFlags, num, v);
    else this.octets(clsFlags, num, v);
  }

  /** INTEGER or ENUMERATED content: minimal two's complement. */
  int(clsFlags: number, num: number, v: number | bigint): void {
    this.tag(clsFlags, num);
    if (typeof v === 'number' && v >= 0 && v < 0x80 && Number.isInteger(v)) {
      this.ensure(2);
      this.buf[this.pos++] = 1;
      this.buf[this.pos++] = v;
      return;
    }
    if (typeof v === 'number' && v >= 0 && v <= Number.MAX_SAFE_INTEGER && Number.isInteger(v)) {
      let n = 1;
      for (let t = v; t >= 0x80; t = Math.floor(t / 256)) n++;
      this.ensure(n + 1);
      this.buf[this.pos++] = n;
      let t = v;
      for (let i = n - 1; i >= 0; i--) {
        this.buf[this.pos + i] = t % 256;
        t = Math.floor(t / 256);
      }
      this.pos += n;
      return;
    }
    if (typeof v === 'number' && !Number.isSafeInteger(v)) throw new EtsiEncodeError(`not a safe integer: ${v}`);
    const content = bigintBytes(BigInt(v));
    this.length(content.length);
    this.ensure(content.length);
    this.buf.set(content, this.pos);
    this.pos += content.length;
  }

  nul(clsFlags: number, num: number): void {
    this.tag(clsFlags, num);
    this.ensure(1);
    this.buf[this.pos++] = 0;
  }

  bool(clsFlags: number, num: number, v: boolean): void {
    this.tag(clsFlags, num);
    this.ensure(2);
    this.buf[this.pos++] = 1;
    this.buf[this.pos++] = v ? 0xff : 0;
  }

  /** Pre-encoded TLV(s). */
  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** Copies the finished encoding out; the writer can be reused afterwards. */
  finish(): Buffer {
    if (this.depth !== 0) throw new Error('BerWriter.finish with open constructed values');
    const out = Buffer.allocUnsafe(this.pos);
    this.buf.copy(out, 0, 0, this.pos);
    this.pos = 0;
    return out;
  }
}

function bigintBytes(v: bigint): Uint8Array {
  const out: number[] = [];
  let t = v;
  for (;;) {
    const b = Number(t & 0xffn);
    out.unshift(b);
    t >>= 8n;
    if ((t === 0n && (b & 0x80) === 0) || (t === -1n && (b & 0x80) !== 0)) break;
  }
  return Uint8Array.from(out);
}

/** Content octets of an OBJECT IDENTIFIER (X.690 8.19). */
export function oidContent(arcs: readonly number[]): Buffer {
  if (arcs.length < 2) throw new EtsiEncodeError('OID needs at least two arcs');
  const first = arcs[0]!;
  const second = arcs[1]!;
  if (first > 2 || (first < 2 && second > 39)) throw new EtsiEncodeError('bad OID root arcs');
  return relOidContent([first * 40 + second, ...arcs.slice(2)]);
}

/** Content octets of a RELATIVE-OID (X.690 8.20). */
export function relOidContent(arcs: readonly number[]): Buffer {
  const out: number[] = [];
  for (const arc of arcs) {
    if (!Number.isSafeInteger(arc) || arc < 0) throw new EtsiEncodeError(`bad OID arc ${arc}`);
    const tmp: number[] = [arc % 128];
    for (let t = Math.floor(arc / 128); t > 0; t = Math.floor(t / 128)) tmp.unshift((t % 128) | 0x80);
    out.push(...tmp);
  }
  return Buffer.from(out);
}

// ------------------------------------------------------------------------------------------
// Time
// ------------------------------------------------------------------------------------------

function pad(n: number, w: number): string {
  return String(n).padStart(w, '0');
}

/**
 * GeneralizedTime text for a UTC instant in microseconds: YYYYMMDDhhmmss[.f]Z, fraction
 * trimmed of trailing zeros (X.690 11.7 canonical form). With offsetMinutes the local time
 * and a ±hhmm suffix are written instead of Z.
 */
// Records arrive in time order: the YYYYMMDDhhmmss part is reused within the same second.
let cachedSecond = Number.NaN;
let cachedPrefix = '';

function secondPrefix(second: number): string {
  if (second === cachedSecond) return cachedPrefix;
  const d = new Date(second * 1000);
  const y = d.getUTCFullYear();
  if (y < 0 || y > 9999) throw new EtsiEncodeError('year out of range for GeneralizedTime');
  cachedPrefix =
    pad(y, 4) +
    pad(d.getUTCMonth() + 1, 2) +
    pad(d.getUTCDate(), 2) +
    pad(d.getUTCHours(), 2) +
    pad(d.getUTCMinutes(), 2) +
    pad(d.getUTCSeconds(), 2);
  cachedSecond = second;
  return cachedPrefix;
}

export function formatGeneralizedTime(micros: number, offsetMinutes?: number): string {
  if (!Number.isSafeInteger(micros)) throw new EtsiEncodeError('time must be integer microseconds');
  const local = micros + (offsetMinutes ?? 0) * 60_000_000;
  const second = Math.floor(local / 1_000_000);
  let frac = local - second * 1_000_000;
  let s = secondPrefix(second);
  if (frac !== 0) {
    let digits = 6;
    while (frac % 10 === 0) {
      frac /= 10;
      digits--;
    }
    s += '.' + pad(frac, digits);
  }
  if (offsetMinutes === undefined) return s + 'Z';
  const sign = offsetMinutes < 0 ? '-' : '+';
  const a = Math.abs(offsetMinutes);
  return s + sign + pad(Math.floor(a / 60), 2) + pad(a % 60, 2);
}

/** UTCTime text YYMMDDhhmmssZ (seconds precision; years 1950..2049). */
export function formatUtcTime(micros: number): string {
  const d = new Date(Math.floor(micros / 1000));
  const y = d.getUTCFullYear();
  if (y < 1950 || y > 2049) throw new EtsiEncodeError('year out of range for UTCTime');
  return (
    pad(y % 100, 2) +
    pad(d.getUTCMonth() + 1, 2) +
    pad(d.getUTCDate(), 2) +
    pad(d.getUTCHours(), 2) +
    pad(d.getUTCMinutes(), 2) +
    pad(d.getUTCSeconds(), 2) +
    'Z'
  );
}

const GT_RE = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})?(\d{2})?(?:[.,](\d{1,9}))?(Z|[+-]\d{4})?$/;
const UT_RE = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(Z|[+-]\d{4})$/;

function civilMicros(y: number, mo: number, d: number, h: number, mi: number, s: number, offset: string): number {
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return Number.NaN;
  let ms = Date.UTC(y, mo - 1, d, h, mi, s);
  if (y < 100) ms = new Date(ms).setUTCFullYear(y);
  if (offset !== 'Z' && offset !== '') {
    const sign = offset[0] === '-' ? -1 : 1;
    const oh = Number(offset.slice(1, 3));
    const om = Number(offset.slice(3, 5));
    if (oh > 23 || om > 59) return Number.NaN;
    ms -= sign * (oh * 60 + om) * 60_000;
  }
  return ms * 1000;
}

export interface ParsedTime {
  micros: number;
  /** Minutes east of UTC when the text carried ±hhmm; undefined for Z or local time without zone. */
  offsetMinutes?: number;
}

export function parseGeneralizedTime(text: string): ParsedTime | undefined {
  const m = GT_RE.exec(text);
  if (!m) return undefined;
  const zone = m[8] ?? '';
  const base = civilMicros(
    Number(m[1]),
    Number(m[2]),
    Number(m[3]),
    Number(m[4]),
    Number(m[5] ?? 0),
    Number(m[6] ?? 0),
    zone,
  );
  if (Number.isNaN(base)) return undefined;
  const fracDigits = m[7] ?? '';
  const frac = fracDigits === '' ? 0 : Math.floor(Number((fracDigits + '000000').slice(0, 6)));
  const out: ParsedTime = { micros: base + frac };
  if (zone !== '' && zone !== 'Z') {
    const sign = zone[0] === '-' ? -1 : 1;
    out.offsetMinutes = sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3, 5)));
  }
  return out;
}

// A GeneralizedTime written with a two-digit year, UTCTime style (YYMMDDhhmm[ss][.f][Z|±hhmm]).
const YY_RE = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(?:[.,](\d{1,9}))?(Z|[+-]\d{4})?$/;

/**
 * Reads a time a peer sent where GeneralizedTime is due, also when it wrote a two-digit year (some
 * LEA implementations do; years 50..99 are 19xx, 00..49 20xx as for UTCTime, X.680 cl. 47). Text
 * that is valid either way (10 or 12 digits) is read with the two-digit year only when the four-digit
 * reading lands after 2199, which no peer means.
 */
export function parseLenientTime(text: string): ParsedTime | undefined {
  const gt = parseGeneralizedTime(text);
  if (gt && new Date(gt.micros / 1000).getUTCFullYear() <= 2199) return gt;
  const m = YY_RE.exec(text);
  if (!m) return gt;
  const zone = m[8] ?? '';
  const base = twoDigitYearMicros(m, zone);
  if (Number.isNaN(base)) return gt;
  const fracDigits = m[7] ?? '';
  const out: ParsedTime = {
    micros: base + (fracDigits === '' ? 0 : Math.floor(Number((fracDigits + '000000').slice(0, 6)))),
  };
  if (zone !== '' && zone !== 'Z') {
    out.offsetMinutes = (zone[0] === '-' ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3, 5)));
  }
  return out;
}

/** Year, month, day, hour, minute and second from a match whose year has two digits (50-99 are 19xx, as in UTCTime). */
function twoDigitYearMicros(m: RegExpExecArray, zone: string): number {
  const yy = Number(m[1]);
  const year = yy < 50 ? 2000 + yy : 1900 + yy;
  return civilMicros(year, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0), zone);
}

export function parseUtcTime(text: string): number | undefined {
  const m = UT_RE.exec(text);
  if (!m) return undefined;
  const v = twoDigitYearMicros(m, m[7] ?? 'Z');
  return Number.isNaN(v) ? undefined : v;
}

// ------------------------------------------------------------------------------------------
// Reader
// ------------------------------------------------------------------------------------------

export interface Tlv {
  /** Class bits (0x00, 0x40, 0x80, 0xC0). */
  cls: number;
  constructed: boolean;
  num: number;
  /** Offset of the identifier octet. */
  offset: number;
  /** Content [start, end). */
  start: number;
  end: number;
  /** Offset after this TLV (after the end-of-contents octets for indefinite lengths). */
  next: number;
}

const MAX_DEPTH = 48;

/** Reads one TLV at offset, within [offset, limit). Throws BerError. */
export function readTlv(buf: Uint8Array, offset: number, limit: number, depth = 0): Tlv {
  if (depth > MAX_DEPTH) throw new BerError('ETSI_ERR_TOO_DEEP', 'nesting too deep', offset);
  let p = offset;
  if (p >= limit) throw new BerError('ETSI_ERR_TRUNCATED', 'missing identifier octet', p);
  const b0 = buf[p++]!;
  const cls = b0 & 0xc0;
  const constructed = (b0 & 0x20) !== 0;
  let num = b0 & 0x1f;
  if (num === 0x1f) {
    num = 0;
    let count = 0;
    for (;;) {
      if (p >= limit) throw new BerError('ETSI_ERR_TRUNCATED', 'truncated tag', p);
      const b = buf[p++]!;
      if (count === 0 && b === 0x80) throw new BerError('ETSI_ERR_BAD_TAG', 'non-minimal tag', p - 1);
      num = num * 128 + (b & 0x7f);
      if (++count > 4) throw new BerError('ETSI_ERR_BAD_TAG', 'tag number too large', p - 1);
      if ((b & 0x80) === 0) break;
    }
  }
  if (p >= limit) throw new BerError('ETSI_ERR_TRUNCATED', 'missing length octet', p);
  const l0 = buf[p++]!;
  if (l0 === 0x80) {
    // Indefinite length (X.690 8.1.3.6): constructed only; content ends at 00 00.
    if (!constructed) throw new BerError('ETSI_ERR_BAD_LENGTH', 'indefinite length on primitive', p - 1);
    const start = p;
    let q = p;
    for (;;) {
      if (q + 1 < limit && buf[q] === 0 && buf[q + 1] === 0) break;
      const child = readTlv(buf, q, limit, depth + 1);
      q = child.next;
    }
    return { cls, constructed, num, offset, start, end: q, next: q + 2 };
  }
  let len = l0;
  if (l0 & 0x80) {
    const n = l0 & 0x7f;
    if (n === 0x7f) throw new BerError('ETSI_ERR_BAD_LENGTH', 'reserved length octet', p - 1);
    if (n > 6) throw new BerError('ETSI_ERR_BAD_LENGTH', 'length too large', p - 1);
    if (p + n > limit) throw new BerError('ETSI_ERR_TRUNCATED', 'truncated length', p);
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p++]!;
  }
  const end = p + len;
  if (end > limit) throw new BerError('ETSI_ERR_TRUNCATED', `content needs ${len} octets, ${limit - p} left`, p);
  return { cls, constructed, num, offset, start: p, end, next: end };
}

/** The child TLVs of a constructed value. */
export function children(buf: Uint8Array, parent: Tlv, depth = 1): Tlv[] {
  if (!parent.constructed) throw new BerError('ETSI_ERR_BAD_TAG', 'expected a constructed value', parent.offset);
  const out: Tlv[] = [];
  let p = parent.start;
  while (p < parent.end) {
    const t = readTlv(buf, p, parent.end, depth);
    out.push(t);
    p = t.next;
  }
  return out;
}

function expectPrimitive(t: Tlv): void {
  if (t.constructed) throw new BerError('ETSI_ERR_BAD_TAG', `[${t.num}] must be primitive`, t.offset);
}

export function readInteger(buf: Uint8Array, t: Tlv): number | bigint {
  expectPrimitive(t);
  const len = t.end - t.start;
  if (len === 0) throw new BerError('ETSI_ERR_BAD_VALUE', 'empty INTEGER', t.offset);
  if (len <= 6) {
    // Seeding with -1 sign-extends a negative value (two's complement).
    let v = buf[t.start]! & 0x80 ? -1 : 0;
    for (let i = t.start; i < t.end; i++) v = v * 256 + buf[i]!;
    return v;
  }
  let v = buf[t.start]! & 0x80 ? -1n : 0n;
  for (let i = t.start; i < t.end; i++) v = (v << 8n) | BigInt(buf[i]!);
  if (v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(v);
  return v;
}

/** INTEGER constrained to a safe non-negative range, e.g. (0..4294967295). */
export function readUint(buf: Uint8Array, t: Tlv, max = TWO_32 - 1): number {
  const v = readInteger(buf, t);
  if (typeof v !== 'number' || v < 0 || v > max) {
    throw new BerError('ETSI_ERR_BAD_VALUE', `[${t.num}] integer out of range 0..${max}`, t.offset);
  }
  return v;
}

export function readOctets(buf: Uint8Array, t: Tlv): Buffer {
  if (t.constructed) return readConstructedOctets(buf, t);
  return Buffer.from(buf.buffer, buf.byteOffset + t.start, t.end - t.start);
}

// Constructed OCTET STRING (BER 8.7.3): concatenate the primitive segments.
function readConstructedOctets(buf: Uint8Array, t: Tlv): Buffer {
  const parts: Buffer[] = [];
  for (const c of children(buf, t)) {
    if (c.cls !== UNIVERSAL || c.num !== U.OCTET_STRING) {
      throw new BerError('ETSI_ERR_BAD_TAG', 'bad segment in constructed string', c.offset);
    }
    parts.push(readOctets(buf, c));
  }
  return Buffer.concat(parts);
}

export function readLatin1(buf: Uint8Array, t: Tlv): string {
  return readOctets(buf, t).toString('latin1');
}

export function readUtf8(buf: Uint8Array, t: Tlv): string {
  return readOctets(buf, t).toString('utf8');
}

export function readNull(_buf: Uint8Array, t: Tlv): void {
  expectPrimitive(t);
  if (t.end !== t.start) throw new BerError('ETSI_ERR_BAD_VALUE', 'NULL with content', t.offset);
}

export function readBool(buf: Uint8Array, t: Tlv): boolean {
  expectPrimitive(t);
  if (t.end - t.start !== 1) throw new BerError('ETSI_ERR_BAD_VALUE', 'BOOLEAN must have one octet', t.offset);
  return buf[t.start] !== 0;
}

export function readRelOid(buf: Uint8Array, t: Tlv): number[] {
  expectPrimitive(t);
  const arcs: number[] = [];
  let v = 0;
  let inArc = false;
  for (let i = t.start; i < t.end; i++) {
    const b = buf[i]!;
    if (!inArc && b === 0x80) throw new BerError('ETSI_ERR_BAD_VALUE', 'non-minimal OID arc', i);
    v = v * 128 + (b & 0x7f);
    if (v > Number.MAX_SAFE_INTEGER) throw new BerError('ETSI_ERR_BAD_VALUE', 'OID arc too large', i);
    inArc = (b & 0x80) !== 0;
    if (!inArc) {
      arcs.push(v);
      v = 0;
    }
  }
  if (inArc) throw new BerError('ETSI_ERR_BAD_VALUE', 'truncated OID arc', t.end);
  return arcs;
}

export function readOid(buf: Uint8Array, t: Tlv): number[] {
  const rel = readRelOid(buf, t);
  if (rel.length === 0) throw new BerError('ETSI_ERR_BAD_VALUE', 'empty OID', t.offset);
  const f = rel[0]!;
  const head = f < 40 ? [0, f] : f < 80 ? [1, f - 40] : [2, f - 80];
  return [...head, ...rel.slice(1)];
}

export function readGeneralizedTime(buf: Uint8Array, t: Tlv): ParsedTime {
  const s = readLatin1(buf, t);
  const v = parseGeneralizedTime(s);
  if (!v) throw new BerError('ETSI_ERR_BAD_VALUE', 'bad GeneralizedTime', t.offset);
  return v;
}

/** A received header time: GeneralizedTime, or the same with a two-digit year (parseLenientTime). */
export function readLenientTime(buf: Uint8Array, t: Tlv): ParsedTime {
  const v = parseLenientTime(readLatin1(buf, t));
  if (!v) throw new BerError('ETSI_ERR_BAD_VALUE', 'bad GeneralizedTime', t.offset);
  return v;
}

export function readUtcTime(buf: Uint8Array, t: Tlv): number {
  const v = parseUtcTime(readLatin1(buf, t));
  if (v === undefined) throw new BerError('ETSI_ERR_BAD_VALUE', 'bad UTCTime', t.offset);
  return v;
}

/** Runs a decoder and converts every failure into a DecodeFailure (public entry points). */
export function guard<T>(fn: () => { value: T; bytesRead: number }): DecodeResult<T> {
  try {
    const r = fn();
    return { ok: true, value: r.value, bytesRead: r.bytesRead };
  } catch (e) {
    if (e instanceof BerError) return { ok: false, code: e.code, reason: e.message, offset: e.offset };
    // Defensive: any other failure on hostile input is still a typed decode failure.
    return {
      ok: false,
      code: 'ETSI_ERR_BAD_VALUE',
      reason: e instanceof Error ? e.message : 'decode failed',
      offset: 0,
    };
  }
}

/** Index of children by context tag number; the first occurrence wins. */
export function byTag(list: readonly Tlv[]): Map<number, Tlv> {
  const m = new Map<number, Tlv>();
  for (const t of list) if (t.cls === CONTEXT && !m.has(t.num)) m.set(t.num, t);
  return m;
}

export function need(m: Map<number, Tlv>, num: number, what: string, parent: Tlv): Tlv {
  const t = m.get(num);
  if (!t) throw new BerError('ETSI_ERR_MISSING_FIELD', `missing ${what} [${num}]`, parent.offset);
  return t;
}

/** The single alternative inside an explicit CHOICE wrapper. */
export function choiceOf(buf: Uint8Array, wrapper: Tlv, what: string): Tlv {
  const c = children(buf, wrapper);
  if (c.length !== 1) throw new BerError('ETSI_ERR_BAD_VALUE', `${what}: expected one alternative`, wrapper.offset);
  return c[0]!;
}

export function expectConstructed(t: Tlv, what: string): void {
  if (!t.constructed) throw new BerError('ETSI_ERR_BAD_TAG', `${what} must be constructed`, t.offset);
}
