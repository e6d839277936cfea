// kafkajs 2.2.4's per-record encoding and decoding, replaced by the same bytes and the same
// objects at a fraction of the allocations (docs/PERFORMANCE.md: Buffer allocation and GC were
// a fifth of the iri-encoder's CPU):
// - encoding (node_modules/kafkajs/src/protocol/recordBatch/record/v0/index.js) makes a new
//   Encoder for each record and for each of its headers; every Encoder starts with a
//   zero-filled Buffer.alloc(512), so a record with eight headers allocated and zeroed 4.5 KiB,
//   and its varints went through Buffer.from([...]) and Long arithmetic. Here: one buffer of the
//   record's exact size.
// - the batch checksum (recordBatch/crc32C) runs a byte at a time; here eight bytes a step.
// - decoding (record/v0/decoder.js) builds the headers object with a spread per header (n²
//   copies) and adds offsets and timestamps as Long objects parsed from strings for each record.
//   Here: one object, plain number arithmetic while the values are safe integers.
// produce/v3/request.js, recordBatch/v0/index.js and recordBatch/v0/decoder.js take these modules when they are first
// loaded, so this module must run before kafkajs is loaded: bus.ts imports it first, and every
// package entry loads bus.ts.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

type Bytes = Buffer | string | null | undefined;
type HeaderValue = Bytes | Bytes[];

interface RecordFields {
  offsetDelta?: number;
  timestampDelta?: number | bigint | { toString(): string };
  key?: Bytes;
  value?: Bytes;
  headers?: Record<string, HeaderValue>;
}

/** What kafkajs's batch encoder reads of an Encoder: `buf` (checked with isBuffer) and `buffer`. */
class EncodedRecord {
  readonly buf: Buffer;
  readonly offset: number;
  constructor(buf: Buffer) {
    this.buf = buf;
    this.offset = buf.length;
  }
  get buffer(): Buffer {
    return this.buf;
  }
  size(): number {
    return this.offset;
  }
}

const zigZag32 = (v: number) => ((v << 1) ^ (v >> 31)) >>> 0;

function uvarintSize(u: number): number {
  let n = 1;
  while (u >= 0x80) {
    u >>>= 7;
    n++;
  }
  return n;
}

function writeUVarInt(buf: Buffer, at: number, u: number): number {
  while (u >= 0x80) {
    buf[at++] = (u & 0x7f) | 0x80;
    u >>>= 7;
  }
  buf[at++] = u;
  return at;
}

/** A varlong's zig-zag value: a uint32 number when it fits, else a 64-bit bigint. */
function zigZag64(value: RecordFields['timestampDelta']): number | bigint {
  if (typeof value === 'number' && Number.isInteger(value) && value >= -0x80000000 && value <= 0x7fffffff) {
    return zigZag32(value);
  }
  const v = typeof value === 'bigint' ? value : BigInt(String(value ?? 0));
  return BigInt.asUintN(64, (v << 1n) ^ (v >> 63n));
}

function uvarlongSize(u: number | bigint): number {
  if (typeof u === 'number') return uvarintSize(u);
  let n = 1;
  while (u >= 0x80n) {
    u >>= 7n;
    n++;
  }
  return n;
}

function writeUVarLong(buf: Buffer, at: number, u: number | bigint): number {
  if (typeof u === 'number') return writeUVarInt(buf, at, u);
  while (u >= 0x80n) {
    buf[at++] = Number(u & 0x7fn) | 0x80;
    u >>= 7n;
  }
  buf[at++] = Number(u);
  return at;
}

type Field = Buffer | string | null;

/** A field as kafkajs writes it: a Buffer as it is, anything else as its UTF-8 text, null as null. */
const fieldOf = (b: Bytes): Field => (b == null ? null : Buffer.isBuffer(b) ? b : String(b));

/** UTF-8 length; a short ASCII string is measured in JS, cheaper than a call into native code. */
function byteLength(f: Field): number {
  if (f === null) return -1;
  if (typeof f !== 'string') return f.length;
  if (f.length > 64) return Buffer.byteLength(f);
  for (let i = 0; i < f.length; i++) if (f.charCodeAt(i) >= 0x80) return Buffer.byteLength(f);
  return f.length;
}
const fieldSize = (len: number) => (len < 0 ? 1 : uvarintSize(zigZag32(len)) + len);

function writeField(buf: Buffer, at: number, f: Field, len: number): number {
  if (len < 0) return writeUVarInt(buf, at, 1); // zig-zag of -1
  at = writeUVarInt(buf, at, zigZag32(len));
  if (typeof f !== 'string') f!.copy(buf, at);
  else if (len === f.length && len <= 64)
    for (let i = 0; i < len; i++) buf[at + i] = f.charCodeAt(i); // ASCII
  else buf.write(f, at, len, 'utf8');
  return at + len;
}

/**
 * Where encodeRecord writes a record's headers in one pass (measuring and writing each string at
 * once) before it knows the record's size; reused, as encoding is synchronous. Headers that might
 * not fit go to a larger buffer made for that record.
 */
const HEADER_SCRATCH = Buffer.allocUnsafe(64 * 1024);

/**
 * Writes a header field (kafkajs's bytes for it) into `buf` at `at`; -1 when it might not fit
 * (or `at` is -1). A string's UTF-8 is at most 3 bytes per UTF-16 unit, its length varint at most 5.
 */
function writeHeaderField(buf: Buffer, at: number, b: Bytes): number {
  if (at < 0) return -1;
  // Strings first: header names and the services' header values are strings.
  if (typeof b === 'string') return writeHeaderString(buf, at, b);
  if (b == null) {
    if (at >= buf.length) return -1;
    buf[at] = 1; // zig-zag of -1
    return at + 1;
  }
  if (Buffer.isBuffer(b)) {
    if (at + 5 + b.length > buf.length) return -1;
    at = writeUVarInt(buf, at, zigZag32(b.length));
    b.copy(buf, at);
    return at + b.length;
  }
  return writeHeaderString(buf, at, String(b));
}

function writeHeaderString(buf: Buffer, at: number, s: string): number {
  const n = s.length;
  if (at + 5 + 3 * n > buf.length) return -1;
  if (n < 64) {
    // ASCII: one byte per unit and a one-byte length (zig-zag of n < 64 is below 0x80).
    let i = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      buf[at + 1 + i] = c;
    }
    if (i === n) {
      buf[at] = n << 1;
      return at + 1 + n;
    }
  }
  const len = Buffer.byteLength(s);
  at = writeUVarInt(buf, at, zigZag32(len));
  buf.write(s, at, len, 'utf8');
  return at + len;
}

/** Headers written by the last writeHeaders (encoding is synchronous). */
let headersWritten = 0;

/** Writes the headers into `buf` in kafkajs's order; where they end, or -1 when they might not fit. */
function writeHeaders(buf: Buffer, headers: Record<string, HeaderValue>): number {
  let end = 0;
  headersWritten = 0;
  // Per key, an array value gives one header per element.
  for (const k of Object.keys(headers)) {
    const v = headers[k];
    if (Array.isArray(v)) {
      for (const e of v) {
        end = writeHeaderField(buf, writeHeaderField(buf, end, k), e);
        headersWritten++;
      }
    } else {
      end = writeHeaderField(buf, writeHeaderField(buf, end, k), v);
      headersWritten++;
    }
    if (end < 0) return -1;
  }
  return end;
}

/** kafkajs's Record v0: the same bytes, in one buffer. */
export function encodeRecord({
  offsetDelta = 0,
  timestampDelta = 0,
  key,
  value,
  headers = {},
}: RecordFields): EncodedRecord {
  let headerBytes = HEADER_SCRATCH;
  let headerEnd = writeHeaders(headerBytes, headers);
  while (headerEnd < 0) {
    headerBytes = Buffer.allocUnsafe(2 * headerBytes.length);
    headerEnd = writeHeaders(headerBytes, headers);
  }
  const count = zigZag32(headersWritten);
  const timestamp = zigZag64(timestampDelta);
  const offset = zigZag32(offsetDelta);
  const keyField = fieldOf(key);
  const valueField = fieldOf(value);
  const keyLength = byteLength(keyField);
  const valueLength = byteLength(valueField);
  const body =
    1 + // attributes
    uvarlongSize(timestamp) +
    uvarintSize(offset) +
    fieldSize(keyLength) +
    fieldSize(valueLength) +
    uvarintSize(count) +
    headerEnd;
  const length = zigZag32(body);
  const buf = Buffer.allocUnsafe(uvarintSize(length) + body);
  let at = writeUVarInt(buf, 0, length);
  buf[at++] = 0; // record attributes: unused
  at = writeUVarLong(buf, at, timestamp);
  at = writeUVarInt(buf, at, offset);
  at = writeField(buf, at, keyField, keyLength);
  at = writeField(buf, at, valueField, valueLength);
  at = writeUVarInt(buf, at, count);
  headerBytes.copy(buf, at, 0, headerEnd);
  return new EncodedRecord(buf);
}

const recordPath = require.resolve('kafkajs/src/protocol/recordBatch/record/v0/index.js');
const producePath = require.resolve('kafkajs/src/protocol/requests/produce/v3/request.js');
const produceLoadedFirst = require.cache[producePath] !== undefined;
/** kafkajs's own record encoder, kept for the test that compares the bytes. */
export const kafkajsRecord = require(recordPath) as (fields: RecordFields) => { buffer: Buffer };
const cached = require.cache[recordPath];
if (cached) cached.exports = encodeRecord;

// CRC-32C (Castagnoli) of a record batch, eight bytes per step (slice-by-8 tables) instead of
// kafkajs's byte at a time (recordBatch/crc32C: 4-7 % of a producing stage's CPU).
const CRC_TABLES = (() => {
  const t = new Int32Array(8 * 256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[i] = c;
  }
  for (let i = 0; i < 256; i++) {
    for (let s = 1; s < 8; s++) t[s * 256 + i] = (t[(s - 1) * 256 + i]! >>> 8) ^ t[t[(s - 1) * 256 + i]! & 0xff]!;
  }
  return t;
})();

/** kafkajs's crc32C module: the checksum as an unsigned 32-bit number. */
export function crc32c(buf: Buffer): number {
  const t = CRC_TABLES;
  let crc = -1;
  let i = 0;
  const end8 = buf.length - (buf.length & 7);
  for (; i < end8; i += 8) {
    const a = crc ^ (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24));
    crc =
      t[1792 + (a & 0xff)]! ^
      t[1536 + ((a >>> 8) & 0xff)]! ^
      t[1280 + ((a >>> 16) & 0xff)]! ^
      t[1024 + (a >>> 24)]! ^
      t[768 + buf[i + 4]!]! ^
      t[512 + buf[i + 5]!]! ^
      t[256 + buf[i + 6]!]! ^
      t[buf[i + 7]!]!;
  }
  for (; i < buf.length; i++) crc = t[(crc ^ buf[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}

const crcPath = require.resolve('kafkajs/src/protocol/recordBatch/crc32C/index.js');
/** kafkajs's own checksum, kept for the test that compares them. */
export const kafkajsCrc32c = require(crcPath) as (buf: Buffer) => number;
const cachedCrc = require.cache[crcPath];
if (cachedCrc) cachedCrc.exports = crc32c;

interface BatchContext {
  firstOffset: string;
  firstTimestamp: string;
  magicByte?: number;
  isControlBatch?: boolean;
  timestampType?: number;
  maxTimestamp?: string;
}

interface Reader {
  buffer: Buffer;
  offset: number;
}

const LOG_APPEND_TIME = 1; // kafkajs/src/protocol/timestampTypes.js

/** kafkajs's Decoder.readVarInt: the same arithmetic, so the same result for any bytes. */
function readVarInt(r: Reader): number {
  let byte: number;
  let result = 0;
  let shift = 0;
  do {
    byte = r.buffer[r.offset++]!;
    result += (byte & 0x7f) << shift;
    shift += 7;
  } while (byte >= 0x80);
  return (result >>> 1) ^ -(result & 1);
}

/** A zig-zag varlong: a number while it is a safe integer, else a bigint. */
function readVarLong(r: Reader): number | bigint {
  let byte = r.buffer[r.offset++]!;
  if (byte < 0x80) return (byte >>> 1) ^ -(byte & 1);
  let u = BigInt(byte & 0x7f);
  let shift = 7n;
  do {
    if (shift > 63n) throw new Error('Invalid Long, must contain 9 bytes or less');
    byte = r.buffer[r.offset++]!;
    u |= BigInt(byte & 0x7f) << shift;
    shift += 7n;
  } while (byte >= 0x80);
  u = BigInt.asUintN(64, u);
  const v = BigInt.asIntN(64, (u >> 1n) ^ -(u & 1n));
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

function readBytes(r: Reader): Buffer | null {
  const length = readVarInt(r);
  if (length === -1) return null;
  const bytes = r.buffer.subarray(r.offset, r.offset + length);
  r.offset += length;
  return bytes;
}

/** Header names up to this many bytes are remembered: the same few names come on every record. */
const NAME_CACHE_MAX_BYTES = 32;
const NAME_CACHE_SLOTS = 64; // a power of two
/** Per slot: a name's UTF-8 bytes and its text (a decoded string depends on the bytes only). */
const nameBytes: (Buffer | undefined)[] = new Array(NAME_CACHE_SLOTS).fill(undefined);
const nameTexts: string[] = new Array(NAME_CACHE_SLOTS).fill('');

/** A header name as kafkajs reads it (a null name is the key "null"), a remembered name without decoding it. */
function readName(r: Reader): string {
  const length = readVarInt(r);
  if (length === -1) return 'null';
  const buf = r.buffer;
  const start = r.offset;
  const end = start + length;
  r.offset = end;
  if (length === 0 || length > NAME_CACHE_MAX_BYTES || end > buf.length) return buf.toString('utf8', start, end);
  const slot =
    (length * 7 + buf[start]! * 3 + buf[end - 1]! * 5 + buf[start + (length >> 1)]!) & (NAME_CACHE_SLOTS - 1);
  const known = nameBytes[slot];
  if (known !== undefined && known.length === length) {
    let i = 0;
    while (i < length && known[i] === buf[start + i]) i++;
    if (i === length) return nameTexts[slot]!;
  }
  const name = buf.toString('utf8', start, end);
  nameBytes[slot] = Buffer.from(buf.subarray(start, end));
  nameTexts[slot] = name;
  return name;
}

/** A decimal 64-bit value plus a delta, as kafkajs's Long (a BigInt, unbounded) gives it. */
function plus(base: string, delta: number | bigint, last: LastBase): string {
  // A batch's records share its bases: each base is parsed once, not per record.
  if (base !== last.base) {
    last.base = base;
    last.value = Number(base);
  }
  const b = last.value;
  if (typeof delta === 'number' && Number.isSafeInteger(b)) {
    const sum = b + delta;
    if (Number.isSafeInteger(sum)) return String(sum);
  }
  return (BigInt(base) + BigInt(delta)).toString();
}

/** The base plus() parsed last, per field. */
interface LastBase {
  base: string | undefined;
  value: number;
}
const lastOffsetBase: LastBase = { base: undefined, value: 0 };
const lastTimestampBase: LastBase = { base: undefined, value: 0 };

type HeaderValues = Buffer | null | (Buffer | null)[];

/** kafkajs's Record v0 decoder: the same record object. */
export function decodeRecord(decoder: Reader, batchContext: Partial<BatchContext> = {}) {
  const { firstOffset, firstTimestamp, magicByte, isControlBatch = false, timestampType, maxTimestamp } = batchContext;
  const attributes = decoder.buffer.readInt8(decoder.offset++);
  const timestampDelta = readVarLong(decoder);
  const timestamp =
    timestampType === LOG_APPEND_TIME && maxTimestamp
      ? maxTimestamp
      : plus(String(firstTimestamp), timestampDelta, lastTimestampBase);
  const offset = plus(String(firstOffset), readVarInt(decoder), lastOffsetBase);
  const key = readBytes(decoder);
  const value = readBytes(decoder);
  const count = readVarInt(decoder);
  const headers: Record<string, HeaderValues> = {};
  for (let i = 0; i < count; i++) {
    const headerKey = readName(decoder);
    const headerValue = readBytes(decoder);
    const earlier = Object.hasOwn(headers, headerKey) ? headers[headerKey] : undefined;
    const next: HeaderValues =
      earlier === undefined ? headerValue : Array.isArray(earlier) ? [...earlier, headerValue] : [earlier, headerValue];
    // "__proto__" as an own property, as kafkajs's computed key makes it, not the prototype.
    if (headerKey === '__proto__') {
      Object.defineProperty(headers, headerKey, { value: next, writable: true, enumerable: true, configurable: true });
    } else headers[headerKey] = next;
  }
  return {
    magicByte,
    attributes,
    timestamp,
    offset,
    key,
    value,
    headers,
    isControlRecord: isControlBatch,
    batchContext,
  };
}

const decoderPath = require.resolve('kafkajs/src/protocol/recordBatch/record/v0/decoder.js');
const batchDecoderPath = require.resolve('kafkajs/src/protocol/recordBatch/v0/decoder.js');
const batchDecoderLoadedFirst = require.cache[batchDecoderPath] !== undefined;
/** kafkajs's own record decoder, kept for the test that compares the objects. */
export const kafkajsDecodeRecord = require(decoderPath) as typeof decodeRecord;
const cachedDecoder = require.cache[decoderPath];
if (cachedDecoder) cachedDecoder.exports = decodeRecord;

/** Whether kafkajs encodes and decodes records with the functions above (false: it was loaded first). */
export function recordCodingPatched(): boolean {
  return (
    !produceLoadedFirst &&
    !batchDecoderLoadedFirst &&
    require(recordPath) === encodeRecord &&
    require(crcPath) === crc32c &&
    require(decoderPath) === decodeRecord
  );
}
