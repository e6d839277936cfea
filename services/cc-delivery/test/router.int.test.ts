// Delivery reads each record once: the router reads the tenant's streams once and copies each
// record into the queue of each LEMF it names; a LEMF's consumer reads only its own queue. On the
// real broker, with the service as main.ts runs it; the read cost comes from its own counter.
import { type Bus, createBus, lemfTopicName, readTopic, topicName } from '@li/bus';
import { startService } from '@li/runtime';
import type { LemfDestination } from '@li/schemas';
import { sampleLemf } from '@li/schemas/testing';
import { memoryLogger, testInfra, uniqueTenant, waitFor } from '@li/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ccDeliveryService, lemfGroupId } from '../src/service.ts';
import { LemfHarness } from '../src/testing/index.ts';
import { psPdu } from './helpers/ber.ts';
import { deliveryEnv, publishLemf, queueSize } from './helpers/service.ts';

const infra = testInfra();
let bus: Bus;
beforeAll(async () => {
  bus = await createBus({ ...infra, clientId: 'dlv-router-test' }, memoryLogger().log);
});
afterAll(async () => {
  await bus?.close();
});

async function readBytes(port: number, tenant: string, stage: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text
    .split('\n')
    .find((l) => l.startsWith('li_cc_delivery_read_bytes_total{') && l.includes(`tenant="${tenant}",stage="${stage}"`));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

describe('the router', () => {
  it("reads each record once, gives each LEMF only its own, and empties a removed LEMF's queue", async () => {
    const t = uniqueTenant('route');
    await bus.ensureTopics(t, ['hi2', 'hi3', 'reports', 'lemfs', 'dlq']);
    const ids = ['lemf-a', 'lemf-b', 'lemf-c'];
    const lemfs = await Promise.all(ids.map(() => new LemfHarness().start()));
    const dest = (id: string, port: number): LemfDestination =>
      sampleLemf({
        allowInsecure: true,
        tenant: t,
        id,
        address: { host: '127.0.0.1', port },
        ccAddress: null,
        keepaliveSeconds: 0,
      });
    for (const [i, id] of ids.entries()) await publishLemf(bus, dest(id, lemfs[i]!.port));
    const svc = await startService(ccDeliveryService, await deliveryEnv(t));
    try {
      // 30 records for lemf-a, 20 for lemf-b, 10 for both a and c
      const send = async (lemfsHeader: string, liid: string, n: number) => {
        const records = Array.from({ length: n }, (_, i) => ({
          topic: topicName(t, 'hi2'),
          key: liid,
          value: psPdu('iri', liid, 1, i),
          headers: { 'li.liid': liid, 'li.cin': '1', 'li.seq': String(i), 'li.lemfs': lemfsHeader },
        }));
        await bus.send(records);
        return records.reduce((s, r) => {
          let b = r.key.length + r.value.length;
          for (const [k, v] of Object.entries(r.headers)) b += k.length + v.length;
          return s + b;
        }, 0);
      };
      const bytesA = await send('lemf-a', 'LIIDA', 30);
      const bytesB = await send('lemf-b', 'LIIDB', 20);
      const bytesAC = await send('lemf-a,lemf-c', 'LIIDAC', 10);
      await waitFor(() => lemfs[0]!.received >= 40 && lemfs[1]!.received >= 20 && lemfs[2]!.received >= 10, {
        what: 'every LEMF to get its records',
        timeoutMs: 30_000,
        intervalMs: 100,
      });
      expect(lemfs.map((l) => l.received)).toEqual([40, 20, 10]);
      expect((await queueSize(bus, t, 'lemf-a')).records).toBe(40);
      expect((await queueSize(bus, t, 'lemf-b')).records).toBe(20);
      expect((await queueSize(bus, t, 'lemf-c')).records).toBe(10);

      // The router read the stream once; each LEMF read its own copies (whose li.lemfs names it alone).
      const router = await readBytes(svc.metricsPort, t, 'router');
      expect(router).toBe(bytesA + bytesB + bytesAC);
      const both = 'lemf-a,lemf-c'.length;
      const copies = bytesA + bytesB + 2 * bytesAC - 2 * 10 * both + 10 * ('lemf-a'.length + 'lemf-c'.length);
      await waitFor(async () => (await readBytes(svc.metricsPort, t, 'lemf')) === copies, {
        what: 'the LEMF consumers to have read exactly their copies',
        timeoutMs: 10_000,
      });

      // Removing lemf-b empties its queue and drops its group; the others go on.
      await bus.send([{ topic: topicName(t, 'lemfs'), key: 'lemf-b', value: null }]);
      const admin = await bus.admin();
      await waitFor(
        async () => {
          const [p] = await admin.fetchTopicOffsets(lemfTopicName(t, 'lemf-b', 'hi2'));
          return p !== undefined && p.low === p.high;
        },
        { what: "lemf-b's queue emptied", timeoutMs: 20_000, intervalMs: 200 },
      );
      await waitFor(
        async () => !(await admin.listGroups()).groups.some((g) => g.groupId === lemfGroupId(t, 'lemf-b')),
        { what: "lemf-b's group deleted", timeoutMs: 20_000, intervalMs: 200 },
      );
      await send('lemf-b,lemf-c', 'LIIDBC', 5);
      await waitFor(() => lemfs[2]!.received >= 15, { what: 'lemf-c to get its new records', timeoutMs: 20_000 });
      expect(lemfs[1]!.received).toBe(20);
      // nothing was routed to the removed LEMF
      const [b] = await admin.fetchTopicOffsets(lemfTopicName(t, 'lemf-b', 'hi2'));
      expect(b!.low).toBe(b!.high);
    } finally {
      await svc.stop();
      for (const l of lemfs) await l.stop();
    }
  }, 120_000);

  it('dead-letters a record with a malformed li.* header, naming the header and not its value', async () => {
    const t = uniqueTenant('route-bad');
    await bus.ensureTopics(t, ['hi2', 'hi3', 'reports', 'lemfs', 'dlq']);
    const lemf = await new LemfHarness().start();
    await publishLemf(
      bus,
      sampleLemf({
        allowInsecure: true,
        tenant: t,
        id: 'lemf-a',
        address: { host: '127.0.0.1', port: lemf.port },
        ccAddress: null,
        keepaliveSeconds: 0,
      }),
    );
    const svc = await startService(ccDeliveryService, await deliveryEnv(t));
    try {
      const record = (seq: string, lemfs: string) => ({
        topic: topicName(t, 'hi2'),
        key: 'LIIDSECRET',
        value: psPdu('iri', 'LIIDSECRET', 1, Number.parseInt(seq.replace('x', ''), 10)),
        headers: { 'li.liid': 'LIIDSECRET', 'li.cin': '1', 'li.seq': seq, 'li.lemfs': lemfs },
      });
      await bus.send([
        record('0', 'lemf-a'),
        record('x1', 'lemf-a'),
        record('1', 'lemf-a,bad.id'),
        record('2', 'lemf-a'),
      ]);
      const dlq = await waitFor(
        async () => {
          const recs = await readTopic(bus, topicName(t, 'dlq'));
          return recs.length >= 2 ? recs : undefined;
        },
        { what: 'two dead letters', timeoutMs: 30_000, intervalMs: 200 },
      );
      expect(dlq.map((r) => [r.headers['li.dlq.code'], r.headers['li.dlq.reason']])).toEqual([
        ['BUS_ERR_HEADER', 'header li.seq: expected a non-negative integer'],
        ['DLV_ERR_BAD_RECORD', 'li.lemfs names an invalid LEMF id'],
      ]);
      // the malformed record went nowhere; the one naming a bad id still reached its valid LEMF
      await waitFor(() => lemf.received >= 3, { what: 'lemf-a to get its three records', timeoutMs: 30_000 });
      expect((await queueSize(bus, t, 'lemf-a')).records).toBe(3);
    } finally {
      await svc.stop();
      await lemf.stop();
    }
  }, 120_000);
});
