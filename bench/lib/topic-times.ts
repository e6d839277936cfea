// The record timestamps (CreateTime: when the producing service sent it) of a topic, read from
// the beginning to its current end: where each stage's share of the end-to-end time comes from.
import { randomUUID } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { within } from './deadline.ts';

export interface TopicTimes {
  /** Every record's timestamp (ms). */
  times: number[];
  /** The timestamp of each record `keyOf` names (the first, if a key repeats). */
  byKey: Map<string, number>;
}

export async function topicTimestamps(
  kafka: Kafka,
  topic: string,
  keyOf: (m: KafkaMessage) => string | undefined | Promise<string | undefined> = () => undefined,
  timeoutMs = 60_000,
): Promise<TopicTimes> {
  const admin = kafka.admin();
  await admin.connect();
  // The last stable offset: what a read_committed reader reaches (transaction markers included).
  const ends = new Map((await admin.fetchTopicOffsets(topic)).map((e) => [e.partition, BigInt(e.offset)]));
  await admin.disconnect();
  const pending = new Set([...ends].filter(([, end]) => end > 0n).map(([p]) => p));
  const out: number[] = [];
  const byKey = new Map<string, number>();
  if (pending.size === 0) return { times: out, byKey };
  const consumer = kafka.consumer({
    groupId: `bench-times-${randomUUID()}`,
    maxBytesPerPartition: 8 * 1024 * 1024,
    maxBytes: 32 * 1024 * 1024,
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const done = new Promise<void>((resolve, reject) => {
    consumer
      .run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          for (const m of batch.messages) {
            const t = Number(m.timestamp);
            out.push(t);
            const k = await keyOf(m);
            if (k !== undefined && !byKey.has(k)) byKey.set(k, t);
          }
          const end = ends.get(batch.partition) ?? 0n;
          if (BigInt(batch.highWatermark) >= end && BigInt(batch.lastOffset()) + 1n >= end)
            pending.delete(batch.partition);
          if (pending.size === 0) resolve();
        },
      })
      .catch(reject);
  });
  try {
    await within(`${topic} read to its end`, timeoutMs, done);
  } finally {
    await consumer.disconnect();
  }
  return { times: out, byKey };
}
