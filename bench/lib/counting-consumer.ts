// A consumer that only counts what it reads and when, for benchmarks: it joins before anything is
// produced (so the first record is timed), reads committed records, and never commits.
import type { Kafka } from 'kafkajs';
import { within } from './deadline.ts';

export interface CountingConsumer {
  /** Records read so far; first/last: performance.now() of the first record and of the `expected`-th. */
  readonly received: number;
  readonly firstAt: number;
  readonly lastAt: number;
  disconnect(): Promise<void>;
}

export async function countingConsumer(
  kafka: Kafka,
  opts: {
    groupId: string;
    topics: string[];
    expected: number;
    joinTimeoutMs: number;
    /** Called when the first record arrives (to sample a CPU meter then, say). */
    onFirst?: () => void;
  },
): Promise<CountingConsumer> {
  const consumer = kafka.consumer({
    groupId: opts.groupId,
    maxBytesPerPartition: 8 * 1024 * 1024,
    maxBytes: 32 * 1024 * 1024,
  });
  await consumer.connect();
  await consumer.subscribe({ topics: opts.topics, fromBeginning: true });
  const state = { received: 0, firstAt: 0, lastAt: 0 };
  const joined = new Promise<void>((r) => {
    const remove = consumer.on(consumer.events.GROUP_JOIN, () => {
      remove();
      r();
    });
  });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      if (batch.messages.length === 0) return;
      if (state.received === 0) {
        state.firstAt = performance.now();
        opts.onFirst?.();
      }
      state.received += batch.messages.length;
      if (state.received >= opts.expected && state.lastAt === 0) state.lastAt = performance.now();
    },
  });
  await within(`consumer group ${opts.groupId} to join`, opts.joinTimeoutMs, joined);
  return {
    get received() {
      return state.received;
    },
    get firstAt() {
      return state.firstAt;
    },
    get lastAt() {
      return state.lastAt;
    },
    disconnect: () => consumer.disconnect(),
  };
}
