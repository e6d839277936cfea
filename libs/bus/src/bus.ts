// The bus: one Kafka client, an idempotent producer, topic administration and codecs.
// Services depend on this small surface, not on kafkajs, so the client can be replaced.

// Before kafkajs loads: its producer's grouping without the n² copies and its record encoding
// without a buffer per header (both must precede kafkajs's producer modules); before any client
// connects: coordinators looked up once a second, not per request, and kafkajs's request queue
// without its negative-timeout loop; its protocol encoder grows without zero-filling and
// frames a request with one copy of the payload; an uncompressed produce request is laid out in
// one buffer. Every package entry (index.ts) loads this module, so every
// kafkajs client of the process has them.
import './kafkajs-encoder-growth.ts';
import './kafkajs-records.ts';
import './kafkajs-produce-request.ts';
import './kafkajs-producer-batching.ts';
import './kafkajs-coordinator-cache.ts';
import './kafkajs-request-queue.ts';

import type { Logger } from '@li/log';
import { type Stream, SYSTEM_TOPICS, type SystemTopic } from '@li/records';
import type { SchemaName } from '@li/schemas';
import { type Admin, type IHeaders, Kafka, logLevel, type Producer } from 'kafkajs';
import { type Codec, type CodecOptions, createCodec } from './codec.ts';
import { consumersOf, type HealthSource } from './consumer-health.ts';
import { BusSendError } from './errors.ts';
import { kafkaLogCreator } from './kafka-log.ts';
import { fastDefaultPartitioner } from './kafkajs-producer-batching.ts';
import { httpRegistryApi, SchemaCache } from './schema-registry.ts';
import { type KafkaSecurity, kafkaSecurityOptions } from './security.ts';
import { SINGLE_PARTITION_LAYOUT, type TopicLayout } from './topic-layout.ts';
import { topicConfig, topicName } from './topics.ts';

export interface BusConfig {
  brokers: string[];
  registryUrl: string;
  clientId: string;
  /** TLS and SASL; absent: plaintext, unauthenticated (only for a broker that allows it). */
  security?: KafkaSecurity;
  /** Partitions and replicas of the topics ensureTopics creates; absent: one partition each. */
  topics?: TopicLayout;
}

export interface OutputRecord {
  topic: string;
  key: string | null;
  value: Buffer | null;
  headers?: Record<string, string>;
}

/**
 * Settings every idempotent or transactional producer shares: the murmur2 partitioner of the
 * Java client (same key, same partition as other clients), and retries without limit, as
 * exactly-once delivery requires: a send waits for Kafka to come back rather than fail.
 */
export const EXACTLY_ONCE_PRODUCER = {
  idempotent: true,
  maxInFlightRequests: 1,
  allowAutoTopicCreation: false,
  createPartitioner: fastDefaultPartitioner,
  retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 200, maxRetryTime: 5_000 },
} as const;

export interface Bus {
  readonly kafka: Kafka;
  readonly log: Logger;
  /** What the bus is waiting for now (the schema registry, while a codec waits for it), or undefined. */
  waitingFor(): string | undefined;
  /**
   * Creates the tenant's topics for these streams if they do not exist, with their settings and
   * the configured partitions (or `partitions` for every one). An existing topic is left as it
   * is; one with fewer partitions than configured is logged (growing it is an operator's step).
   */
  ensureTopics(tenant: string, streams: readonly Stream[], partitions?: number): Promise<void>;
  /**
   * Creates the compacted system topics (tenant registry, global states) if missing: all of them,
   * or only those named (a service may create only the topics its ACLs allow).
   */
  ensureSystemTopics(only?: readonly SystemTopic[]): Promise<void>;
  /**
   * The codec for a topic, registering its schema on first use (waiting while the registry is
   * unreachable); later calls and every record use the cached schema id. With `readFields`, T is
   * the type of those fields (e.g. a `Pick` of the record's type).
   */
  codec<T>(topic: string, schemaName: SchemaName, options?: CodecOptions): Promise<Codec<T>>;
  /** The codecs of one stream for several tenants, keyed by topic name. */
  codecsFor<T>(
    tenants: readonly string[],
    stream: Stream,
    schemaName: SchemaName,
    options?: CodecOptions,
  ): Promise<Map<string, Codec<T>>>;
  /**
   * Sends through the shared idempotent producer; resolves once all replicas acknowledged. A send
   * that fails for good rejects with BusSendError, which says how many of the first records were
   * acknowledged: send only the rest again, or those are written twice (issue 14).
   */
  send(records: OutputRecord[]): Promise<void>;
  admin(): Promise<Admin>;
  /** The processors and tails running on this bus's client, for the service's probes. */
  consumers(): HealthSource[];
  close(): Promise<void>;
}

/** Groups records per topic, the shape kafkajs sends. */
export function byTopic(
  records: OutputRecord[],
): { topic: string; messages: { key: string | null; value: Buffer | null; headers?: IHeaders }[] }[] {
  const groups = new Map<string, { key: string | null; value: Buffer | null; headers?: IHeaders }[]>();
  for (const r of records) {
    let list = groups.get(r.topic);
    if (!list) {
      list = [];
      groups.set(r.topic, list);
    }
    list.push(r.headers ? { key: r.key, value: r.value, headers: r.headers } : { key: r.key, value: r.value });
  }
  return [...groups].map(([topic, messages]) => ({ topic, messages }));
}

/**
 * Bytes of records per topic in one produce request. kafkajs puts all of a request's records for
 * one partition in one record batch, and the broker refuses a batch above message.max.bytes
 * (1 MiB by default) with MESSAGE_TOO_LARGE, which no retry cures: larger sends go out in
 * several requests, in order (inside a transaction they still commit or abort together). A
 * partition's records are some of its topic's, so a bound per topic bounds every batch, and
 * records for several topics (an encoder's HI2, HI3 and state) share one request.
 */
const MAX_REQUEST_BYTES = 512 * 1024;

/** Splits records, in order, into runs with at most maxBytes per topic (a larger single record goes alone). */
export function requestChunks(records: OutputRecord[], maxBytes = MAX_REQUEST_BYTES): OutputRecord[][] {
  const chunks: OutputRecord[][] = [];
  let current: OutputRecord[] = [];
  let sizes = new Map<string, number>();
  for (const r of records) {
    let n = (r.value?.length ?? 0) + (r.key?.length ?? 0) + 64;
    const headers = r.headers;
    if (headers) for (const k in headers) n += k.length + String(headers[k]).length;
    const size = sizes.get(r.topic) ?? 0;
    if (current.length > 0 && size + n > maxBytes) {
      chunks.push(current);
      current = [];
      sizes = new Map();
    }
    current.push(r);
    sizes.set(r.topic, (sizes.get(r.topic) ?? 0) + n);
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * Sends records in request chunks, one after another; a failure rejects with BusSendError
 * carrying the number of records of the chunks acknowledged before it.
 */
export async function sendChunks(
  producer: Pick<Producer, 'sendBatch'>,
  records: OutputRecord[],
  maxBytes = MAX_REQUEST_BYTES,
): Promise<void> {
  let acknowledged = 0;
  for (const chunk of requestChunks(records, maxBytes)) {
    try {
      await producer.sendBatch({ topicMessages: byTopic(chunk), acks: -1 });
    } catch (err) {
      throw new BusSendError(acknowledged, records.length, err);
    }
    acknowledged += chunk.length;
  }
}

/**
 * Waits until the broker serves every partition of `topics`. Services start together and create
 * the same topics: a topic another service has just created may not be served yet ("not the
 * leader for that topic-partition"), and kafkajs's own createTopics wait gives up on
 * UNKNOWN_TOPIC_OR_PARTITION, so ensureTopics creates without it and waits here.
 */
async function waitForLeaders(admin: Admin, topics: string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      // Listing offsets asks each partition's leader: metadata alone can name a leader too early.
      await Promise.all(topics.map((topic) => admin.fetchTopicOffsets(topic)));
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function createBus(config: BusConfig, log: Logger): Promise<Bus> {
  const kafka = new Kafka({
    clientId: config.clientId,
    brokers: config.brokers,
    ...kafkaSecurityOptions(config.security),
    logLevel: logLevel.WARN,
    logCreator: kafkaLogCreator(log.child({ component: 'bus' })),
    retry: { initialRetryTime: 200, retries: 8 },
  });
  const registryLog = log.child({ component: 'schema-registry' });
  const schemas = new SchemaCache(httpRegistryApi(config.registryUrl), {
    onUnavailable: (reason) => registryLog.warn({ reason }, 'schema registry unreachable; waiting for it'),
    onAvailable: (durationMs) => registryLog.info({ durationMs }, 'schema registry reachable again'),
  });
  const codecs = new Map<string, Promise<Codec<unknown>>>();
  let producer: Producer | undefined;
  let admin: Admin | undefined;
  const layout = config.topics ?? SINGLE_PARTITION_LAYOUT;
  const warnedSmall = new Set<string>();

  async function getAdmin(): Promise<Admin> {
    if (!admin) {
      admin = kafka.admin();
      await admin.connect();
    }
    return admin;
  }

  function getCodec<T>(topic: string, schemaName: SchemaName, options: CodecOptions = {}): Promise<Codec<T>> {
    const key = `${topic}\0${schemaName}\0${options.readFields?.join(',') ?? '*'}`;
    let c = codecs.get(key);
    if (!c) {
      c = createCodec<unknown>(schemas, topic, schemaName, options);
      codecs.set(key, c);
      c.catch(() => codecs.delete(key));
    }
    return c as Promise<Codec<T>>;
  }

  return {
    kafka,
    log,
    waitingFor: () => schemas.waiting(),
    async ensureTopics(tenant, streams, partitions) {
      const a = await getAdmin();
      const existing = new Set(await a.listTopics());
      const wanted = streams.map((stream) => ({
        topic: topicName(tenant, stream),
        stream,
        numPartitions: partitions ?? layout.partitions(tenant, stream),
      }));
      const topics = wanted
        .filter(({ topic }) => !existing.has(topic))
        .map(({ topic, stream, numPartitions }) => ({
          topic,
          numPartitions,
          replicationFactor: layout.replicationFactor,
          configEntries: [
            ...topicConfig(stream),
            ...(layout.minInsyncReplicas > 0
              ? [{ name: 'min.insync.replicas', value: String(layout.minInsyncReplicas) }]
              : []),
          ],
        }));
      if (topics.length > 0) await a.createTopics({ topics, waitForLeaders: false });
      await waitForLeaders(
        a,
        wanted.map((w) => w.topic),
      );
      const older = wanted.filter((w) => existing.has(w.topic) && !warnedSmall.has(w.topic));
      if (older.length > 0) {
        const { topics: meta } = await a.fetchTopicMetadata({ topics: older.map((w) => w.topic) });
        for (const w of older) {
          const have = meta.find((m) => m.name === w.topic)?.partitions.length ?? w.numPartitions;
          if (have >= w.numPartitions) continue;
          warnedSmall.add(w.topic);
          log.warn(
            { topic: w.topic, count: have, reason: `${w.numPartitions} configured` },
            'topic has fewer partitions (count) than configured; it is not grown automatically (docs/ARCHITECTURE.md, Partitions and keys)',
          );
        }
      }
    },
    async ensureSystemTopics(only = Object.values(SYSTEM_TOPICS)) {
      const a = await getAdmin();
      const existing = new Set(await a.listTopics());
      const topics = only
        .filter((topic) => !existing.has(topic))
        .map((topic) => ({ topic, numPartitions: 1, configEntries: topicConfig('warrants') }));
      if (topics.length > 0) await a.createTopics({ topics, waitForLeaders: false });
      await waitForLeaders(a, [...only]);
    },
    codec: getCodec,
    async codecsFor<T>(tenants: readonly string[], stream: Stream, schemaName: SchemaName, options?: CodecOptions) {
      const entries = await Promise.all(
        tenants.map(
          async (t) => [topicName(t, stream), await getCodec<T>(topicName(t, stream), schemaName, options)] as const,
        ),
      );
      return new Map(entries);
    },
    async send(records) {
      if (records.length === 0) return;
      if (!producer) {
        // Idempotent: a retried send never writes a record twice. One request in flight keeps
        // the order of a partition's records across retries.
        const p = kafka.producer(EXACTLY_ONCE_PRODUCER);
        await p.connect();
        producer = p;
      }
      try {
        await sendChunks(producer, records);
      } catch (err) {
        // A send that fails for good (e.g. SASL refused while a broker restarts) leaves kafkajs's
        // producer disconnected, and it never reconnects by itself: the next send starts a new one.
        const failed = producer;
        producer = undefined;
        await failed.disconnect().catch(() => {});
        throw err;
      }
    },
    admin: getAdmin,
    consumers: () => consumersOf(kafka),
    async close() {
      schemas.close();
      await producer?.disconnect();
      await admin?.disconnect();
    },
  };
}
