// A consumer that commits only what its owner confirmed: for delivery to a peer (a LEMF) that
// confirms records later (socket drained, PDU acknowledged, file renamed). Records are handed
// over batch by batch; the owner tracks which of them the peer confirmed and reports the
// partitions' new commit points with `confirmed`. Once nothing handed over is unconfirmed,
// everything read (records the owner filtered out, transaction markers) is committed too
// (confirmed-offsets.ts). Offsets never move on their own: after a crash or a rebalance,
// reading resumes at the last confirmed point, so nothing unconfirmed is skipped. Records this
// process reads again below what it confirmed itself (kafkajs restarted its consumer from a
// commit that failed or was not yet made) go to the owner no more, and their commit is retried.
// On a rebalance between live processes the member hands over before it rejoins: it stops
// handing records out, waits (bounded) for its peer's confirmations, commits them, then rejoins
// (kafkajs-rebalance-notice.ts), so the next owner resends (close to) nothing. Nothing handed over
// is ever dropped or forgotten: what is still unconfirmed then is resent by the next owner.
import type { Logger } from '@li/log';
import type { Consumer } from 'kafkajs';
import type { Bus } from './bus.ts';
import {
  type Assignment,
  commitPlan,
  doneBefore,
  mayHandOver,
  ownedOnly,
  type PartitionOffset,
  partitionKey,
  raiseDone,
} from './confirmed-offsets.ts';
import { onRebalanceNotice } from './kafkajs-rebalance-notice.ts';

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
  /**
   * Each assignment (every join of the group, the first included): runs before any record of it is
   * handed over, e.g. to reload state a previous owner saved. Retried until it succeeds.
   */
  onAssigned?(partitions: readonly { topic: string; partition: number }[]): Promise<void>;
  /**
   * A rebalance is starting: the owner hurries confirmations of what it holds (closes open files)
   * and resolves once what must be durable before another process reads on is (file numbers).
   */
  onHandOver?(): Promise<void>;
  /** How long a rebalance waits for confirmations before rejoining; at most half the session timeout. */
  handOverMs?: number;
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
  // The current assignment; every join replaces it (and so ends a hand-over).
  let assignment: Assignment = { join: 0, owned: new Set(), handingOver: -1 };
  let assigned: Promise<void> = Promise.resolve();
  // The last join whose onAssigned completed.
  let prepared = 0;
  let handing: Promise<void> = Promise.resolve();
  let memberId: string | null = null;
  const sessionTimeout = o.sessionTimeoutMs ?? 10_000;
  const handOverMs = Math.min(o.handOverMs ?? 4_000, Math.floor(sessionTimeout / 2));

  const commit = (decided: PartitionOffset[]) => {
    const c = consumer;
    if (!c || decided.length === 0) return;
    // the peer confirmed them whoever owns the partition now
    raiseDone(done, decided);
    const offsets = ownedOnly(decided, assignment);
    if (offsets.length === 0) return;
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
  const settle = (ms: number) =>
    // a commit that hangs must not hold the stop
    Promise.race([Promise.all(commits), new Promise((r) => setTimeout(r, Math.max(0, ms)).unref())]);

  /**
   * A rebalance was noticed (the member has not rejoined): no record goes out any more under this
   * assignment; what the peer confirms within `handOverMs` is committed before the member rejoins.
   */
  const handOver = (c: Consumer): Promise<void> => {
    if (assignment.handingOver === assignment.join) return handing;
    assignment = { ...assignment, handingOver: assignment.join };
    const join = assignment.join;
    handing = (async () => {
      const until = Date.now() + handOverMs;
      const limit = new Promise((r) => setTimeout(r, handOverMs).unref());
      await Promise.race([o.onHandOver?.().catch(() => undefined), limit]);
      while (o.unconfirmed() > 0 && Date.now() < until && consumer === c && assignment.join === join) await sleep(20);
      if (o.unconfirmed() === 0) commitRead();
      await settle(Math.max(until - Date.now(), 1_000));
      const left = o.unconfirmed();
      if (left === 0) log.info({ groupId: o.groupId }, 'rebalance: everything handed over is confirmed and committed');
      else
        log.warn(
          { groupId: o.groupId, records: left },
          'rebalance: hand-over ran out of time; records still unconfirmed go out again from the next owner',
        );
    })();
    return handing;
  };

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
        if (payload.batchSize !== 0 || !mayHandOver(assignment, payload, assignment.join)) return;
        const end = BigInt(payload.lastOffset) + 1n;
        const at = readUpTo.get(partitionKey(payload));
        if (at && end <= at.offset) return;
        read(payload.topic, payload.partition, end);
        // otherwise the confirmation that drains the owner commits up to `end`
        if (o.unconfirmed() === 0) commitRead();
      });
      const prepare = async (join: number, partitions: { topic: string; partition: number }[]) => {
        for (let attempt = 0; consumer === c && assignment.join === join; attempt++) {
          try {
            await o.onAssigned?.(partitions);
            prepared = join;
            return;
          } catch (err) {
            log.warn({ groupId: o.groupId, err, attempt }, 'preparing the assignment failed; retrying');
            await sleep(Math.min(5_000, 200 * 2 ** Math.min(attempt, 5)));
          }
        }
      };
      // Emitted before kafkajs fetches under the new assignment.
      c.on(c.events.GROUP_JOIN, ({ payload }) => {
        if (consumer !== c) return;
        const partitions: { topic: string; partition: number }[] = [];
        for (const [topic, ps] of Object.entries(payload.memberAssignment ?? {}))
          for (const partition of ps) partitions.push({ topic, partition });
        assignment = { join: assignment.join + 1, owned: new Set(partitions.map(partitionKey)), handingOver: -1 };
        if (memberId !== payload.memberId) {
          if (memberId) onRebalanceNotice(memberId, null);
          memberId = payload.memberId;
          onRebalanceNotice(memberId, () => handOver(c));
        }
        assigned = prepare(assignment.join, partitions);
      });
      await c.connect();
      await c.subscribe({ topics: o.topics, fromBeginning: true });
      await c.run({
        autoCommit: false,
        eachBatch: async ({ batch, heartbeat, isRunning }) => {
          // Prepared first (heartbeating: it reads a topic); a rebalance noticed meanwhile ends it.
          const join = assignment.join;
          while (prepared !== join && isRunning() && assignment.join === join) {
            await Promise.race([assigned, sleep(500)]);
            if (prepared !== join) await heartbeat();
          }
          // Not this assignment's, or being handed over: not read (kafkajs reads it again after the rejoin).
          if (prepared !== join || !mayHandOver(assignment, batch, join)) return;
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
      await settle(ms);
    },
    async stop() {
      const c = consumer;
      consumer = undefined;
      if (memberId) onRebalanceNotice(memberId, null);
      memberId = null;
      await c?.disconnect();
      readUpTo.clear();
      committed.clear();
      done.clear();
    },
  };
}
