import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import './bus.ts';
import {
  createRequest,
  encoderGrowthPatched,
  ensureAvailable,
  KafkajsEncoder,
  kafkajsCreateRequest,
  kafkajsEnsureAvailable,
  kafkajsWriteEncoderArray,
  writeEncoderArray,
} from './kafkajs-encoder-growth.ts';

// The writes a produce request is made of, on an encoder of either growth.
type Op =
  | { k: 'int8' | 'int16' | 'int32'; v: number }
  | { k: 'int64' | 'string' | 'bytes' | 'varint' | 'varlong'; v: string }
  | { k: 'buffer'; v: Uint8Array }
  | { k: 'encoder' | 'encoders'; v: Op[] };

const leaf: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ k: fc.constant('int8' as const), v: fc.integer({ min: -128, max: 127 }) }),
  fc.record({ k: fc.constant('int16' as const), v: fc.integer({ min: -32768, max: 32767 }) }),
  fc.record({ k: fc.constant('int32' as const), v: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }) }),
  fc.record({ k: fc.constant('int64' as const), v: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String) }),
  fc.record({ k: fc.constantFrom('string' as const, 'bytes' as const), v: fc.string({ maxLength: 3000 }) }),
  fc.record({ k: fc.constant('varint' as const), v: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }).map(String) }),
  fc.record({
    k: fc.constant('varlong' as const),
    v: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String),
  }),
  fc.record({ k: fc.constant('buffer' as const), v: fc.uint8Array({ maxLength: 5000 }) }),
);
const ops: fc.Arbitrary<Op[]> = fc.array(
  fc.oneof(
    { weight: 4, arbitrary: leaf },
    {
      weight: 1,
      arbitrary: fc.record({
        k: fc.constantFrom('encoder' as const, 'encoders' as const),
        v: fc.array(leaf, { maxLength: 20 }),
      }),
    },
  ),
  { maxLength: 40 },
);

// biome-ignore lint/suspicious/noExplicitAny: kafkajs's Encoder is untyped JavaScript
function encode(list: Op[], initialSize: number): any {
  // biome-ignore lint/suspicious/noExplicitAny: as above
  const e: any = new KafkajsEncoder(initialSize);
  for (const op of list) {
    if (op.k === 'int8') e.writeInt8(op.v);
    else if (op.k === 'int16') e.writeInt16(op.v);
    else if (op.k === 'int32') e.writeInt32(op.v);
    else if (op.k === 'int64') e.writeInt64(op.v);
    else if (op.k === 'string') e.writeString(op.v);
    else if (op.k === 'bytes') e.writeBytes(op.v);
    else if (op.k === 'varint') e.writeVarInt(Number(op.v));
    else if (op.k === 'varlong') e.writeVarLong(op.v);
    else if (op.k === 'buffer') e.writeBuffer(Buffer.from(op.v));
    else if (op.k === 'encoder') e.writeEncoder(encode(op.v, 1));
    else if (op.k === 'encoders') e.writeEncoderArray(op.v.map((one) => encode([one], 1)));
  }
  return e;
}

// biome-ignore lint/suspicious/noExplicitAny: kafkajs's Encoder is untyped JavaScript
function encodeWith(grow: typeof ensureAvailable, list: Op[], initialSize = 511): any {
  const proto = KafkajsEncoder.prototype;
  const saved = [proto.ensureAvailable, proto.writeEncoderArray] as const;
  proto.ensureAvailable = grow;
  proto.writeEncoderArray = grow === ensureAvailable ? writeEncoderArray : kafkajsWriteEncoderArray;
  try {
    return encode(list, initialSize);
  } finally {
    [proto.ensureAvailable, proto.writeEncoderArray] = saved;
  }
}

function bytesWith(grow: typeof ensureAvailable, list: Op[], initialSize: number): Buffer {
  return Buffer.from(encodeWith(grow, list, initialSize).buffer);
}

describe('kafkajs encoder growth', () => {
  it('is installed by the bus', () => {
    expect(encoderGrowthPatched()).toBe(true);
  });

  it('encodes any sequence of writes to the bytes of kafkajs own growth', () => {
    fc.assert(
      fc.property(ops, fc.integer({ min: 1, max: 600 }), (list, initialSize) => {
        expect(bytesWith(ensureAvailable, list, initialSize)).toEqual(
          bytesWith(kafkajsEnsureAvailable, list, initialSize),
        );
      }),
      { numRuns: 300 },
    );
  });

  it('frames any request to the bytes of kafkajs own framing', async () => {
    await fc.assert(
      fc.asyncProperty(
        ops,
        fc.integer({ min: 0, max: 70 }),
        fc.integer({ min: 0, max: 20 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.option(fc.string({ maxLength: 40 })),
        async (list, apiKey, apiVersion, correlationId, clientId) => {
          const args = (grow: typeof ensureAvailable) => ({
            correlationId,
            clientId,
            request: { apiKey, apiVersion, encode: async () => encodeWith(grow, list) },
          });
          const ours = await createRequest(args(ensureAvailable));
          const theirs = await kafkajsCreateRequest(args(kafkajsEnsureAvailable));
          expect(Buffer.from(ours.buffer)).toEqual(Buffer.from(theirs.buffer));
        },
      ),
      { numRuns: 300 },
    );
  });
});
