import { memoryLogger, testInfra, uniqueTenant, waitFor } from '@li/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Bus, createBus, tailTopics, topicName } from '../src/index.ts';

const { log } = memoryLogger();
let bus: Bus;
beforeAll(async () => {
  const infra = testInfra();
  bus = await createBus({ ...infra, clientId: 'tail-test' }, log);
});
afterAll(async () => {
  await bus?.close();
});

describe('tailTopics', () => {
  it('reports caught up after the records present at start, then keeps following', async () => {
    const tenant = uniqueTenant();
    await bus.ensureTopics(tenant, ['warrants', 'lemfs']);
    const warrants = topicName(tenant, 'warrants');
    await bus.send(
      Array.from({ length: 50 }, (_, i) => ({ topic: warrants, key: `L${i}`, value: Buffer.from(`v${i}`) })),
    );
    const seen: string[] = [];
    let seenAtCatchUp = -1;
    const tail = await tailTopics({
      kafka: bus.kafka,
      log,
      topics: [warrants, topicName(tenant, 'lemfs')], // an empty topic must not hold catch-up back
      onRecord: (r) => {
        seen.push(r.key ?? '');
      },
    });
    try {
      await tail.caughtUp.then(() => {
        seenAtCatchUp = seen.length;
      });
      expect(seenAtCatchUp).toBe(50);
      const t0 = Date.now();
      await bus.send([{ topic: warrants, key: 'NEW', value: Buffer.from('x') }]);
      await waitFor(() => seen.includes('NEW'), { what: 'the new record' });
      expect(Date.now() - t0).toBeLessThan(5000);
    } finally {
      await tail.stop();
    }
  });
});
