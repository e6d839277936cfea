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

  it("restores what was committed after a dead writer's open transaction, once that one is fenced", async () => {
    // The encoder's counters after a rebalance: a process killed mid-transaction leaves it open on
    // the changelog until the next owner of its transactional id fences it. Reading only to the
    // last stable offset (the start of that transaction) missed every later commit of the live
    // processes: a stale state, numbers used again.
    const tenant = uniqueTenant('chl');
    await bus.ensureTopics(tenant, ['encoder-state']);
    const topic = topicName(tenant, 'encoder-state');
    const store = new ChangelogStore<{ n: number }>(bus, topic, jsonChangelog());
    const live = transactionalProducer(bus, `li.test.${tenant}.live`);
    await live.connect();
    await store.write(live, [{ key: 'a', value: { n: 1 } }]);
    // The dead writer: a transaction begun and never ended.
    const deadId = `li.test.${tenant}.dead`;
    const dead = bus.kafka.producer({ transactionalId: deadId, idempotent: true, maxInFlightRequests: 1 });
    await dead.connect();
    const open = await dead.transaction();
    await open.send({ topic, messages: [{ key: 'a', value: JSON.stringify({ n: 99 }) }] });
    // Committed after the open transaction began.
    await store.write(live, [
      { key: 'a', value: { n: 2 } },
      { key: 'b', value: { n: 3 } },
    ]);

    const restored = new ChangelogStore<{ n: number }>(bus, topic, jsonChangelog());
    let settled = false;
    const restoring = restored.restore({ timeoutMs: 60_000 }).finally(() => {
      settled = true;
    });
    await new Promise((r) => setTimeout(r, 3000));
    expect(settled).toBe(false); // waits: the last commit lies beyond the open transaction
    // The next holder of the id fences the dead writer: its transaction is aborted.
    const next = transactionalProducer(bus, deadId);
    await next.connect();
    expect(await restoring).toEqual({ records: 3, live: 2 });
    expect([...restored.entries()]).toEqual([
      ['a', { n: 2 }],
      ['b', { n: 3 }],
    ]);
    await dead.disconnect();
    await next.close();
    await live.close();
  }, 90_000);
});
