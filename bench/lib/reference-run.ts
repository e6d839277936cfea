// The reference's measurement itself, with nothing of ours loaded: only kafkajs and the bench's
// own helpers, so that raw-reference.ts can run it on kafkajs as shipped (@li/bus replaces a few
// kafkajs internals when it loads: kafkajs-records.ts, kafkajs-producer-batching.ts).
import { randomBytes } from 'node:crypto';
import { Kafka, type KafkaConfig, logLevel, Partitioners } from 'kafkajs';
import { countingConsumer } from './counting-consumer.ts';
import { waitUntil } from './deadline.ts';
import { cpuMeter } from './report.ts';

export interface BusReference {
  records: number;
  recordBytes: number;
  produceRecordsPerSec: number;
  consumeRecordsPerSec: number;
  /** Records/s from the first send until the consumer has the last record. */
  pipelineRecordsPerSec: number;
  pipelineMBPerSec: number;
  /**
   * Records per second of this process's CPU time (user + system) from the first send to the
   * last record read: unlike the rates, barely moved by other work on the machine.
   */
  recordsPerCpuSec: number;
}

export interface BusReferenceOptions {
  brokers?: string[];
  records?: number;
  recordBytes?: number;
  batchSize?: number;
  /** Deadline of each wait (group join, consuming every record); default 120 s. */
  timeoutMs?: number;
}

export async function runReference(
  security: Pick<KafkaConfig, 'ssl' | 'sasl'>,
  options: BusReferenceOptions = {},
): Promise<BusReference> {
  const brokers = options.brokers ?? (process.env.LI_KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
  const records = options.records ?? 100_000;
  const recordBytes = options.recordBytes ?? 1024;
  const batchSize = options.batchSize ?? 1000;
  const timeoutMs = options.timeoutMs ?? 120_000;
  const kafka = new Kafka({ clientId: 'bench-bus', brokers, ...security, logLevel: logLevel.ERROR });
  const topic = `bench.bus.${randomBytes(4).toString('hex')}`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });

  const out = await countingConsumer(kafka, {
    groupId: `${topic}.g`,
    topics: [topic],
    expected: records,
    joinTimeoutMs: timeoutMs,
  });

  const producer = kafka.producer({
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  const value = randomBytes(recordBytes);
  const cpu = cpuMeter();
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
    () => out.lastAt > 0 || `${out.received} consumed`,
    {
      timeoutMs,
      intervalMs: 5,
    },
  );

  const cpuSec = cpu.seconds();
  await producer.disconnect();
  await out.disconnect();
  await admin.deleteTopics({ topics: [topic] }).catch(() => {});
  await admin.disconnect();

  const pipelineSec = (out.lastAt - started) / 1000;
  return {
    records,
    recordBytes,
    produceRecordsPerSec: records / ((produced - started) / 1000),
    consumeRecordsPerSec: records / Math.max(1e-6, (out.lastAt - out.firstAt) / 1000),
    pipelineRecordsPerSec: records / pipelineSec,
    pipelineMBPerSec: (records * recordBytes) / pipelineSec / (1024 * 1024),
    recordsPerCpuSec: records / cpuSec,
  };
}
