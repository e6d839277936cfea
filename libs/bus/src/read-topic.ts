// Reads a topic from the beginning to its current end: for restoring compacted state at
// start-up (a service reports ready only after this) and for tests that inspect output.
import { randomUUID } from 'node:crypto';
import { type BusClient, clientOf } from './client.ts';

export interface ReadRecord {
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

export interface ReadTopicOptions {
  /** read_committed (the default) hides records of aborted and open transactions. */
  readUncommitted?: boolean;
  timeoutMs?: number;
}

export async function readTopic(
  client: BusClient,
  topic: string,
  options: ReadTopicOptions = {},
): Promise<ReadRecord[]> {
  const kafka = clientOf(client);
  const admin = kafka.admin();
  await admin.connect();
  // kafkajs's admin reports the last stable offset: the end of what read_committed can see.
  // An uncommitted reader learns the high watermark from the batches it fetches instead.
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const uncommitted = options.readUncommitted ?? false;
  const target = new Map(ends.map((e) => [e.partition, BigInt(e.offset)]));
  const out: ReadRecord[] = [];
  const pending = new Set([...target].filter(([, end]) => uncommitted || end > 0n).map(([p]) => p));
  if (pending.size === 0) return out;
  let lastActivity = Date.now();

  const consumer = kafka.consumer({
    groupId: `li-read-${randomUUID()}`,
    readUncommitted: options.readUncommitted ?? false,
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const done = new Promise<void>((resolve, reject) => {
    // Partitions that hold nothing deliver no batch: an uncommitted read ends after a quiet second.
    const idle = uncommitted
      ? setInterval(() => {
          if (Date.now() - lastActivity > 1000) {
            clearInterval(idle);
            clearTimeout(timer);
            resolve();
          }
        }, 200)
      : undefined;
    const timer = setTimeout(
      () => reject(new Error(`readTopic: ${topic} not read to its end within ${options.timeoutMs ?? 15000} ms`)),
      options.timeoutMs ?? 15000,
    );
    consumer
      .run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          lastActivity = Date.now();
          for (const m of batch.messages) {
            const headers: Record<string, string> = {};
            for (const [k, v] of Object.entries(m.headers ?? {})) if (v !== undefined) headers[k] = String(v);
            out.push({
              partition: batch.partition,
              offset: m.offset,
              key: m.key?.toString() ?? null,
              value: m.value,
              headers,
            });
          }
          // Transaction markers occupy offsets too: compare the position, not the last record.
          const end = uncommitted ? BigInt(batch.highWatermark) : (target.get(batch.partition) ?? 0n);
          if (BigInt(batch.highWatermark) >= end && BigInt(batch.lastOffset()) + 1n >= end)
            pending.delete(batch.partition);
          if (pending.size === 0) {
            clearTimeout(timer);
            if (idle) clearInterval(idle);
            resolve();
          }
        },
      })
      .catch(reject);
  });
  try {
    await done;
  } finally {
    await consumer.disconnect();
  }
  return out.sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
}
