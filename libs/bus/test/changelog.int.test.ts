// The changelog store and the transactional producer on the real broker: restore keeps the live
// entries of committed transactions only (tombstones delete, aborted or fenced writes are not
// state), and a producer whose transactional id another took writes nothing, with BUS_ERR_FENCED.
import { memoryLogger, testInfra, uniqueTenant } from '@li/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Bus,
  ChangelogStore,
  createBus,
  jsonChangelog,
  readTopic,
  topicName,
  transactionalProducer,
} from '../src/index.ts';

let bus: Bus;
beforeAll(async () => {
  bus = await createBus({ ...testInfra(), clientId: 'changelog-test' }, memoryLogger().log);
});
afterAll(async () => {
  await bus?.close();
});

describe('changelog store', () => {
  it('restores the committed live entries; a fenced writer adds nothing', async () => {
    const tenant = uniqueTenant('chl');
    await bus.ensureTopics(tenant, ['encoder-state', 'dlq']);
    const topic = topicName(tenant, 'encoder-state');
    const id = `li.test.${tenant}.writer`;
    const store = new ChangelogStore<{ n: number }>(bus, topic, jsonChangelog());
    const first = transactionalProducer(bus, id);
    await first.connect();
    await store.write(first, [
      { key: 'a', value: { n: 1 } },
      { key: 'b', value: { n: 2 } },
      { key: 'c', value: { n: 3 } },
    ]);
    // A change written with another record of the same transaction, and a tombstone.
    await store.write(
      first,
      [
        { key: 'a', value: null },
        { key: 'b', value: { n: 20 } },
      ],
      [{ topic: topicName(tenant, 'dlq'), key: 'k', value: Buffer.from('x') }],
    );
    expect([...store.entries()]).toEqual([
      ['b', { n: 20 }],
      ['c', { n: 3 }],
    ]);

    // A second holder of the id fences the first: its write fails and is not state.
    const second = transactionalProducer(bus, id);
    await second.connect();
    await expect(store.write(first, [{ key: 'z', value: { n: 9 } }])).rejects.toMatchObject({ code: 'BUS_ERR_FENCED' });
    expect(first.usable()).toBe(false);
    await second.send([store.record({ key: 'c', value: null })]);

    const restored = new ChangelogStore<{ n: number }>(bus, topic, jsonChangelog());
    expect(await restored.restore()).toEqual({ records: 6, live: 1 });
    expect([...restored.entries()]).toEqual([['b', { n: 20 }]]);
    // The topic holds the tombstones (until compaction); the fenced write is not there at all.
    expect((await readTopic(bus, topic)).map((r) => r.key)).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
    await first.close();
    await second.close();
  }, 60_000);
});
