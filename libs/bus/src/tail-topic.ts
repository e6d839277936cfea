// Follows topics from the beginning, for state every instance needs whole (the warrant index,
// LEMF destinations): each instance reads every partition, in a group of its own that commits
// nothing. `caughtUp` resolves once the records present at start have all been handled, so a
// service can report ready only with complete state; records keep flowing afterwards.
import { randomUUID } from 'node:crypto';
import type { Logger } from '@li/log';
import { type BusClient, clientOf } from './client.ts';
import { type ConsumerHealth, registerConsumer, watchActivity } from './consumer-health.ts';

export interface TailRecord {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer | null;
}

export interface TailOptions {
  /** The bus (or a bare kafkajs client). */
  kafka: BusClient;
  log: Logger;
  topics: string[];
  /**
   * Handles one record; a throw is logged and the record skipped (state topics are trusted
   * input), unless the error is `retriable`: then the record is handled again, after a pause.
   */
  onRecord: (record: TailRecord) => void | Promise<void>;
}

export interface Tail {
  caughtUp: Promise<void>;
  stop(): Promise<void>;
}

export async function tailTopics(options: TailOptions): Promise<Tail> {
  const log = options.log.child({ component: 'tail' });
  const kafka = clientOf(options.kafka);
  const admin = kafka.admin();
  await admin.connect();
  const pending = new Map<string, bigint>();
  for (const topic of options.topics) {
    for (const p of await admin.fetchTopicOffsets(topic)) {
      if (BigInt(p.offset) > BigInt(p.low)) pending.set(`${topic}/${p.partition}`, BigInt(p.offset));
    }
  }
  await admin.disconnect();

  let markCaughtUp!: () => void;
  const caughtUp = new Promise<void>((r) => {
    markCaughtUp = r;
  });
  if (pending.size === 0) markCaughtUp();

  // A short long-poll: stop() waits for the fetch in flight, and config topics are mostly idle.
  const consumer = kafka.consumer({
    groupId: `li-tail-${randomUUID()}`,
    readUncommitted: false,
    maxWaitTimeInMs: 1000,
  });
  // kafkajs restarts a crashed tail by itself (reading from the beginning again, as at start);
  // one it will not restart is dead, and the process must go.
  let health: ConsumerHealth = { live: true, ready: false, reason: 'joining' };
  consumer.on(consumer.events.GROUP_JOIN, () => {
    if (health.live) health = { live: true, ready: true };
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    const why = `${payload.error.name}: ${payload.error.message}`;
    health = payload.restart
      ? { live: true, ready: false, reason: `restarting after ${why}` }
      : { live: false, ready: false, reason: `crashed, not restarted: ${why}` };
  });
  const stalled = watchActivity(consumer);
  const unregister = registerConsumer(kafka, {
    name: 'tail',
    health: () => {
      const stall = health.ready ? stalled() : undefined;
      return stall ? { live: true, ready: false, reason: stall } : health;
    },
  });
  await consumer.connect();
  await consumer.subscribe({ topics: options.topics, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch, heartbeat, isRunning, isStale }) => {
      for (const m of batch.messages) {
        const record = {
          topic: batch.topic,
          partition: batch.partition,
          offset: m.offset,
          key: m.key?.toString('utf8') ?? null,
          value: m.value,
        };
        for (let attempt = 0; ; attempt++) {
          try {
            await options.onRecord(record);
            break;
          } catch (err) {
            // A retriable error (the schema registry away) is no fault of the record: skipping it
            // would lose state, so it waits and tries again.
            if ((err as { retriable?: unknown }).retriable === true && isRunning() && !isStale()) {
              const delayMs = Math.min(5_000, 200 * 2 ** Math.min(attempt, 10));
              if (attempt === 0)
                log.warn({ topic: batch.topic, partition: batch.partition, err }, 'state record waits');
              await new Promise((r) => setTimeout(r, delayMs));
              await heartbeat().catch(() => {});
              continue;
            }
            log.error(
              { topic: batch.topic, partition: batch.partition, offset: m.offset, err },
              'state record skipped',
            );
            break;
          }
        }
      }
      const id = `${batch.topic}/${batch.partition}`;
      const end = pending.get(id);
      // Transaction markers take offsets too: compare the next position with the start end.
      if (end !== undefined && BigInt(batch.lastOffset()) + 1n >= end) {
        pending.delete(id);
        if (pending.size === 0) markCaughtUp();
      }
    },
  });
  return {
    caughtUp,
    stop: () => {
      unregister();
      return consumer.disconnect();
    },
  };
}
