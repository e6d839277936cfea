// kafkajs 2.2.4's protocol Encoder grows its buffer by doubling into a zero-filled
// `Buffer.alloc`: a produce request is built by copying each record into its batch's encoder,
// each batch into its partition's, and so on up to the request, so every level zero-fills
// buffers of up to twice the request's size that are overwritten right after. Zero-filling was
// 6-7 % of mcid-store's CPU under bench:mcid (state records of ~1 KB, requests of ~1 MB).
// Growing into `Buffer.allocUnsafe` gives the same bytes: the encoder writes every byte it
// reserves (each write advances `offset` by what it wrote) and exposes only `buf[0, offset)`.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

interface EncoderInstance {
  buf: Buffer;
  offset: number;
}
interface EncoderClass {
  new (initialSize?: number): EncoderInstance;
  nextPowerOfTwo(value: number): number;
  prototype: EncoderInstance & { ensureAvailable(this: EncoderInstance, length: number): void };
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

export function encoderGrowthPatched(): boolean {
  return KafkajsEncoder.prototype.ensureAvailable === ensureAvailable;
}
