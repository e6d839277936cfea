// The bus against the real local broker and schema registry (npm run infra:up).

import type { NormalizedEvent } from '@li/schemas';
import { sampleEvent } from '@li/schemas/testing';
import { memoryLogger, testInfra, uniqueTenant, waitFor } from '@li/testing';
import { type Kafka, KafkaJSConnectionError, type Producer, type ProducerConfig, type Transaction } from 'kafkajs';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Bus, createBus, createProcessor, isBusError, readTopic, topicName } from '../src/index.ts';

const { log } = memoryLogger();
let bus: Bus;

beforeAll(async () => {
  const infra = testInfra();
  bus = await createBus({ ...infra, clientId: 'bus-test' }, log);
});
afterAll(async () => {
  await bus?.close();
});

/**
 * The client, except that the first transaction commit of its producers throws a connection
 * error: after the commit completed on the broker (its answer lost), or before it was sent.
 */
function commitFailsOnce(kafka: Kafka, when: 'answer lost' | 'never sent', onFail: () => void): Kafka {
  let armed = true;
  const wrapTxn = (txn: Transaction): Transaction =>
    Object.assign(Object.create(txn) as Transaction, {
      commit: async () => {
        if (!armed) return txn.commit();
        armed = false;
        if (when === 'answer lost') await txn.commit();
        onFail();
        throw new KafkaJSConnectionError(`Connection error: simulated, the commit's ${when}`);
      },
    });
  const wrapProducer = (producer: Producer): Producer =>
    Object.assign(Object.create(producer) as Producer, {
      transaction: async () => wrapTxn(await producer.transaction()),
    });
  return Object.assign(Object.create(kafka) as Kafka, {
    producer: (config?: ProducerConfig) => wrapProducer(kafka.producer(config)),
  });
}

async function committedOffset(groupId: string, topic: string): Promise<string | undefined> {
  const admin = await bus.admin();
  const [t] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return t?.partitions[0]?.offset;
}

describe('bus on the real broker and registry', () => {
  it('produces and consumes Avro records registered in the schema registry', async () => {
    const tenant = uniqueTenant();
    await bus.ensureTopics(tenant, ['events']);
    const topic = topicName(tenant, 'events');
    const codec = await bus.codec<NormalizedEvent>(topic, 'NormalizedEvent');
    expect(codec.schemaId).toBeGreaterThan(0);
    const events = [sampleEvent({ tenant }), sampleEvent({ tenant, eventId: 'e2', action: 'sip.bye', content: null })];
    await bus.send(
      await Promise.all(events.map(async (e) => ({ topic, key: e.communicationId, value: await codec.encode(e) }))),
    );

    const records = await readTopic(bus.kafka, topic);
    expect(records).toHaveLength(2);
    expect(records[0]!.value!.readUInt8(0)).toBe(0); // registry framing: magic byte, then the schema id
    expect(records[0]!.value!.readUInt32BE(1)).toBe(codec.schemaId);
    const decoded = await Promise.all(records.map((r) => codec.decode(r.value)));
    expect(decoded).toEqual(events);

    // The schema is in the registry under the topic's value subject.
    const res = await fetch(`${testInfra().registryUrl}/subjects/${topic}-value/versions/latest`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { id: number }).id).toBe(codec.schemaId);
  });

  it('refuses a record that fails its schema, naming the bad fields, and writes nothing', async () => {
    const tenant = uniqueTenant();
    await bus.ensureTopics(tenant, ['events']);
    const topic = topicName(tenant, 'events');
    const codec = await bus.codec<NormalizedEvent>(topic, 'NormalizedEvent');
    const bad = { ...sampleEvent(), category: 'GOSSIP', occurredAtMicros: 'now' } as unknown as NormalizedEvent;
    let caught: unknown;
    try {
      await codec.encode(bad);
    } catch (err) {
      caught = err;
    }
    expect(isBusError(caught, 'BUS_ERR_SCHEMA')).toBe(true);
    expect((caught as Error).message).toBe('value does not match NormalizedEvent at: category, occurredAtMicros');
    expect(await readTopic(bus.kafka, topic)).toHaveLength(0);
  });

  it('refuses an invalid tenant id before touching Kafka', async () => {
    await expect(bus.ensureTopics('Evil.Tenant', ['events'])).rejects.toMatchObject({ code: 'BUS_ERR_TENANT' });
    await expect(bus.ensureTopics('a_b', ['events'])).rejects.toThrow(/invalid tenant id/);
  });

  it('an aborted consume-transform-produce leaves neither output nor a committed offset; the retry commits once', async () => {
    const tenant = uniqueTenant();
    await bus.ensureTopics(tenant, ['events', 'matched', 'dlq']);
    const input = topicName(tenant, 'events');
    const output = topicName(tenant, 'matched');
    const codec = await bus.codec<NormalizedEvent>(input, 'NormalizedEvent');
    const events = Array.from({ length: 5 }, (_, i) => sampleEvent({ tenant, eventId: `e${i}` }));
    await bus.send(
      await Promise.all(
        events.map(async (e) => ({ topic: input, key: e.communicationId, value: await codec.encode(e) })),
      ),
    );

    const groupId = `${tenant}.test-processor`;
    let failFirst = true;
    let abortedOutputsSent = false;
    const processor = createProcessor<NormalizedEvent>({
      kafka: bus.kafka,
      log,
      groupId,
      topics: [input],
      transactionalIdPrefix: groupId,
      decode: (b) => codec.decode(b),
      dlqTopic: () => topicName(tenant, 'dlq'),
      maxBackoffMs: 200,
      process: async (records) => ({
        outputs: records.map((r) => ({ topic: output, key: r.value.eventId, value: Buffer.from(r.value.eventId) })),
      }),
      onBeforeCommit: async () => {
        if (failFirst) {
          failFirst = false;
          // The outputs are in the log now, inside the open transaction.
          abortedOutputsSent = (await readTopic(bus.kafka, output, { readUncommitted: true })).length === 5;
          // Nothing was committed yet.
          expect(await committedOffset(groupId, input)).toBe('-1');
          throw new Error('simulated failure before commit');
        }
      },
    });
    await processor.start();
    try {
      await waitFor(() => processor.committedBatches >= 1, { what: 'the retried batch to commit' });
    } finally {
      await processor.stop();
    }
    expect(abortedOutputsSent).toBe(true);
    // read_committed: the aborted attempt's outputs are invisible, the retry's appear once.
    const committed = await readTopic(bus.kafka, output);
    expect(committed.map((r) => r.key)).toEqual(events.map((e) => e.eventId));
    // read_uncommitted still shows both attempts: the first really was written, then aborted.
    expect(await readTopic(bus.kafka, output, { readUncommitted: true })).toHaveLength(10);
    expect(await committedOffset(groupId, input)).toBe('5');
  });

  // 'answer lost': the broker committed, the client saw a connection error; the batch must not be
  // done again. 'never sent': nothing committed; the batch must be done once.
  it.each(['answer lost', 'never sent'] as const)(
    'a commit that fails with its %s: every output once',
    async (when) => {
      const tenant = uniqueTenant();
      await bus.ensureTopics(tenant, ['events', 'matched', 'dlq']);
      const input = topicName(tenant, 'events');
      const output = topicName(tenant, 'matched');
      const total = 20;
      await bus.send(
        Array.from({ length: total }, (_, i) => ({ topic: input, key: `k${i}`, value: Buffer.from(`r${i}`) })),
      );

      let failedCommits = 0;
      const client = { kafka: commitFailsOnce(bus.kafka, when, () => failedCommits++) };
      const groupId = `${tenant}.test-processor`;
      const committedOffsets: string[] = [];
      let committedCalls = 0;
      const processor = createProcessor<Buffer>({
        kafka: client,
        log,
        groupId,
        topics: [input],
        transactionalIdPrefix: groupId,
        decode: async (b) => b ?? Buffer.alloc(0),
        dlqTopic: () => topicName(tenant, 'dlq'),
        maxBackoffMs: 200,
        process: async (records) => ({
          outputs: records.map((r) => ({ topic: output, key: r.key, value: Buffer.from(r.offset) })),
        }),
        onCommitted: (_result, records) => {
          committedCalls++;
          committedOffsets.push(...records.map((r) => r.offset));
        },
      });
      await processor.start();
      try {
        await waitFor(async () => (await committedOffset(groupId, input)) === String(total), {
          what: 'every input to commit',
          timeoutMs: 30_000,
          intervalMs: 200,
        });
        await waitFor(() => committedOffsets.length >= total, { what: 'onCommitted for every input' });
      } finally {
        await processor.stop();
      }
      expect(failedCommits).toBe(1);
      const out = await readTopic(bus.kafka, output);
      expect(out.map((r) => r.value!.toString())).toEqual(Array.from({ length: total }, (_, i) => String(i)));
      expect(committedOffsets).toEqual(Array.from({ length: total }, (_, i) => String(i)));
      expect(processor.committedBatches).toBe(committedCalls);
    },
  );

  it('sends an undecodable record to the DLQ with its reason and processes the rest of the batch', async () => {
    const tenant = uniqueTenant();
    await bus.ensureTopics(tenant, ['events', 'matched', 'dlq']);
    const input = topicName(tenant, 'events');
    const codec = await bus.codec<NormalizedEvent>(input, 'NormalizedEvent');
    const good = sampleEvent({ tenant });
    await bus.send([
      { topic: input, key: 'k1', value: await codec.encode(good) },
      { topic: input, key: 'k2', value: Buffer.from('not avro at all') },
      { topic: input, key: 'k3', value: await codec.encode({ ...good, eventId: 'e3' }) },
    ]);
    const groupId = `${tenant}.test-processor`;
    const metrics = new Registry();
    const processor = createProcessor<NormalizedEvent>({
      metrics,
      kafka: bus.kafka,
      log,
      groupId,
      topics: [input],
      transactionalIdPrefix: groupId,
      decode: (b) => codec.decode(b),
      dlqTopic: () => topicName(tenant, 'dlq'),
      process: async (records) => ({
        outputs: records.map((r) => ({
          topic: topicName(tenant, 'matched'),
          key: r.key,
          value: Buffer.from(r.value.eventId),
        })),
      }),
    });
    await processor.start();
    try {
      await waitFor(() => processor.committedBatches >= 1, { what: 'the batch to commit' });
    } finally {
      await processor.stop();
    }
    const out = await readTopic(bus.kafka, topicName(tenant, 'matched'));
    expect(out.map((r) => r.key)).toEqual(['k1', 'k3']);
    const dlq = await readTopic(bus.kafka, topicName(tenant, 'dlq'));
    expect(dlq).toHaveLength(1);
    expect(dlq[0]!.value!.toString()).toBe('not avro at all');
    expect(dlq[0]!.headers).toMatchObject({
      'li.dlq.code': 'BUS_ERR_DECODE',
      'li.dlq.reason': 'not a registry-framed Avro NormalizedEvent record',
      'li.dlq.topic': input,
      'li.dlq.offset': '1',
    });
    expect(await committedOffset(groupId, input)).toBe('3');
    const counted = (await metrics.getSingleMetric('li_bus_dlq_records_total')?.get())?.values;
    expect(counted).toEqual([{ labels: { tenant, code: 'BUS_ERR_DECODE' }, value: 1 }]);
  });
  it('with minBytes, records that trickle in are taken in one batch (one transaction) per wait', async () => {
    const tenant = uniqueTenant();
    await bus.ensureTopics(tenant, ['events', 'dlq']);
    const input = topicName(tenant, 'events');
    const groupId = `${tenant}.test-processor`;
    const processor = createProcessor<Buffer>({
      kafka: bus.kafka,
      log,
      groupId,
      topics: [input],
      transactionalIdPrefix: groupId,
      decode: async (b) => b ?? Buffer.alloc(0),
      dlqTopic: () => topicName(tenant, 'dlq'),
      process: async () => ({ outputs: [] }),
      maxWaitTimeMs: 3_000,
      minBytes: 1024 * 1024,
    });
    await processor.start();
    try {
      // 20 records over about half a second, after the consumer joined and started fetching.
      for (let i = 0; i < 20; i++) {
        await bus.send([{ topic: input, key: 'k', value: Buffer.alloc(100, i) }]);
        await new Promise((r) => setTimeout(r, 20));
      }
      await waitFor(async () => (await committedOffset(groupId, input)) === '20', {
        what: 'every record to commit',
        timeoutMs: 30_000,
        intervalMs: 200,
      });
    } finally {
      await processor.stop();
    }
    // Without minBytes each fetch returns as soon as a record is there: about one batch each.
    expect(processor.committedBatches, 'batches for 20 records').toBeLessThanOrEqual(2);
  });

  it('commits a batch whose outputs exceed the broker’s 1 MiB record-batch limit', async () => {
    const tenant = uniqueTenant();
    await bus.ensureTopics(tenant, ['events', 'matched', 'dlq']);
    const input = topicName(tenant, 'events');
    // 3000 inputs of 1 KiB in a few fetches; each becomes a 2 KiB output on one partition.
    for (let i = 0; i < 3000; i += 500) {
      await bus.send(
        Array.from({ length: 500 }, (_, j) => ({ topic: input, key: 'same', value: Buffer.alloc(1024, i + j) })),
      );
    }
    const groupId = `${tenant}.test-processor`;
    const processor = createProcessor<Buffer>({
      kafka: bus.kafka,
      log,
      groupId,
      topics: [input],
      transactionalIdPrefix: groupId,
      decode: async (b) => b ?? Buffer.alloc(0),
      dlqTopic: () => topicName(tenant, 'dlq'),
      process: async (records) => ({
        outputs: records.map((r) => ({
          topic: topicName(tenant, 'matched'),
          key: 'same',
          value: Buffer.concat([r.value, r.value]),
        })),
      }),
    });
    await processor.start();
    try {
      await waitFor(async () => (await committedOffset(groupId, input)) === '3000', {
        what: 'every input to commit',
        timeoutMs: 30_000,
        intervalMs: 200,
      });
    } finally {
      await processor.stop();
    }
    expect(await readTopic(bus.kafka, topicName(tenant, 'matched'))).toHaveLength(3000);
  });
});

describe('schema registration', () => {
  it('lets many clients register the same subject at the same moment', async () => {
    const tenant = uniqueTenant();
    await bus.ensureTopics(tenant, ['lemfs']);
    const topic = topicName(tenant, 'lemfs');
    const infra = testInfra();
    const clients = await Promise.all(
      Array.from({ length: 4 }, (_, i) => createBus({ ...infra, clientId: `race-${i}` }, log)),
    );
    try {
      const codecs = await Promise.all(clients.map((c) => c.codec(topic, 'LemfDestination')));
      expect(new Set(codecs.map((c) => c.schemaId)).size).toBe(1);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  });
});

describe('topic creation', () => {
  it('lets services that start together create the same topics and use them at once', async () => {
    // Each service ensures its tenant's topics at start and reads them straight away; the one
    // that finds a topic another has just created must still find it served.
    const infra = testInfra();
    const clients = await Promise.all(
      Array.from({ length: 5 }, (_, i) => createBus({ ...infra, clientId: `topics-${i}` }, log)),
    );
    try {
      for (let round = 0; round < 5; round++) {
        const tenant = uniqueTenant('race');
        const streams = ['events', 'matched', 'hi2', 'hi3', 'reports', 'lemfs', 'warrants', 'dlq'] as const;
        await Promise.all(
          clients.map(async (c) => {
            await c.ensureTopics(tenant, [...streams]);
            const admin = await c.admin();
            for (const s of streams) await admin.fetchTopicOffsets(topicName(tenant, s));
          }),
        );
      }
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  }, 120_000);
});
