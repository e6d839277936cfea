// Nothing lost, nothing repeated across crashes: a sequencer is SIGKILLed several times while
// it works; in its output every key has sequence numbers 0..n-1, with no gap and no repeat,
// and every input record was handled exactly once.
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { memoryLogger, pinnedNode, testInfra, uniqueTenant, waitFor } from '@li/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Bus, createBus, readTopic, topicName } from '../src/index.ts';

let bus: Bus;
beforeAll(async () => {
  const infra = testInfra();
  bus = await createBus({ ...infra, clientId: 'crash-test' }, memoryLogger().log);
});
afterAll(async () => {
  await bus?.close();
});

function startSequencer(tenant: string) {
  const child = fork(join(import.meta.dirname, 'fixtures/sequencer.ts'), [tenant], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    execPath: pinnedNode(),
  });
  const started = new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`sequencer exited early (${code})`)));
  });
  return { child, started };
}

describe('consume-transform-produce across SIGKILL', () => {
  it('keeps per-key sequence numbers gap-free and handles every input exactly once', async () => {
    const tenant = uniqueTenant('crash');
    await bus.ensureTopics(tenant, ['events', 'hi2', 'encoder-state', 'dlq']);
    const input = topicName(tenant, 'events');
    const keys = ['LIID1/cin-1', 'LIID1/cin-2', 'LIID2/cin-1'];
    const total = 3000;
    let produced = 0;
    const produceSome = async (n: number) => {
      const batch = Array.from({ length: n }, (_, i) => ({
        topic: input,
        key: keys[(produced + i) % keys.length]!,
        value: Buffer.from(`r${produced + i}`),
      }));
      produced += n;
      await bus.send(batch);
    };

    await produceSome(500);
    let kills = 0;
    // Kill the sequencer a few times while input keeps arriving, at moments it is working.
    while (produced < total) {
      const { child, started } = startSequencer(tenant);
      await started;
      await produceSome(500);
      await new Promise((r) => setTimeout(r, 150 + Math.random() * 400));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      kills++;
    }
    // A last run finishes the work.
    const { child, started } = startSequencer(tenant);
    await started;
    try {
      await waitFor(async () => (await readTopic(bus.kafka, topicName(tenant, 'hi2'))).length >= total, {
        timeoutMs: 60_000,
        intervalMs: 500,
        what: 'all records sequenced',
      });
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }

    const out = await readTopic(bus.kafka, topicName(tenant, 'hi2'));
    expect(kills).toBeGreaterThanOrEqual(5);
    expect(out).toHaveLength(total);
    // Every input offset handled exactly once.
    const offsets = out.map((r) => Number(r.headers['li.input-offset'])).sort((a, b) => a - b);
    expect(offsets).toEqual(Array.from({ length: total }, (_, i) => i));
    // Per key: 0..n-1 in order, no gap, no repeat.
    for (const key of keys) {
      const seqs = out.filter((r) => r.key === key).map((r) => Number(r.value!.toString()));
      expect(seqs).toEqual(Array.from({ length: total / keys.length }, (_, i) => i));
    }
  }, 180_000);
});
