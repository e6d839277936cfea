import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import './bus.ts';
import {
  crc32c,
  decodeRecord,
  encodeRecord,
  kafkajsCrc32c,
  kafkajsDecodeRecord,
  kafkajsRecord,
  recordCodingPatched,
} from './kafkajs-records.ts';

const require = createRequire(import.meta.url);
const Decoder = require('kafkajs/src/protocol/decoder.js') as new (
  b: Buffer,
) => { buffer: Buffer; offset: number; readVarIntBytes(): Buffer };

const bytes = fc.oneof(
  fc.constant(null),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ maxLength: 100 }),
  fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
);
const headerValue = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
);
// kafkajs's decoder reads a header named like an Object.prototype member (toString, __proto__)
// through the prototype and returns garbage; producers here never write such names.
const headerName = fc.string({ unit: 'grapheme', maxLength: 12 }).filter((k) => !(k in Object.prototype));
const headers = fc.dictionary(headerName, fc.oneof(headerValue, fc.array(headerValue, { maxLength: 3 })), {
  maxKeys: 10,
});
// Deltas as kafkajs's produce request computes them: small, large, negative, beyond 32 bits.
const delta = fc.oneof(
  fc.integer({ min: -200, max: 200 }),
  fc.integer(),
  fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
);
const fields = fc.record({ offsetDelta: fc.nat(1_000_000), timestampDelta: delta, key: bytes, value: bytes, headers });
const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String);
const batchContext = fc.record({
  firstOffset: fc.oneof(fc.nat().map(String), int64),
  firstTimestamp: fc.oneof(fc.constant('-1'), fc.integer({ min: 0, max: 2 ** 42 }).map(String), int64),
  maxTimestamp: int64,
  magicByte: fc.constant(2),
  isControlBatch: fc.boolean(),
  timestampType: fc.constantFrom(0, 1),
});

/** A record's body as kafkajs's batch decoder hands it to the record decoder. */
const body = (record: Buffer) => new Decoder(record).readVarIntBytes();

describe('kafkajs record encoding and decoding', () => {
  it('encodes the bytes of kafkajs Record v0 for any record', () => {
    fc.assert(
      fc.property(fields, (f) => {
        expect(encodeRecord(f).buffer.equals(kafkajsRecord(f).buffer)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('encodes a record without optional fields as kafkajs does', () => {
    const f = { key: null, value: Buffer.alloc(70_000, 1) };
    expect(encodeRecord(f).buffer.equals(kafkajsRecord(f).buffer)).toBe(true);
  });

  it('decodes any record to the object kafkajs decodes, repeated headers as arrays', () => {
    fc.assert(
      fc.property(fields, batchContext, (f, ctx) => {
        const record = body(kafkajsRecord(f).buffer);
        expect(decodeRecord(new Decoder(record), ctx)).toEqual(kafkajsDecodeRecord(new Decoder(record), ctx));
      }),
      { numRuns: 1000 },
    );
  });

  it('checksums any bytes as kafkajs does', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.nat(7), (a, skip) => {
        const buf = Buffer.from(a).subarray(Math.min(skip, a.length));
        expect(crc32c(buf)).toBe(kafkajsCrc32c(buf));
      }),
      { numRuns: 1000 },
    );
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283); // the CRC-32C check value
  });

  it('kafkajs produce requests and fetch responses use them', () => {
    expect(recordCodingPatched()).toBe(true);
  });
});
