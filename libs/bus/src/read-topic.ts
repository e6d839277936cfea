// Reads a topic from the beginning to its current end: for restoring compacted state at
// start-up (a service reports ready only after this) and for tests that inspect output.
import { randomUUID } from 'node:crypto';
import { type BusClient, clientOf } from './client.ts';
import { highWatermarks } from './kafkajs-high-watermarks.ts';

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
  const uncommitted = options.readUncommitted ?? false;
  const ends = (async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      return await admin.fetchTopicOffsets(topic);
    } finally {
      await admin.disconnect();
    }
  })();
  // read_committed reads to the high watermark, not to the last stable offset kafkajs's admin
  // gives: records committed after a transaction that is still open (a dead producer's, until
  // it is fenced or times out) lie beyond that offset, and a state restored without them is old.
  // The read waits for such transactions to end. An uncommitted reader learns the high watermark
  // from the batches it fetches instead. Both asked at once: each connects a client of its own.
  const [offsets, highs] = await Promise.all([
    ends,
    uncommitted ? new Map<number, bigint>() : highWatermarks(kafka, topic),
  ]);
  const target = new Map(offsets.map((e) => [e.partition, highs.get(e.partition) ?? BigInt(e.offset)]));
  // a partition whose every record was deleted (log start at the end) delivers no batch
  const empty = new Set(
    offsets.filter((e) => BigInt(e.low) >= (target.get(e.partition) ?? 0n)).map((e) => e.partition),
  );
  const out: ReadRecord[] = [];
  const pending = new Set([...target].filter(([p]) => uncommitted || !empty.has(p)).map(([p]) => p));
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
      () =>
        reject(
          new Error(
            `readTopic: ${topic} not read to its end within ${options.timeoutMs ?? 15000} ms (partitions ${[...pending].join(', ')}${uncommitted ? '' : ': a transaction still open?'})`,
          ),
        ),
      options.timeoutMs ?? 15000,
    );
    // Transaction markers occupy offsets too: compare the position, not the last record.
    const reached = (partition: number, highWatermark: string, lastOffset: string) => {
      const end = uncommitted ? BigInt(highWatermark) : (target.get(partition) ?? 0n);
      if (BigInt(highWatermark) >= end && BigInt(lastOffset) + 1n >= end) pending.delete(partition);
      if (pending.size === 0) {
        clearTimeout(timer);
        if (idle) clearInterval(idle);
        resolve();
      }
    };
    // kafkajs hands eachBatch no batch it filtered to nothing (an aborted transaction, a lone
    // marker), which can be the last thing before the end.
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      if (payload.batchSize !== 0) return;
      lastActivity = Date.now();
      reached(payload.partition, payload.highWatermark, payload.lastOffset);
    });
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
          reached(batch.partition, batch.highWatermark, batch.lastOffset());
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
