// Child process of bench/client.ts: one measurement on one Kafka client, in a process of its own,
// so that @li/bus's kafkajs replacements are loaded only where they are measured and the
// process's CPU time is that client's (both libraries are loaded, only one runs). Reads { client, kind, security,
// options } as JSON on stdin (the SASL password stays off the command line and the environment),
// prints the result as JSON on stdout.
//
// Topics are made and the transactional input is filled with the process's kafkajs in every case:
// only the measured phase uses the client under test.
import { randomBytes } from 'node:crypto';
import { text } from 'node:stream/consumers';
import {
  Consumer as PltConsumer,
  type Message as PltMessage,
  Producer as PltProducer,
  ProduceAcks,
} from '@platformatic/kafka';
import { type Admin, Kafka, type KafkaConfig, logLevel, Partitioners } from 'kafkajs';
import { waitUntil, within } from './deadline.ts';
import { runReference } from './reference-run.ts';
import { cpuMeter } from './report.ts';

/** kafkajs as shipped, kafkajs with the @li/bus replacements loaded, or @platformatic/kafka. */
export type ClientUnderTest = 'kafkajs' | 'patched' | 'platformatic';
export type Security = Pick<KafkaConfig, 'ssl' | 'sasl'>;

export interface RunOptions {
  brokers: string[];
  records: number;
  recordBytes: number;
  /** Records per produce request (raw) and per input request (the transactional input). */
  batchSize: number;
  /** Most records in one transaction (platformatic; kafkajs's batches are its fetches). */
  txnBatchMax: number;
  timeoutMs: number;
  /** Whether the transactional input starts with an aborted transaction of batchSize records. */
  abortedPrefix: boolean;
  /** First retry delay of @platformatic/kafka's transactional producer. */
  pltRetryMs: number;
}

export interface RawResult {
  records: number;
  produceRecordsPerSec: number;
  pipelineRecordsPerSec: number;
  recordsPerCpuSec: number;
}

export interface TxnResult {
  records: number;
  batches: number;
  batchesPerSec: number;
  recordsPerSec: number;
  recordsPerCpuSec: number;
  /** Wall time of one transaction: begin → sends → offsets → commit resolved. */
  txnMsMean: number;
  txnMsP50: number;
  txnMsP99: number;
  /** The input offset the group committed through the transactions (must equal records). */
  committedOffset: string;
  /** The input's end offset: the committed offset equals it only if the aborted records were skipped. */
  endOffset?: string;
  /** @platformatic/kafka: retries of the producer by operation and error. */
  retried?: Record<string, number>;
}

const input = JSON.parse(await text(process.stdin)) as {
  client: ClientUnderTest;
  kind: 'raw' | 'txn';
  security: Security;
  options: RunOptions;
};
const { client, kind, security, options } = input;
// 'patched': bench/client.ts starts this process with --import @li/bus, whose kafkajs
// replacements must load before kafkajs does (this module imports kafkajs).

const kafka = new Kafka({ clientId: 'bench-client', brokers: options.brokers, ...security, logLevel: logLevel.ERROR });

/** The same TLS and SCRAM settings in @platformatic/kafka's terms. */
function pltConnection() {
  const ssl = security.ssl;
  const sasl = security.sasl as { mechanism: string; username: string; password: string } | undefined;
  return {
    bootstrapBrokers: options.brokers,
    ...(ssl ? { tls: typeof ssl === 'object' ? ssl : {} } : {}),
    ...(sasl
      ? {
          sasl: {
            mechanism: sasl.mechanism.toUpperCase() as 'SCRAM-SHA-512' | 'SCRAM-SHA-256' | 'PLAIN',
            username: sasl.username,
            password: sasl.password,
          },
        }
      : {}),
  };
}

async function makeTopics(admin: Admin, topics: string[]): Promise<void> {
  await admin.createTopics({ topics: topics.map((topic) => ({ topic, numPartitions: 1 })), waitForLeaders: true });
}

async function rawPlatformatic(): Promise<RawResult> {
  const { records, recordBytes, batchSize, timeoutMs } = options;
  const topic = `bench.client.${randomBytes(4).toString('hex')}`;
  const admin = kafka.admin();
  await admin.connect();
  await makeTopics(admin, [topic]);
  const consumer = new PltConsumer({
    clientId: 'bench-client',
    groupId: `${topic}.g`,
    ...pltConnection(),
    maxBytesPerPartition: 8 * 1024 * 1024,
    maxBytes: 32 * 1024 * 1024,
  });
  const stream = await within(
    `consumer group ${topic}.g to join`,
    timeoutMs,
    consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false }),
  );
  const state = { received: 0, firstAt: 0, lastAt: 0 };
  stream.on('data', () => {
    if (state.received === 0) state.firstAt = performance.now();
    state.received++;
    if (state.received === records) state.lastAt = performance.now();
  });
  const producer = new PltProducer({ clientId: 'bench-client', ...pltConnection(), acks: ProduceAcks.ALL });
  const value = randomBytes(recordBytes);
  const cpu = cpuMeter();
  const started = performance.now();
  for (let sent = 0; sent < records; sent += batchSize) {
    const n = Math.min(batchSize, records - sent);
    await producer.send({
      messages: Array.from({ length: n }, (_, i) => ({ topic, key: Buffer.from(String(sent + i)), value })),
    });
  }
  const produced = performance.now();
  await waitUntil(
    `@platformatic/kafka's consumer to read ${records} records of ${topic}`,
    () => state.lastAt > 0 || `${state.received} consumed`,
    { timeoutMs, intervalMs: 5 },
  );
  const cpuSec = cpu.seconds();
  await producer.close();
  await stream.close();
  await consumer.close();
  await admin.deleteTopics({ topics: [topic] }).catch(() => {});
  await admin.disconnect();
  return {
    records,
    produceRecordsPerSec: records / ((produced - started) / 1000),
    pipelineRecordsPerSec: records / ((state.lastAt - started) / 1000),
    recordsPerCpuSec: records / cpuSec,
  };
}

async function abortedTransaction(topic: string, value: Buffer): Promise<void> {
  const aborting = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    transactionalId: `${topic}.fill`,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await aborting.connect();
  const txn = await aborting.transaction();
  await txn.send({
    topic,
    acks: -1,
    messages: Array.from({ length: options.batchSize }, (_, i) => ({ key: `aborted-${i}`, value })),
  });
  await txn.abort();
  await aborting.disconnect();
}

/**
 * The input, written by kafkajs before anything is measured: first an aborted transaction of
 * batchSize records (a read_committed consumer must skip them: had the loop read them, it would
 * stop short and the group's offset would not reach the end), then `records` records in requests
 * of batchSize. Returns the end offset the loop's commits must reach.
 */
async function fillInput(admin: Admin, topic: string): Promise<string> {
  const value = randomBytes(options.recordBytes);
  if (options.abortedPrefix) await abortedTransaction(topic, value);
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  for (let sent = 0; sent < options.records; sent += options.batchSize) {
    const n = Math.min(options.batchSize, options.records - sent);
    await producer.send({
      topic,
      acks: -1,
      messages: Array.from({ length: n }, (_, i) => ({ key: String(sent + i), value })),
    });
  }
  await producer.disconnect();
  const [end] = await admin.fetchTopicOffsets(topic);
  return end?.high ?? 'none';
}

/** Timing of the transactions of one run; the CPU meter starts with the first. */
function txnClock() {
  const times: number[] = [];
  let first = 0;
  let last = 0;
  let cpu: { seconds(): number } | undefined;
  let cpuSec = 0;
  let records = 0;
  return {
    begin(): number {
      if (!cpu) {
        cpu = cpuMeter();
        first = performance.now();
      }
      return performance.now();
    },
    end(began: number, n: number): void {
      last = performance.now();
      times.push(last - began);
      records += n;
      cpuSec = cpu?.seconds() ?? 0;
    },
    get records() {
      return records;
    },
    get batches() {
      return times.length;
    },
    result(committedOffset: string): TxnResult {
      const sorted = [...times].sort((a, b) => a - b);
      const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
      const sec = (last - first) / 1000;
      return {
        records,
        batches: times.length,
        batchesPerSec: times.length / sec,
        recordsPerSec: records / sec,
        recordsPerCpuSec: records / cpuSec,
        txnMsMean: times.reduce((a, b) => a + b, 0) / Math.max(1, times.length),
        txnMsP50: at(0.5),
        txnMsP99: at(0.99),
        committedOffset,
      };
    },
  };
}

async function committedOffset(admin: Admin, groupId: string, topic: string): Promise<string> {
  const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return t?.partitions[0]?.offset ?? 'none';
}

/** processor.ts's loop on kafkajs: per fetched batch, one transaction with the outputs and the offset. */
async function txnKafkajs(admin: Admin, inTopic: string, outTopic: string): Promise<TxnResult> {
  const groupId = `${inTopic}.g`;
  const clock = txnClock();
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
    retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 20, maxRetryTime: 5_000 },
    transactionalId: `${inTopic}.txn`,
    transactionTimeout: 60_000,
  });
  await producer.connect();
  // As processor.ts on assignment: an empty transaction initialises the producer id and fences.
  await (await producer.transaction()).abort();
  const consumer = kafka.consumer({ groupId, readUncommitted: false });
  await consumer.connect();
  await consumer.subscribe({ topics: [inTopic], fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      if (batch.isEmpty()) return;
      const began = clock.begin();
      const txn = await producer.transaction();
      await txn.send({
        topic: outTopic,
        acks: -1,
        messages: batch.messages.map((m) => ({ key: m.key, value: m.value })),
      });
      await txn.sendOffsets({
        consumerGroupId: groupId,
        topics: [
          {
            topic: batch.topic,
            partitions: [{ partition: batch.partition, offset: (BigInt(batch.lastOffset()) + 1n).toString() }],
          },
        ],
      });
      await txn.commit();
      clock.end(began, batch.messages.length);
    },
  });
  await waitUntil(
    `kafkajs's transactional loop to commit ${options.records} records of ${inTopic}`,
    () => clock.records >= options.records || `${clock.records} committed`,
    { timeoutMs: options.timeoutMs, intervalMs: 5 },
  );
  await consumer.disconnect();
  await producer.disconnect();
  return clock.result(await committedOffset(admin, groupId, inTopic));
}

/** The same loop on @platformatic/kafka: its consumer is a stream of messages, read in batches. */
async function txnPlatformatic(admin: Admin, inTopic: string, outTopic: string): Promise<TxnResult> {
  const groupId = `${inTopic}.g`;
  const clock = txnClock();
  const retried: Record<string, number> = {};
  const producer = new PltProducer({
    clientId: 'bench-client',
    ...pltConnection(),
    idempotent: true,
    transactionalId: `${inTopic}.txn`,
    acks: ProduceAcks.ALL,
    // As processor.ts's kafkajs producer: a transaction that follows a commit closely finds the
    // coordinator still writing the markers (CONCURRENT_TRANSACTIONS) and is retried after 20 ms,
    // doubling up to 5 s. The library's default is 3 retries 1 000 ms apart (BENCH_PLT_RETRY_MS).
    retries: 30,
    retryDelay: (_client, op, attempt, _retries, error) => {
      const why = (error as { errors?: { apiId?: string }[] }).errors?.[0]?.apiId ?? error.message;
      retried[`${op}: ${why}`] = (retried[`${op}: ${why}`] ?? 0) + 1;
      return Math.min(5_000, options.pltRetryMs * 2 ** Math.max(0, attempt - 1));
    },
  });
  // beginTransaction's InitProducerId fences; an abort of the empty transaction is refused by the
  // broker (EndTxn: INVALID_TXN_STATE, the client sends it anyway), so it is cancelled locally.
  await (await producer.beginTransaction()).cancel();
  // Fetches of 1 MiB, as the processor's kafkajs consumer (maxBytesPerPartition).
  const consumer = new PltConsumer({
    clientId: 'bench-client',
    groupId,
    ...pltConnection(),
    maxBytes: 1024 * 1024,
    maxBytesPerPartition: 1024 * 1024,
  });
  const stream = await within(
    `consumer group ${groupId} to join`,
    options.timeoutMs,
    consumer.consume({ topics: [inTopic], mode: 'earliest', autocommit: false }),
  );
  // The stream's messages in flowing mode, paused while 4 batches wait. (Read with read() and
  // 'readable' instead, the stream stopped fetching after a few batches: docs/PERFORMANCE.md.)
  const buffered: PltMessage[] = [];
  let wake: (() => void) | undefined;
  let streamError: Error | undefined;
  stream.on('error', (err: Error) => {
    streamError = err;
    wake?.();
  });
  stream.on('data', (m: PltMessage) => {
    buffered.push(m);
    if (buffered.length >= 4 * options.txnBatchMax) stream.pause();
    wake?.();
  });
  // What has arrived, up to txnBatchMax records; waits only when nothing has.
  async function nextBatch(): Promise<PltMessage[]> {
    while (buffered.length === 0) {
      if (streamError) throw streamError;
      await new Promise<void>((r) => {
        wake = r;
      });
    }
    const batch = buffered.splice(0, options.txnBatchMax);
    if (stream.isPaused() && buffered.length < options.txnBatchMax) stream.resume();
    return batch;
  }
  // Where the loop is, for the deadline's message.
  let step = 'starting';
  let last = 'none';
  let failed: Error | undefined;
  const loop = (async () => {
    while (clock.records < options.records) {
      step = 'waiting for records';
      const batch = await nextBatch();
      const began = clock.begin();
      step = `beginTransaction (batch of ${batch.length}, offsets ${batch[0]?.offset}–${batch[batch.length - 1]?.offset})`;
      const txn = await producer.beginTransaction();
      step = 'send';
      await txn.send({ messages: batch.map((m) => ({ topic: outTopic, key: m.key, value: m.value })) });
      step = 'addConsumer';
      await txn.addConsumer(consumer);
      step = 'addOffset';
      await txn.addOffset(batch[batch.length - 1] as PltMessage);
      step = 'commit';
      await txn.commit();
      clock.end(began, batch.length);
      last = `offsets ${batch[0]?.offset}–${batch[batch.length - 1]?.offset}`;
    }
  })().catch((err: Error) => {
    failed = err;
  });
  await waitUntil(
    `@platformatic/kafka's transactional loop to commit ${options.records} records`,
    () => {
      // A failure ends the wait: it is thrown below with the client's own error.
      if (failed || clock.records >= options.records) return true;
      return `${clock.records} committed in ${clock.batches} transactions; last: ${last}; now: ${step}; ${buffered.length} records wait, the stream holds ${stream.readableLength}, ${stream.isActive() ? 'active' : 'inactive'}, ${stream.isConnected() ? 'connected' : 'not connected'}`;
    },
    { timeoutMs: options.timeoutMs, intervalMs: 5 },
  );
  await loop;
  if (failed) throw failed;
  await stream.close();
  await consumer.close();
  await producer.close();
  return { ...clock.result(await committedOffset(admin, groupId, inTopic)), retried };
}

async function txn(): Promise<TxnResult> {
  const id = randomBytes(4).toString('hex');
  const inTopic = `bench.client.in.${id}`;
  const outTopic = `bench.client.out.${id}`;
  const admin = kafka.admin();
  await admin.connect();
  await makeTopics(admin, [inTopic, outTopic]);
  const endOffset = await fillInput(admin, inTopic);
  const result =
    client === 'platformatic'
      ? await txnPlatformatic(admin, inTopic, outTopic)
      : await txnKafkajs(admin, inTopic, outTopic);
  await admin.deleteTopics({ topics: [inTopic, outTopic] }).catch(() => {});
  await admin.disconnect();
  return { ...result, endOffset };
}

let result: RawResult | TxnResult;
if (kind === 'txn') result = await txn();
else if (client === 'platformatic') result = await rawPlatformatic();
else result = await runReference(security, options);
console.log(JSON.stringify(result));
process.exit(0);
