import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import './bus.ts';
import { fastDefaultPartitioner, murmur2, producerGroupingPatched } from './kafkajs-producer-batching.ts';

const require = createRequire(import.meta.url);
const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2.js') as (
  k: Buffer | string,
) => number;
const { Partitioners } = require('kafkajs') as typeof import('kafkajs');

const meta = (partitionId: number, leader = 0) => ({
  partitionId,
  leader,
  partitionErrorCode: 0,
  replicas: [0],
  isr: [0],
});
const metadata = (n: number) => Array.from({ length: n }, (_, i) => meta(i));

describe('kafkajs producer batching', () => {
  it('murmur2 equals kafkajs (Java client) murmur2 for any key', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.uint8Array({ maxLength: 64 })), (k) => {
        const key = typeof k === 'string' ? k : Buffer.from(k);
        expect(murmur2(key)).toBe(kafkajsMurmur2(key));
      }),
      { numRuns: 2000 },
    );
  });

  it('puts every keyed record on the partition kafkajs DefaultPartitioner picks', () => {
    const ours = fastDefaultPartitioner();
    const theirs = Partitioners.DefaultPartitioner();
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 1, max: 64 }), (key, n) => {
        const args = { topic: 't', partitionMetadata: metadata(n), message: { key, value: null } };
        expect(ours(args)).toBe(theirs(args));
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps an explicit partition and spreads keyless records over the available partitions', () => {
    const p = fastDefaultPartitioner();
    const partitionMetadata = [meta(0), meta(1, -1), meta(2)];
    expect(p({ topic: 't', partitionMetadata, message: { partition: 1, key: 'k' } })).toBe(1);
    const seen = new Set(Array.from({ length: 20 }, () => p({ topic: 't', partitionMetadata, message: {} })));
    expect([...seen].sort()).toEqual([0, 2]);
  });

  it('kafkajs groups produced records with the linear grouping, in input order', () => {
    expect(producerGroupingPatched()).toBe(true);
    const group = require('kafkajs/src/producer/groupMessagesPerPartition.js') as (
      a: unknown,
    ) => Record<number, unknown[]>;
    const messages = Array.from({ length: 50 }, (_, i) => ({ key: `k${i % 7}`, value: null, i }));
    const partitioner = fastDefaultPartitioner();
    const got = group({ topic: 't', partitionMetadata: metadata(3), messages, partitioner });
    expect(Object.values(got).flat()).toHaveLength(50);
    for (const [partition, list] of Object.entries(got)) {
      const ids = (list as { i: number; key: string }[]).map((m) => m.i);
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
      for (const m of list as { key: string }[]) expect((murmur2(m.key) & 0x7fffffff) % 3).toBe(Number(partition));
    }
    expect(group({ topic: 't', partitionMetadata: [], messages, partitioner })).toEqual({});
  });
});
