// Hand-over between live members (issue 14): two confirmed consumers of one group read a
// 3-partition queue and pass its records to a peer that confirms each one a while after it got
// it; a third member joins mid-stream. Before they rejoin, the two first commit what their peer
// confirmed (kafkajs-rebalance-notice.ts), so the member that takes a partition over starts after
// everything sent: no record reaches the peer twice, and none is missing.
import { memoryLogger, testInfra, uniqueTenant, waitFor } from '@li/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Bus, type ConfirmedConsumer, createBus, createConfirmedConsumer, topicName } from '../src/index.ts';

const { log } = memoryLogger();
let bus: Bus;
beforeAll(async () => {
  bus = await createBus({ ...testInfra(), clientId: 'confirmed-consumer-test' }, log);
});
afterAll(async () => {
  await bus?.close();
});

/**
 * Written 20 at a time every 100 ms: they keep coming through the rebalance. At least RECORDS, and
 * more until the third member got some (under load its join can take longer than the writing).
 */
const RECORDS = 1200;
const MAX_RECORDS = 6000;
const SEND_EVERY_MS = 2;
const CONFIRM_AFTER_MS = 300;

/** A member: its peer takes one record every SEND_EVERY_MS and confirms it CONFIRM_AFTER_MS later, in order. */
function member(topic: string, group: string, sent: string[]) {
  const queue: { partition: number; offset: string }[] = [];
  const inFlight = new Set<string>();
  let consumer: ConfirmedConsumer | undefined;
  let took = 0;
  const pump = setInterval(() => {
    const r = queue.shift();
    if (!r) return;
    const id = `${r.partition}/${r.offset}`;
    sent.push(id);
    took++;
    inFlight.add(id);
    setTimeout(() => {
      inFlight.delete(id);
      consumer?.confirmed([{ topic, partition: r.partition, offset: BigInt(r.offset) + 1n }]);
    }, CONFIRM_AFTER_MS);
  }, SEND_EVERY_MS);
  consumer = createConfirmedConsumer({
    bus,
    log,
    groupId: group,
    topics: [topic],
    onBatch: (b) => {
      for (const m of b.messages) queue.push({ partition: b.partition, offset: m.offset });
    },
    unconfirmed: () => queue.length + inFlight.size,
    full: () => queue.length > 50,
    maxWaitTimeMs: 200,
  });
  return {
    start: () => consumer.start(),
    took: () => took,
    async stop() {
      clearInterval(pump);
      await consumer?.stop();
    },
  };
}

describe('confirmed consumer: a rebalance between live members', () => {
  it('a third member joins mid-stream: no record goes to the peer twice, none is missing', async () => {
    const tenant = uniqueTenant('handover');
    await bus.ensureTopics(tenant, ['events'], 3);
    const topic = topicName(tenant, 'events');
    const group = `confirmed-handover-${tenant}`;
    const sent: string[] = [];
    const members = [member(topic, group, sent), member(topic, group, sent)];
    let written = 0;
    let third: ReturnType<typeof member> | undefined;
    const writing = (async () => {
      while (written < RECORDS || ((third?.took() ?? 0) === 0 && written < MAX_RECORDS)) {
        const at = written;
        await bus.send(
          Array.from({ length: 20 }, (_, i) => ({ topic, key: `k${at + i}`, value: Buffer.from(String(at + i)) })),
        );
        written += 20;
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    try {
      await Promise.all(members.map((m) => m.start()));
      await waitFor(() => sent.length >= 200, { what: 'the first records sent', timeoutMs: 60_000 });
      third = member(topic, group, sent);
      members.push(third);
      await third.start();
      await writing;
      await waitFor(() => new Set(sent).size >= written, { what: 'every record sent', timeoutMs: 90_000 });
      // what a member still had would arrive within its confirmation delay
      await new Promise((r) => setTimeout(r, CONFIRM_AFTER_MS * 3));
      const twice = sent.length - new Set(sent).size;
      console.log(
        `[handover] ${written} records; sent by a/b/c ${members.map((m) => m.took()).join('/')}; sent twice ${twice}`,
      );
      expect(third.took()).toBeGreaterThan(0);
      expect(new Set(sent).size).toBe(written);
      expect(twice).toBe(0);
    } finally {
      await Promise.all(members.map((m) => m.stop()));
    }
  });
});
