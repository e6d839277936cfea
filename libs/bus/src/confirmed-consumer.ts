// A consumer that commits only what its owner confirmed: for delivery to a peer (a LEMF) that
// confirms records later (socket drained, PDU acknowledged, file renamed). Records are handed
// over batch by batch; the owner tracks which of them the peer confirmed and reports the
// partitions' new commit points with `confirmed`. Once nothing handed over is unconfirmed,
// everything read (records the owner filtered out, transaction markers) is committed too
// (confirmed-offsets.ts). Offsets never move on their own: after a crash or a rebalance,
// reading resumes at the last confirmed point, so nothing unconfirmed is skipped. Records this
// process reads again below what it confirmed itself (kafkajs restarted its consumer from a
// commit that failed or was not yet made) go to the owner no more, and their commit is retried.
import type { Logger } from '@li/log';
import type { Consumer } from 'kafkajs';
import type { Bus } from './bus.ts';
import { commitPlan, doneBefore, type PartitionOffset, partitionKey, raiseDone } from './confirmed-offsets.ts';

export interface ConfirmedMessage {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

export interface ConfirmedBatch {
  topic: string;
  partition: number;
  messages: ConfirmedMessage[];
}

export interface ConfirmedConsumerOptions {
  bus: Pick<Bus, 'kafka'>;
  log: Logger;
  groupId: string;
  topics: string[];
  /** Hands a batch's records to the owner (they count as unconfirmed until `confirmed`). */
  onBatch(batch: ConfirmedBatch): void;
  /** Records handed over and not yet confirmed; at 0 everything read may be committed. */
  unconfirmed(): number;
  /** Back-pressure: while true, the consumer waits (heartbeating) before fetching more. */
  full?(): boolean;
  /** Bytes of the records fetched (key, value, headers), per batch; for read-cost metrics. */
  onRead?(bytes: number): void;
  sessionTimeoutMs?: number;
  /** How long an idle fetch waits on the broker; short keeps a stop quick. */
  maxWaitTimeMs?: number;
}

export interface ConfirmedConsumer {
  start(): Promise<void>;
  /** The owner's peer confirmed records: these partitions may be committed up to `offset` (next to read). */
  confirmed(points: readonly { topic: string; partition: number; offset: number | bigint }[]): void;
  /** Stops fetching (shutdown drains what was handed over). */
  pause(): void;
  /** Waits (at most `ms`) for the commits in flight. */
  settle(ms: number): Promise<void>;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function headersOf(raw: Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw ?? {})) {
    if (v === undefined || v === null) continue;
    out[k] = Array.isArray(v) ? String(v[v.length - 1]) : Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
  }
  return out;
}

export function createConfirmedConsumer(o: ConfirmedConsumerOptions): ConfirmedConsumer {
  const log = o.log.child({ component: 'confirmed-consumer' });
  // Per partition, the offset after the last record read: only forward (a consumer kafkajs
  // restarted reads again from the committed offset).
  const readUpTo = new Map<string, PartitionOffset>();
  const read = (topic: string, partition: number, offset: bigint) => {
    const at = readUpTo.get(partitionKey({ topic, partition }));
    if (!at || offset > at.offset) readUpTo.set(partitionKey({ topic, partition }), { topic, partition, offset });
  };
  // Per partition, the last offset handed to commitOffsets.
  const committed = new Map<string, bigint>();
  // Per partition, the offset below which this process's peer confirmed everything handed over
  // (or nothing needed it): every commit decided, reached the broker or not. Kept across
  // kafkajs's restarts and rebalances; a record's offset names it for good (queues are never
  // recreated under a running consumer).
  const done = new Map<string, PartitionOffset>();
  const commits = new Set<Promise<void>>();
  let consumer: Consumer | undefined;

  const commit = (offsets: PartitionOffset[]) => {
    const c = consumer;
    if (!c || offsets.length === 0) return;
    raiseDone(done, offsets);
    for (const p of offsets) committed.set(partitionKey(p), p.offset);
    const p = c
      .commitOffsets(offsets.map((x) => ({ topic: x.topic, partition: x.partition, offset: String(x.offset) })))
      .catch((err: unknown) => {
        // not committed after all: a later plan must not leave these out
        for (const x of offsets) if (committed.get(partitionKey(x)) === x.offset) committed.delete(partitionKey(x));
        log.warn({ groupId: o.groupId, err }, 'offset commit failed; records will be re-read');
      })
      .finally(() => commits.delete(p));
    commits.add(p);
  };
  const commitRead = () => commit(commitPlan([], readUpTo, true, committed));

  return {
    async start() {
      const c = o.bus.kafka.consumer({
        groupId: o.groupId,
        readUncommitted: false,
        allowAutoTopicCreation: false,
        sessionTimeout: o.sessionTimeoutMs ?? 10_000,
        maxWaitTimeInMs: o.maxWaitTimeMs ?? 1000,
      });
      consumer = c;
      // kafkajs never hands eachBatch a batch it filtered to nothing (an aborted transaction, a
      // lone commit marker) and, without autoCommit, never commits past it: do so here, or the
      // group would sit behind the end for good and its lag would never read 0.
      c.on(c.events.END_BATCH_PROCESS, ({ payload }) => {
        if (payload.batchSize !== 0) return;
        const end = BigInt(payload.lastOffset) + 1n;
        const at = readUpTo.get(partitionKey(payload));
        if (at && end <= at.offset) return;
        read(payload.topic, payload.partition, end);
        // otherwise the confirmation that drains the owner commits up to `end`
        if (o.unconfirmed() === 0) commitRead();
      });
      await c.connect();
      await c.subscribe({ topics: o.topics, fromBeginning: true });
      await c.run({
        autoCommit: false,
        eachBatch: async ({ batch, heartbeat, isRunning }) => {
          // Read again below this process's own confirmed point: the peer has them. Their commit
          // (failed, or never made before kafkajs restarted) goes out again instead.
          const key = partitionKey(batch);
          const again = doneBefore(
            batch.messages.map((m) => m.offset),
            done.get(key),
          );
          if (again > 0) {
            log.info(
              { groupId: o.groupId, records: again },
              'records read again below the confirmed point; not sent again',
            );
            const point = done.get(key)!;
            if (point.offset > (committed.get(key) ?? -1n)) commit([point]);
          }
          let bytes = 0;
          const fetched = batch.messages.map((m) => {
            const headers = headersOf(m.headers as Record<string, unknown>);
            bytes += (m.key?.length ?? 0) + (m.value?.length ?? 0);
            for (const [k, v] of Object.entries(headers)) bytes += k.length + v.length;
            return { offset: m.offset, key: m.key ?? null, value: m.value ?? null, headers };
          });
          o.onRead?.(bytes);
          const messages = fetched.slice(again);
          if (messages.length > 0) o.onBatch({ topic: batch.topic, partition: batch.partition, messages });
          // After the hand-over: a commit may pass this batch only once its records are tracked.
          read(batch.topic, batch.partition, BigInt(batch.lastOffset()) + 1n);
          // Nothing unconfirmed (the owner took none of it, or has confirmed all): move past it.
          if (o.unconfirmed() === 0) commitRead();
          while (isRunning() && o.full?.()) {
            await sleep(100);
            await heartbeat();
          }
        },
      });
    },
    confirmed(points) {
      commit(commitPlan(points, readUpTo, o.unconfirmed() === 0, committed));
    },
    pause() {
      consumer?.pause(o.topics.map((topic) => ({ topic })));
    },
    async settle(ms) {
      // a commit that hangs must not hold the stop
      await Promise.race([Promise.all(commits), new Promise((r) => setTimeout(r, ms).unref())]);
    },
    async stop() {
      const c = consumer;
      consumer = undefined;
      await c?.disconnect();
      readUpTo.clear();
      committed.clear();
      done.clear();
    },
  };
}
