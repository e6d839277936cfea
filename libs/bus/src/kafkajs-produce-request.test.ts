import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import './bus.ts';
import { kafkajsProduceV3, produceRequestPatched, produceV3 } from './kafkajs-produce-request.ts';

const text = fc.oneof(fc.string({ maxLength: 30 }), fc.constant(''));
const bytes = fc.uint8Array({ maxLength: 2000 }).map((a) => Buffer.from(a));
const message = fc.record(
  {
    key: fc.oneof(fc.constant(null), text, bytes),
    value: fc.oneof(fc.constant(null), text, bytes),
    headers: fc.dictionary(fc.string({ minLength: 1, maxLength: 10 }), fc.oneof(text, bytes), { maxKeys: 4 }),
    timestamp: fc.oneof(
      fc.constant(undefined),
      fc.integer({ min: 1_600_000_000_000, max: 1_900_000_000_000 }),
      fc.integer({ min: 1_600_000_000_000, max: 1_900_000_000_000 }).map(String),
    ),
  },
  { requiredKeys: ['key', 'value'] },
);
const partition = fc.record(
  {
    partition: fc.integer({ min: 0, max: 99 }),
    firstSequence: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    messages: fc.array(message, { maxLength: 12 }),
  },
  { requiredKeys: ['partition', 'messages'] },
);
const args = fc.record(
  {
    acks: fc.constantFrom(-1, 0, 1),
    timeout: fc.integer({ min: 0, max: 60_000 }),
    transactionalId: fc.oneof(fc.constant(null), fc.string({ minLength: 1, maxLength: 20 })),
    producerId: fc.integer({ min: -1, max: 2 ** 40 }),
    producerEpoch: fc.integer({ min: 0, max: 32767 }),
    compression: fc.constant(0),
    topicData: fc.array(
      fc.record({
        topic: fc.string({ minLength: 1, maxLength: 20 }),
        partitions: fc.array(partition, { maxLength: 3 }),
      }),
      { maxLength: 3 },
    ),
  },
  { requiredKeys: ['acks', 'timeout', 'topicData'] },
);

afterEach(() => {
  vi.restoreAllMocks();
});

describe('kafkajs produce request', () => {
  it('is installed by the bus', () => {
    expect(produceRequestPatched()).toBe(true);
  });

  it('encodes any uncompressed produce request to the bytes of kafkajs', async () => {
    vi.spyOn(Date, 'now').mockReturnValue(1_790_000_000_000);
    await fc.assert(
      fc.asyncProperty(args, async (a) => {
        const ours = produceV3(a);
        const theirs = kafkajsProduceV3(a);
        expect({ ...ours, encode: null, expectResponse: ours.expectResponse() }).toEqual({
          ...theirs,
          encode: null,
          expectResponse: theirs.expectResponse(),
        });
        expect(Buffer.from((await ours.encode()).buffer)).toEqual(Buffer.from((await theirs.encode()).buffer));
      }),
      { numRuns: 400 },
    );
  });

  it('leaves compressed requests to kafkajs', () => {
    const a = { acks: -1, timeout: 1000, compression: 1, topicData: [] };
    expect(produceV3(a).encode).not.toBe(undefined);
    expect(produceV3(a).apiVersion).toBe(kafkajsProduceV3(a).apiVersion);
  });
});
