// Consume-transform-produce on Kafka transactions: for each batch of one input partition,
// the output records, the state records and the input offsets commit together or not at all.
//
// - One transactional producer per input partition (transactional.id = prefix + topic +
//   partition), so a new owner of the partition fences a zombie that still holds it.
// - The consumer reads committed records only and never commits by itself; the offset moves
//   inside the transaction. An aborted batch is not resolved, so it is fetched again.
// - A record that cannot be decoded, or that `process` rejects, goes to the DLQ with its
//   reason in the same transaction; the rest of the batch goes on. A retriable decode error
//   (the schema registry away) is no fault of the record: the batch aborts and is retried.
// - A commit that fails without an answer (the broker died after it got EndTxn) may have
//   happened: before any retry, a new producer for the id waits for the coordinator to finish
//   that transaction, and the group's committed offset tells whether the batch is done.
// - `process` must not change anything outside its result: in-memory effects belong in
//   `onCommitted`, which runs only after the commit, so a retry starts from committed state.
import type { Logger } from '@li/log';
import type { Admin, Consumer, EachBatchPayload, Producer, Transaction } from 'kafkajs';
import { Counter, type Registry } from 'prom-client';
import { byTopic, EXACTLY_ONCE_PRODUCER, type OutputRecord, requestChunks } from './bus.ts';
import { type BusClient, clientOf } from './client.ts';
import { type ConsumerHealth, registerConsumer, restartCounter, watchActivity } from './consumer-health.ts';
import { DEFAULT_RESTART_POLICY, decideRestart, type RestartPolicy } from './restart-policy.ts';

export interface InputRecord<T> {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: T;
  headers: Record<string, string>;
  timestamp: string;
}

export interface Rejection<T> {
  record: InputRecord<T>;
  code: string;
  reason: string;
}

export interface ProcessResult<T> {
  outputs: OutputRecord[];
  rejected?: Rejection<T>[];
}

export interface BatchContext {
  topic: string;
  partition: number;
  attempt: number;
}

export interface ProcessorOptions<T> {
  /** The bus (or a bare kafkajs client). */
  kafka: BusClient;
  log: Logger;
  groupId: string;
  topics: string[];
  /** Stable across restarts of the same deployment; the partition is appended. */
  transactionalIdPrefix: string;
  /**
   * Decodes a record of the given input topic; a throw sends the record to the DLQ, unless the
   * error is `retriable` (e.g. the schema registry is unreachable): then the batch is retried.
   */
  decode: (bytes: Buffer | null, topic: string) => Promise<T>;
  /** The DLQ of the tenant an input topic belongs to. */
  dlqTopic: (inputTopic: string) => string;
  process: (records: InputRecord<T>[], ctx: BatchContext) => Promise<ProcessResult<T>>;
  onCommitted?: (result: ProcessResult<T>, records: InputRecord<T>[], ctx: BatchContext) => void;
  /**
   * Called after each (re)assignment, once the transactional producers of the assigned
   * partitions exist (so any previous owner is fenced), and before any batch is processed:
   * the place to reload state that other instances may have advanced.
   */
  onAssigned?: (assignment: Record<string, number[]>) => Promise<void>;
  /** Called after the outputs were sent and before the commit; a throw aborts. For tests and tracing. */
  onBeforeCommit?: (ctx: BatchContext) => void | Promise<void>;
  fromBeginning?: boolean;
  maxBackoffMs?: number;
  /** How long the group waits for a silent member before giving its partitions to others. */
  sessionTimeoutMs?: number;
  /**
   * How long an idle fetch waits on the broker (kafkajs default 5 s). stop() waits for the fetch
   * in flight, so a shorter wait stops sooner, for one more request per interval while idle.
   */
  maxWaitTimeMs?: number;
  /**
   * Bytes a fetch waits for (up to maxWaitTimeMs; kafkajs default 1): a processor that reads a
   * busy topic for rare records takes them in fewer batches, so fewer transactions.
   */
  minBytes?: number;
  /**
   * Bytes fetched per partition at most (kafkajs default 1 MiB): a batch is one transaction, so
   * a processor whose transactions are costly (many output partitions) takes larger batches.
   */
  maxBytesPerPartition?: number;
  /**
   * The service's registry: li_bus_dlq_records_total{tenant,code} counts what went to the DLQ,
   * li_bus_consumer_restarts_total{consumer} the consumers made anew after a crash.
   */
  metrics?: Registry;
  /** How often a crashed consumer is made anew before the processor reports itself dead. */
  restartPolicy?: Partial<RestartPolicy>;
}

export interface Processor {
  /** Resolves once the consumer joined its group and got its partitions. */
  start(): Promise<void>;
  /** Finishes the batch in hand (commit or abort) and leaves the group. */
  stop(): Promise<void>;
  readonly committedBatches: number;
  /** live: false once it gave up restarting its consumer; ready: its consumer is in its group. */
  health(): ConsumerHealth;
}

function headersOf(raw: Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw ?? {})) {
    if (v === undefined || v === null) continue;
    out[k] = Array.isArray(v) ? String(v[v.length - 1]) : Buffer.isBuffer(v) ? v.toString('utf8') : String(v);
  }
  return out;
}

/** The DLQ record for input that could not be handled: the original bytes and the reason. */
export function dlqRecord(
  dlqTopic: string,
  source: { topic: string; partition: number; offset: string; key: string | null; value: Buffer | null },
  code: string,
  reason: string,
): OutputRecord {
  return {
    topic: dlqTopic,
    key: source.key,
    value: source.value,
    headers: {
      'li.dlq.code': code,
      'li.dlq.reason': reason,
      'li.dlq.topic': source.topic,
      'li.dlq.partition': String(source.partition),
      'li.dlq.offset': source.offset,
    },
  };
}

function isFenced(err: unknown): boolean {
  const type = (err as { type?: string } | undefined)?.type ?? '';
  return (
    type === 'PRODUCER_FENCED' || type === 'INVALID_PRODUCER_EPOCH' || type === 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED'
  );
}

/** Errors that say this consumer is no longer (or not yet again) a member of its group. */
function lostGroup(err: unknown): boolean {
  const type = (err as { type?: string } | undefined)?.type ?? '';
  return (
    type === 'UNKNOWN_MEMBER_ID' ||
    type === 'ILLEGAL_GENERATION' ||
    type === 'REBALANCE_IN_PROGRESS' ||
    type === 'NOT_COORDINATOR_FOR_GROUP' ||
    type === 'FENCED_INSTANCE_ID'
  );
}

/**
 * Whether the group's committed offset for a partition (kafkajs gives '-1' for none) shows the
 * batch ending before `next` committed.
 */
export function batchCommitted(committedOffset: string | undefined, next: string): boolean {
  if (committedOffset === undefined || !/^-?\d+$/.test(committedOffset)) return false;
  return BigInt(committedOffset) >= BigInt(next);
}

/** A batch's records at or above the committed offset read after the fence (all when none was read). */
export function unprocessed<M extends { offset: string }>(
  messages: readonly M[],
  floor: bigint | undefined,
): readonly M[] {
  const first = messages[0];
  if (floor === undefined || first === undefined || BigInt(first.offset) >= floor) return messages;
  return messages.filter((m) => BigInt(m.offset) >= floor);
}

const DLQ_METRIC = 'li_bus_dlq_records_total';

/** One counter per registry, whichever processor of the service asks first. */
export function dlqCounter(registry: Registry): Counter<'tenant' | 'code'> {
  const existing = registry.getSingleMetric(DLQ_METRIC);
  if (existing) return existing as Counter<'tenant' | 'code'>;
  return new Counter({
    name: DLQ_METRIC,
    help: 'Records sent to li.<tenant>.dlq, by error code.',
    labelNames: ['tenant', 'code'],
    registers: [registry],
  });
}

type TxnOffsets = Parameters<Transaction['sendOffsets']>[0];

const CONCURRENT_TXN_RETRY_MS = 20;
const CONCURRENT_TXN_RETRIES = 50;

/**
 * kafkajs sends AddOffsetsToTxn without retry: sent before the coordinator finished the previous
 * commit, it gets CONCURRENT_TRANSACTIONS, which sendBatch's AddPartitionsToTxn retries (20 ms).
 */
async function sendOffsetsRetrying(txn: Transaction, offsets: TxnOffsets): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await txn.sendOffsets(offsets);
    } catch (err) {
      const type = (err as { type?: string } | undefined)?.type;
      if (type !== 'CONCURRENT_TRANSACTIONS' || attempt >= CONCURRENT_TXN_RETRIES) throw err;
      await new Promise((resolve) => setTimeout(resolve, CONCURRENT_TXN_RETRY_MS));
    }
  }
}

/**
 * The outputs and the input offset into the open transaction. The offset's requests
 * (AddOffsetsToTxn, TxnOffsetCommit) go out beside the Produce requests, not after them, as the
 * Java client does: both are part of the transaction and nothing is visible before EndTxn, which
 * is sent only once both settled. Fewer round trips per batch during which the process is idle.
 */
export async function sendWithOffsets(txn: Transaction, outputs: OutputRecord[], offsets: TxnOffsets): Promise<void> {
  const sends = (async () => {
    for (const chunk of requestChunks(outputs)) await txn.sendBatch({ topicMessages: byTopic(chunk), acks: -1 });
  })();
  const offsetsSent = sendOffsetsRetrying(txn, offsets);
  // Both settle before the caller aborts or commits: no request of this transaction still in flight.
  const failures = (await Promise.allSettled([sends, offsetsSent])).flatMap((r) =>
    r.status === 'rejected' ? [r.reason as unknown] : [],
  );
  // A fence or a lost group decides what the caller does next, whichever request saw it.
  const failure = failures.find(isFenced) ?? failures.find(lostGroup) ?? failures[0];
  if (failures.length > 0) throw failure;
}

/**
 * Waits for every promise to settle, then resolves with their values or rejects with the first
 * failure: nothing is left running behind a rejection (a fence still in flight on a producer
 * that the next rebalance uses again).
 */
export async function settleAll<T>(promises: readonly (T | Promise<T>)[]): Promise<T[]> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}

export function createProcessor<T>(options: ProcessorOptions<T>): Processor {
  const log = options.log.child({ component: 'processor', groupId: options.groupId });
  const producers = new Map<string, Promise<Producer>>();
  let consumer: Consumer | undefined;
  let committedBatches = 0;
  const maxBackoff = options.maxBackoffMs ?? 5000;
  const deadLetters = options.metrics ? dlqCounter(options.metrics) : null;
  const restarts = options.metrics ? restartCounter(options.metrics) : null;
  const policy = { ...DEFAULT_RESTART_POLICY, ...options.restartPolicy };

  function producerFor(topic: string, partition: number): Promise<Producer> {
    const id = `${options.transactionalIdPrefix}.${topic}.${partition}`;
    let p = producers.get(id);
    if (!p) {
      const producer = clientOf(options.kafka).producer({
        ...EXACTLY_ONCE_PRODUCER,
        // A batch that follows a commit closely finds the coordinator still writing the commit
        // markers (CONCURRENT_TRANSACTIONS) and is retried: after 20 ms, as the Java client does,
        // not after the 200 ms first backoff, which was the p99 of the pipeline (bench/e2e).
        retry: { ...EXACTLY_ONCE_PRODUCER.retry, initialRetryTime: 20 },
        transactionalId: id,
        transactionTimeout: 60_000,
      });
      p = producer.connect().then(() => producer);
      producers.set(id, p);
      p.catch(() => producers.delete(id));
    }
    return p;
  }

  async function dropProducer(topic: string, partition: number): Promise<void> {
    const id = `${options.transactionalIdPrefix}.${topic}.${partition}`;
    const p = producers.get(id);
    producers.delete(id);
    await p?.then((pr) => pr.disconnect()).catch(() => {});
  }

  // Waits between attempts end early when the processor stops, so stop() does not sit out a backoff.
  const wakers = new Set<() => void>();
  let stopping = false;
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      wakers.add(done);
    });

  /**
   * A transaction on the partition's producer. kafkajs leaves a producer whose abort failed (the
   * broker away mid-abort) in state ABORTING for good: every later transaction() throws. Such a
   * producer is dropped, so the next attempt makes a new one, whose initTransactions makes the
   * broker abort whatever the old one left open (chaos suite: broker SIGKILL mid-stream).
   */
  async function beginTransaction(topic: string, partition: number): Promise<Transaction> {
    const producer = await producerFor(topic, partition);
    try {
      return await producer.transaction();
    } catch (err) {
      await dropProducer(topic, partition);
      throw err;
    }
  }

  /** Aborts; a producer whose abort failed cannot be used again (see beginTransaction). */
  async function abortOrDrop(txn: Transaction, topic: string, partition: number): Promise<boolean> {
    try {
      await txn.abort();
      return true;
    } catch {
      await dropProducer(topic, partition);
      return false;
    }
  }

  // Batches wait until the assignment's producers are initialised and onAssigned has run.
  let assigned: Promise<void> = Promise.resolve();
  // Per assigned partition, the group's committed offset read once the previous owner was fenced.
  let committedFloor = new Map<string, bigint>();

  async function prepareAssignment(assignment: Record<string, number[]>): Promise<void> {
    // Each partition has its own producer and transactional id: their fences are independent and
    // go out together (one after another, a restart waited a fence's round trips per partition).
    await settleAll(
      Object.entries(assignment).flatMap(([topic, partitions]) =>
        partitions.map(async (partition) => {
          // initTransactions happens on the first transaction: open and abort an empty one to fence now.
          const txn = await beginTransaction(topic, partition);
          if (!(await abortOrDrop(txn, topic, partition))) {
            throw new Error(`could not fence the previous owner of ${topic}[${partition}]: the abort failed`);
          }
        }),
      ),
    );
    // Both read only what the fenced owners committed: together, not one after the other.
    const floor = committedOffsets(assignment);
    await settleAll<unknown>([floor, options.onAssigned?.(assignment)]);
    committedFloor = await floor;
  }

  // The processor's admin (committed offsets after a fence, settling a lost commit): connected
  // once, beside the consumer's first join, not anew at each assignment; made anew after a failure.
  let admin: Promise<Admin> | undefined;
  function adminClient(): Promise<Admin> {
    if (!admin) {
      const connected = (async () => {
        const a = clientOf(options.kafka).admin();
        await a.connect();
        return a;
      })();
      admin = connected;
      connected.catch(() => {
        if (admin === connected) admin = undefined;
      });
    }
    return admin;
  }
  async function withAdmin<R>(fn: (a: Admin) => Promise<R>): Promise<R> {
    const current = adminClient();
    try {
      return await fn(await current);
    } catch (err) {
      if (admin === current) admin = undefined;
      await current.then((a) => a.disconnect()).catch(() => {});
      throw err;
    }
  }

  /**
   * kafkajs reads the group's committed offsets at its first fetch after a rebalance, which can
   * run while prepareAssignment still fences the previous owner: an offset that owner's last
   * transaction was committing is then read before the commit landed, and that batch would be
   * processed a second time (Kafka's Java consumer asks with require_stable, KIP-447; kafkajs
   * cannot). Read again after the fence, when every earlier transaction has ended.
   */
  async function committedOffsets(assignment: Record<string, number[]>): Promise<Map<string, bigint>> {
    const out = new Map<string, bigint>();
    const topics = Object.keys(assignment).filter((t) => (assignment[t] ?? []).length > 0);
    if (topics.length === 0) return out;
    for (const t of await withAdmin((a) => a.fetchOffsets({ groupId: options.groupId, topics }))) {
      for (const p of t.partitions) {
        if (/^\d+$/.test(p.offset)) out.set(`${t.topic}\u0000${p.partition}`, BigInt(p.offset));
      }
    }
    return out;
  }

  /**
   * Settles a commit whose answer never came (the broker died after it got EndTxn): a new producer
   * for the transactional id is answered only once the coordinator finished the open transaction,
   * committing it if it had logged the commit and aborting it otherwise. Then the group's committed
   * offset for the partition says which it was.
   */
  async function settleCommit(topic: string, partition: number): Promise<string | undefined> {
    await dropProducer(topic, partition);
    const txn = await beginTransaction(topic, partition);
    if (!(await abortOrDrop(txn, topic, partition))) {
      throw new Error(`could not settle the last commit of ${topic}[${partition}]: the abort failed`);
    }
    const [t] = await withAdmin((a) => a.fetchOffsets({ groupId: options.groupId, topics: [topic] }));
    return t?.partitions.find((p) => p.partition === partition)?.offset;
  }

  interface Attempt {
    ctx: BatchContext;
    records: InputRecord<T>[];
    result: ProcessResult<T>;
    dlqOutputs: OutputRecord[];
  }

  async function handleBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    if (batch.isEmpty()) return;
    await assigned;
    const { topic, partition } = batch;
    const floor = committedFloor.get(`${topic}\u0000${partition}`);
    const messages = unprocessed(batch.messages, floor);
    if (messages.length < batch.messages.length) {
      log.warn(
        { topic, partition, count: batch.messages.length - messages.length },
        'records below the committed offset read after a rebalance: the previous owner committed them; not processed again',
      );
      if (messages.length === 0) {
        resolveOffset(((floor ?? 1n) - 1n).toString());
        return;
      }
    }
    const dlq = options.dlqTopic(topic);
    const next = (BigInt(batch.lastOffset()) + 1n).toString();
    // An attempt whose commit failed without saying whether it happened: settled before a retry,
    // for a retry after a commit that did happen would write the batch's outputs twice.
    let unsettled: Attempt | undefined;
    let committed: Attempt | undefined;
    for (let attempt = 0; !committed && isRunning() && !isStale() && !stopping; attempt++) {
      const ctx: BatchContext = { topic, partition, attempt };
      let txn: Transaction | undefined;
      try {
        if (unsettled) {
          const offset = await settleCommit(topic, partition);
          if (batchCommitted(offset, next)) {
            log.warn({ topic, partition }, 'the commit whose answer was lost had happened; the batch is not redone');
            committed = unsettled;
            break;
          }
          unsettled = undefined;
        }
        txn = await beginTransaction(topic, partition);
        const records: InputRecord<T>[] = [];
        const dlqOutputs: OutputRecord[] = [];
        for (const m of messages) {
          const source = { topic, partition, offset: m.offset, key: m.key?.toString('utf8') ?? null, value: m.value };
          try {
            const value = await options.decode(m.value, topic);
            records.push({ ...source, value, headers: headersOf(m.headers), timestamp: m.timestamp });
          } catch (err) {
            const e = err as { code?: string; message?: string; retriable?: boolean };
            // Not the record's fault (the schema registry is away): abort and fetch the batch again.
            if (e.retriable === true) throw err;
            dlqOutputs.push(dlqRecord(dlq, source, e.code ?? 'BUS_ERR_DECODE', e.message ?? 'undecodable record'));
          }
        }
        const result = records.length > 0 ? await options.process(records, ctx) : { outputs: [] };
        for (const r of result.rejected ?? []) {
          const m = messages.find((x) => x.offset === r.record.offset);
          dlqOutputs.push(dlqRecord(dlq, { ...r.record, value: m?.value ?? null }, r.code, r.reason));
        }
        const outputs = [...result.outputs, ...dlqOutputs];
        await sendWithOffsets(txn, outputs, {
          consumerGroupId: options.groupId,
          topics: [{ topic, partitions: [{ partition, offset: next }] }],
        });
        await options.onBeforeCommit?.(ctx);
        // Until EndTxn is sent nothing can commit; once it is, a failure may hide a commit.
        const thisAttempt = { ctx, records, result, dlqOutputs };
        unsettled = thisAttempt;
        await txn.commit();
        unsettled = undefined;
        committed = thisAttempt;
      } catch (err) {
        if (txn) await abortOrDrop(txn, topic, partition);
        if (isFenced(err)) {
          // Another instance owns this partition now: stop using this producer.
          log.warn({ topic, partition, err }, 'producer fenced; leaving the batch to the new owner');
          await dropProducer(topic, partition);
          return;
        }
        // No longer a member of the group (the broker restarted, the session expired): the
        // partition may be someone else's. kafkajs rejoins when the error reaches it.
        if (lostGroup(err)) throw err;
        const delayMs = Math.min(maxBackoff, 100 * 2 ** Math.min(attempt, 10));
        log.warn(
          { topic, partition, attempt, delayMs, err },
          unsettled ? 'commit failed; settling its outcome before any retry' : 'batch aborted; retrying',
        );
        await pause(delayMs);
        if (stopping) return;
        await heartbeat().catch((e: unknown) => {
          // The group is rebalancing or lost: leave the uncommitted batch to whoever gets the
          // partition (it is fetched again from the committed offset); kafkajs rejoins.
          if (lostGroup(e)) throw e;
        });
      }
    }
    if (!committed) return;
    resolveOffset(batch.lastOffset());
    committedBatches++;
    const { dlqOutputs } = committed;
    if (dlqOutputs.length > 0) {
      log.warn({ topic, partition, count: dlqOutputs.length }, 'records sent to the DLQ');
      const tenant = topic.split('.')[1] ?? '';
      for (const d of dlqOutputs) deadLetters?.inc({ tenant, code: d.headers?.['li.dlq.code'] ?? '' });
    }
    options.onCommitted?.(committed.result, committed.records, committed.ctx);
    // Committed: never process this batch again, whatever the heartbeat says. A heartbeat that
    // finds the group lost throws to kafkajs, which rejoins (and the next owner reads from the
    // committed offset); any other heartbeat failure is kafkajs's own to retry.
    await heartbeat().catch((e: unknown) => {
      if (lostGroup(e)) throw e;
    });
  }

  // running: joined with its partitions prepared; restarting: a crashed consumer is being
  // replaced; dead: it gave up (liveness fails, the orchestrator restarts the process).
  let state: 'starting' | 'running' | 'restarting' | 'dead' | 'stopped' = 'starting';
  let reason: string | undefined = 'joining the consumer group';
  const restartTimes: number[] = [];
  let cancelRestart: (() => void) | undefined;
  let stalled: () => string | undefined = () => undefined;
  let unregister: (() => void) | undefined;
  let firstJoin!: () => void;
  let failStart!: (err: Error) => void;
  const joined = new Promise<void>((resolve, reject) => {
    firstJoin = resolve;
    failStart = reject;
  });
  joined.catch(() => {});

  async function runConsumer(): Promise<void> {
    const c = clientOf(options.kafka).consumer({
      groupId: options.groupId,
      readUncommitted: false,
      allowAutoTopicCreation: false,
      sessionTimeout: options.sessionTimeoutMs ?? 10_000,
      heartbeatInterval: Math.max(500, Math.floor((options.sessionTimeoutMs ?? 10_000) / 10)),
      ...(options.maxWaitTimeMs ? { maxWaitTimeInMs: options.maxWaitTimeMs } : {}),
      ...(options.minBytes ? { minBytes: options.minBytes } : {}),
      ...(options.maxBytesPerPartition
        ? {
            maxBytesPerPartition: options.maxBytesPerPartition,
            maxBytes: Math.max(10 * 2 ** 20, options.maxBytesPerPartition),
          }
        : {}),
      // kafkajs's own restart is not relied on: a crash is handled below, the same way each time.
      retry: { retries: 5, restartOnFailure: async () => false },
    });
    consumer = c;
    stalled = watchActivity(c);
    c.on(c.events.GROUP_JOIN, (event) => {
      if (consumer !== c) return;
      const assignment = (event.payload.memberAssignment ?? {}) as Record<string, number[]>;
      state = state === 'stopped' ? state : 'starting';
      reason = 'preparing the assignment';
      assigned = prepareAssignment(assignment).catch((err: unknown) => {
        log.error({ err }, 'preparing the assignment failed; batches wait for the next rebalance');
        throw err;
      });
      assigned.then(
        () => {
          if (consumer !== c || state !== 'starting') return;
          state = 'running';
          reason = undefined;
          firstJoin();
        },
        () => {},
      );
    });
    c.on(c.events.CRASH, (event) => {
      if (consumer === c) onCrash(event.payload.error);
    });
    await c.connect();
    await c.subscribe({ topics: options.topics, fromBeginning: options.fromBeginning ?? true });
    await c.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: handleBatch });
    if (state === 'stopped') await c.disconnect();
  }

  function onCrash(err: Error): void {
    if (state === 'stopped' || state === 'dead' || state === 'restarting') return;
    const now = Date.now();
    const decision = decideRestart(restartTimes, now, policy);
    if (!decision.restart) {
      state = 'dead';
      reason = `${decision.reason}; last: ${err.name}: ${err.message}`;
      log.error({ err, reason }, 'consumer crashed and is not restarted; liveness fails');
      failStart(new Error(reason));
      return;
    }
    state = 'restarting';
    reason = `consumer crashed (${err.name}: ${err.message}); restarting in ${decision.delayMs} ms`;
    restartTimes.push(now);
    log.warn({ err, delayMs: decision.delayMs }, 'consumer crashed; making a new one');
    const old = consumer;
    const timer = setTimeout(() => {
      cancelRestart = undefined;
      void (async () => {
        await old?.disconnect().catch(() => {});
        if (state !== 'restarting') return;
        restarts?.inc({ consumer: 'processor' });
        state = 'starting';
        reason = 'rejoining the consumer group';
        // A new consumer that cannot even connect counts as one more crash.
        await runConsumer().catch((e: unknown) => onCrash(e as Error));
      })();
    }, decision.delayMs);
    cancelRestart = () => clearTimeout(timer);
  }

  const health = (): ConsumerHealth => {
    const stall = state === 'running' ? stalled() : undefined;
    if (stall) return { live: true, ready: false, reason: stall };
    return { live: state !== 'dead', ready: state === 'running', ...(reason ? { reason } : {}) };
  };

  return {
    get committedBatches() {
      return committedBatches;
    },
    health,
    async start() {
      unregister = registerConsumer(clientOf(options.kafka), { name: `processor ${options.groupId}`, health });
      // Connects while the consumer joins, to the group's coordinator too (a connection of its
      // own: TLS and SASL, ~0.2 s here), which reading the committed offsets after the fence
      // would otherwise wait for. A failure here is retried at the first use.
      adminClient()
        .then((a) => a.fetchOffsets({ groupId: options.groupId, topics: [] }))
        .catch(() => {});
      await runConsumer();
      await joined;
    },
    async stop() {
      state = 'stopped';
      reason = 'stopped';
      cancelRestart?.();
      unregister?.();
      stopping = true;
      for (const wake of [...wakers]) wake();
      await consumer?.disconnect();
      await Promise.all([...producers.values()].map((p) => p.then((pr) => pr.disconnect()).catch(() => {})));
      producers.clear();
      await admin?.then((a) => a.disconnect()).catch(() => {});
      admin = undefined;
    },
  };
}
