import { memoryLogger, testInfra, uniqueTenant, waitFor } from '@li/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Bus, type BusConsumer, busConsumer, createBus, topicName } from '../src/index.ts';

const { log } = memoryLogger();
let bus: Bus;
beforeAll(async () => {
  bus = await createBus({ ...testInfra(), clientId: 'bus-consumer-test' }, log);
});
afterAll(async () => {
  await bus?.close();
});

/** Runs a consumer of `group` on the bus until it has seen `count` records; returns their keys. */
async function consume(topic: string, group: string, count: number): Promise<string[]> {
  const seen: string[] = [];
  const consumer: BusConsumer = busConsumer(bus, { groupId: group, allowAutoTopicCreation: false });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: true,
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) seen.push(m.key?.toString('utf8') ?? '');
      },
    });
    await waitFor(() => seen.length >= count, { what: `${count} records` });
  } finally {
    // disconnect commits what was resolved
    await consumer.disconnect();
  }
  return seen;
}

describe('busConsumer', () => {
  it('is a group consumer on the bus: a second run of the group resumes after the committed records', async () => {
    const tenant = uniqueTenant();
    await bus.ensureTopics(tenant, ['events']);
    const topic = topicName(tenant, 'events');
    const group = `bus-consumer-${tenant}`;
    await bus.send(['a', 'b', 'c'].map((k) => ({ topic, key: k, value: Buffer.from(k) })));
    expect(await consume(topic, group, 3)).toEqual(['a', 'b', 'c']);
    await bus.send([{ topic, key: 'd', value: Buffer.from('d') }]);
    expect(await consume(topic, group, 1)).toEqual(['d']);
  });
});
