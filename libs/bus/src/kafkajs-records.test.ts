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

  it('encodes headers beyond the scratch buffer as kafkajs does', () => {
    const big = 'é'.repeat(30_000); // 60 000 bytes, up to 90 000 by the scratch's worst case
    for (const f of [
      { key: 'k', value: null, headers: { a: big, b: 'x' } },
      { key: 'k', value: null, headers: { a: Buffer.alloc(70_000, 2), b: ['x', 'y'] } },
      { key: 'k', value: null, headers: { a: [Buffer.alloc(40_000, 3), Buffer.alloc(40_000, 4)] } },
      { key: 'k', value: null, headers: { [big]: 'v' } },
    ]) {
      expect(encodeRecord(f).buffer.equals(kafkajsRecord(f).buffer)).toBe(true);
    }
  });

  it('decodes any header name bytes (invalid UTF-8 too, names repeated across records) as kafkajs does', () => {
    // A record with null key and value and the given header names (their values null).
    const record = (names: Buffer[]) => {
      const parts: Buffer[] = [Buffer.from([0, 0, 0, 1, 1, names.length << 1])];
      for (const n of names) parts.push(Buffer.from([n.length << 1]), n, Buffer.from([1]));
      return Buffer.concat(parts);
    };
    const common = ['li.liid', 'li.cin', 'li.seq', 'li.lemfs'].map((n) => Buffer.from(n));
    const name = fc.oneof(
      fc.constantFrom(...common),
      fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
      fc.constantFrom(Buffer.from([0xc3]), Buffer.from([0xc3, 0xa9]), Buffer.from([0xff, 0x61]), Buffer.from('é')),
    );
    const decoded = (names: Buffer[]) => names.map((n) => n.toString('utf8'));
    fc.assert(
      fc.property(fc.array(fc.array(name, { maxLength: 10 }), { minLength: 1, maxLength: 5 }), (records) => {
        for (const names of records) {
          // kafkajs reads names like Object.prototype members through the prototype (see above).
          if (decoded(names).some((n) => n in Object.prototype)) continue;
          const bytes = record(names);
          const ours = decodeRecord(new Decoder(bytes), { firstOffset: '0', firstTimestamp: '0' });
          expect(ours).toEqual(kafkajsDecodeRecord(new Decoder(bytes), { firstOffset: '0', firstTimestamp: '0' }));
          expect(new Set(Object.keys(ours.headers))).toEqual(new Set(decoded(names)));
        }
      }),
      { numRuns: 2000 },
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
