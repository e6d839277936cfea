// The reference every benchmark prints its ratio against: raw kafkajs produce→consume
// throughput of 1 KiB records on the same broker, measured in the same run.
import { randomBytes } from 'node:crypto';
import { kafkaSecurityOptions } from '@li/bus';
import { testInfra } from '@li/testing';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { waitUntil, within } from './deadline.ts';

export interface BusReference {
  records: number;
  recordBytes: number;
  produceRecordsPerSec: number;
  consumeRecordsPerSec: number;
  /** Records/s from the first send until the consumer has the last record. */
  pipelineRecordsPerSec: number;
  pipelineMBPerSec: number;
}

export interface BusReferenceOptions {
  brokers?: string[];
  records?: number;
  recordBytes?: number;
  batchSize?: number;
  /** Deadline of each wait (group join, consuming every record); default 120 s. */
  timeoutMs?: number;
}

export async function measureBusReference(options: BusReferenceOptions = {}): Promise<BusReference> {
  const brokers = options.brokers ?? (process.env.LI_KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
  const records = options.records ?? 100_000;
  const recordBytes = options.recordBytes ?? 1024;
  const batchSize = options.batchSize ?? 1000;
  const timeoutMs = options.timeoutMs ?? 120_000;
  // The same TLS and SCRAM as the services: the reference pays what they pay.
  const kafka = new Kafka({
    clientId: 'bench-bus',
    brokers,
    ...kafkaSecurityOptions(testInfra().security),
    logLevel: logLevel.ERROR,
  });
  const topic = `bench.bus.${randomBytes(4).toString('hex')}`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });

  const consumer = kafka.consumer({
    groupId: `${topic}.g`,
    maxBytesPerPartition: 8 * 1024 * 1024,
    maxBytes: 32 * 1024 * 1024,
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let consumed = 0;
  let firstConsumedAt = 0;
  let lastConsumedAt = 0;
  const joined = new Promise<void>((r) => {
    const remove = consumer.on(consumer.events.GROUP_JOIN, () => {
      remove();
      r();
    });
  });
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      if (consumed === 0) firstConsumedAt = performance.now();
      consumed += batch.messages.length;
      if (consumed >= records && lastConsumedAt === 0) lastConsumedAt = performance.now();
    },
  });
  await within(`the reference consumer to join group ${topic}.g`, timeoutMs, joined);

  const producer = kafka.producer({
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  const value = randomBytes(recordBytes);
  const started = performance.now();
  for (let sent = 0; sent < records; sent += batchSize) {
    const n = Math.min(batchSize, records - sent);
    await producer.send({
      topic,
      acks: -1,
      messages: Array.from({ length: n }, (_, i) => ({ key: String(sent + i), value })),
    });
  }
  const produced = performance.now();
  await waitUntil(
    `the reference consumer to read ${records} records of ${topic}`,
    () => lastConsumedAt > 0 || `${consumed} consumed`,
    {
      timeoutMs,
      intervalMs: 5,
    },
  );

  await producer.disconnect();
  await consumer.disconnect();
  await admin.deleteTopics({ topics: [topic] }).catch(() => {});
  await admin.disconnect();

  const pipelineSec = (lastConsumedAt - started) / 1000;
  return {
    records,
    recordBytes,
    produceRecordsPerSec: records / ((produced - started) / 1000),
    consumeRecordsPerSec: records / Math.max(1e-6, (lastConsumedAt - firstConsumedAt) / 1000),
    pipelineRecordsPerSec: records / pipelineSec,
    pipelineMBPerSec: (records * recordBytes) / pipelineSec / (1024 * 1024),
  };
}
