// kafkajs 2.2.4's protocol Encoder grows its buffer by doubling into a zero-filled
// `Buffer.alloc`: a produce request is built by copying each record into its batch's encoder,
// each batch into its partition's, and so on up to the request, so every level zero-fills
// buffers of up to twice the request's size that are overwritten right after. Zero-filling was
// 6-7 % of mcid-store's CPU under bench:mcid (state records of ~1 KB, requests of ~1 MB).
// Growing into `Buffer.allocUnsafe` gives the same bytes: the encoder writes every byte it
// reserves (each write advances `offset` by what it wrote) and exposes only `buf[0, offset)`.
// A batch's records are copied in after one growth to their total size. The last two copies (the request's payload into the request header's encoder, that
// into the size-prefixed one; protocol/request.js) are made one copy into a buffer of the exact
// size. network/connection.js takes protocol/request.js when it is first loaded, so this module
// runs before kafkajs is loaded (bus.ts imports it first).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

interface EncoderInstance {
  buf: Buffer;
  offset: number;
  ensureAvailable(length: number): void;
  readonly buffer: Buffer;
  writeInt16(v: number): EncoderInstance;
  writeInt32(v: number): EncoderInstance;
  writeString(v: string | null): EncoderInstance;
}
interface EncoderClass {
  new (initialSize?: number): EncoderInstance;
  nextPowerOfTwo(value: number): number;
  prototype: EncoderInstance & {
    ensureAvailable(this: EncoderInstance, length: number): void;
    writeEncoderArray(this: EncoderInstance, value: EncoderInstance[]): EncoderInstance;
  };
}

/** kafkajs's Encoder class (node_modules/kafkajs/src/protocol/encoder.js). */
export const KafkajsEncoder = require('kafkajs/src/protocol/encoder.js') as EncoderClass;

/** kafkajs's own growth, kept for the test that compares the bytes. */
export const kafkajsEnsureAvailable = KafkajsEncoder.prototype.ensureAvailable;

export function ensureAvailable(this: EncoderInstance, length: number): void {
  if (this.offset + length <= this.buf.length) return;
  const grown = Buffer.allocUnsafe(KafkajsEncoder.nextPowerOfTwo(this.offset + length));
  this.buf.copy(grown, 0, 0, this.offset);
  this.buf = grown;
}

KafkajsEncoder.prototype.ensureAvailable = ensureAvailable;

/** kafkajs's own, kept for the test that compares the bytes. */
export const kafkajsWriteEncoderArray = KafkajsEncoder.prototype.writeEncoderArray;

/** A record batch's records, written after growing once to their total size (not doubling per record). */
export function writeEncoderArray(this: EncoderInstance, value: EncoderInstance[]): EncoderInstance {
  if (!Array.isArray(value) || value.some((v) => v == null || !Buffer.isBuffer(v.buf))) {
    throw new Error('all values should be an instance of Encoder[]');
  }
  const parts = value.map((v) => v.buffer);
  let total = 0;
  for (const b of parts) total += b.length;
  this.ensureAvailable(total);
  for (const b of parts) {
    b.copy(this.buf, this.offset, 0);
    this.offset += b.length;
  }
  return this;
}

KafkajsEncoder.prototype.writeEncoderArray = writeEncoderArray;

interface RequestArgs {
  correlationId: number;
  clientId: string | null;
  request: { apiKey: number; apiVersion: number; encode(): Promise<EncoderInstance> | EncoderInstance };
}
type CreateRequest = (args: RequestArgs) => Promise<EncoderInstance>;

const requestPath = require.resolve('kafkajs/src/protocol/request.js');
const connectionPath = require.resolve('kafkajs/src/network/connection.js');
const connectionLoadedFirst = require.cache[connectionPath] !== undefined;
/** kafkajs's own request framing, kept for the test that compares the bytes. */
export const kafkajsCreateRequest = require(requestPath) as CreateRequest;

/** A request as kafkajs frames it: size, API key and version, correlation id, client id, payload. */
export async function createRequest(args: RequestArgs): Promise<EncoderInstance> {
  const { correlationId, clientId, request } = args;
  const payload = await request.encode();
  if (payload == null || !Buffer.isBuffer(payload.buf)) return kafkajsCreateRequest(args); // kafkajs's error
  const header = new KafkajsEncoder()
    .writeInt16(request.apiKey)
    .writeInt16(request.apiVersion)
    .writeInt32(correlationId)
    .writeString(clientId);
  const size = header.offset + payload.offset;
  const out = new KafkajsEncoder(1);
  out.buf = Buffer.allocUnsafe(4 + size);
  out.buf.writeInt32BE(size, 0);
  header.buf.copy(out.buf, 4, 0, header.offset);
  payload.buf.copy(out.buf, 4 + header.offset, 0, payload.offset);
  out.offset = 4 + size;
  return out;
}

const cachedRequest = require.cache[requestPath];
if (cachedRequest) cachedRequest.exports = createRequest;

export function encoderGrowthPatched(): boolean {
  return (
    KafkajsEncoder.prototype.ensureAvailable === ensureAvailable &&
    KafkajsEncoder.prototype.writeEncoderArray === writeEncoderArray &&
    !connectionLoadedFirst &&
    require(requestPath) === createRequest
  );
}
