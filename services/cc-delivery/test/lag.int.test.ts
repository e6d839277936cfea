// li_cc_delivery_consumer_lag_records{tenant,lemf,stream} on the real broker: records wait while a
// LEMF is down (lag = offsets of its queue li.<t>.lemf.<id>.<stream> not committed by its group:
// the records, plus the router's commit markers), and the lag returns to 0 once it caught up.
import { type Bus, createBus, lemfTopicName, topicName } from '@li/bus';
import { startService } from '@li/runtime';
import type { LemfDestination } from '@li/schemas';
import { sampleLemf } from '@li/schemas/testing';
import { memoryLogger, testInfra, uniqueTenant, waitFor, within } from '@li/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ccDeliveryService, lemfGroupId } from '../src/service.ts';
import { LemfHarness } from '../src/testing/index.ts';
import { psPdu } from './helpers/ber.ts';
import { deliveryEnv, publishDownLemf, publishLemf, queueSize } from './helpers/service.ts';

const infra = testInfra();
let bus: Bus;
beforeAll(async () => {
  bus = await createBus({ ...infra, clientId: 'dlv-lag-test' }, memoryLogger().log);
});
afterAll(async () => {
  await bus?.close();
});

async function scrape(port: number): Promise<string> {
  return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
}

function gauge(text: string, name: string, labels: string): number | null {
  // the registry adds its own default labels (service) after ours
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels},`) || l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : null;
}

describe('consumer lag per LEMF', () => {
  it('grows while the LEMF is down with records waiting and returns to 0 once it caught up', async () => {
    const t = uniqueTenant('lag');
    const { port } = await publishDownLemf(bus, t, 'lemf-lag'); // nothing listens yet: the LEMF is down
    const svc = await startService(ccDeliveryService, await deliveryEnv(t, { LI_LAG_INTERVAL_MS: '200' }));
    let lemf: LemfHarness | null = null;
    try {
      await bus.send(
        Array.from({ length: 40 }, (_, i) => ({
          topic: topicName(t, 'hi2'),
          key: 'LIIDLAG',
          value: psPdu('iri', 'LIIDLAG', 1, i),
          headers: { 'li.liid': 'LIIDLAG', 'li.cin': '1', 'li.seq': String(i), 'li.lemfs': 'lemf-lag' },
        })),
      );
      const labels = (stream: string) => `tenant="${t}",lemf="lemf-lag",stream="${stream}"`;
      // The router copied the 40 records into the LEMF's queue (in one or more transactions) ...
      const queue = await waitFor(
        async () => {
          const q = await queueSize(bus, t, 'lemf-lag');
          return q.records === 40 ? q : undefined;
        },
        { what: "40 records in the LEMF's hi2 queue", timeoutMs: 20_000, intervalMs: 100 },
      );
      expect(queue.end).toBeGreaterThan(40); // records and the router's commit markers
      expect(queue.end).toBeLessThanOrEqual(80);
      // ... and none of them is committed: the lag is the whole queue.
      const down = await waitFor(
        async () => {
          const m = await scrape(svc.metricsPort);
          // The consumer reads the queue only once its partitions are handed over (file numbers
          // reloaded): the records count as pending from then on.
          const pending = gauge(
            m,
            'li_cc_delivery_pending_records',
            `tenant="${t}",lemf="lemf-lag",transport="ETSI_TCP"`,
          );
          return gauge(m, 'li_cc_delivery_consumer_lag_records', labels('hi2')) === queue.end && pending === 40
            ? m
            : undefined;
        },
        { what: 'lag of the whole hi2 queue, 40 pending, while the LEMF is down', timeoutMs: 20_000, intervalMs: 100 },
      );
      expect(gauge(down, 'li_cc_delivery_consumer_lag_records', labels('hi3'))).toBe(0);
      expect(gauge(down, 'li_cc_delivery_consumer_lag_records', labels('reports'))).toBe(0);
      // the LEMF's other gauges carry the same lemf label value, so rules can join them
      expect(gauge(down, 'li_cc_delivery_pending_records', `tenant="${t}",lemf="lemf-lag",transport="ETSI_TCP"`)).toBe(
        40,
      );
      expect(down).toMatch(
        new RegExp(
          `li_cc_delivery_last_error_info\\{tenant="${t}",lemf="lemf-lag",transport="ETSI_TCP",code="DLV_ERR_CONNECT"[^}]*\\} 1`,
        ),
      );

      lemf = await new LemfHarness({ port }).start();
      await waitFor(() => lemf!.received >= 40, { what: 'the LEMF to catch up', timeoutMs: 30_000, intervalMs: 100 });
      await waitFor(
        async () => gauge(await scrape(svc.metricsPort), 'li_cc_delivery_consumer_lag_records', labels('hi2')) === 0,
        { what: 'lag back to 0', timeoutMs: 20_000, intervalMs: 100 },
      );
    } finally {
      await svc.stop();
      await lemf?.stop();
    }
  }, 90_000);

  it('reads 0 once delivered even when the partition ends in an aborted transaction', async () => {
    // kafkajs filters an aborted transaction (and a lone commit marker) out of the batch entirely;
    // the group must still commit past it, or the lag would stay above 0 on an idle pipeline. The
    // router aborts a transaction on its queue whenever a batch fails; written here directly.
    const t = uniqueTenant('lagtx');
    await within(40_000, 'topics created', bus.ensureTopics(t, ['hi2', 'hi3', 'reports', 'lemfs', 'dlq']));
    const lemf = await new LemfHarness().start();
    const dest: LemfDestination = sampleLemf({
      allowInsecure: true,
      tenant: t,
      id: 'lemf-tx',
      address: { host: '127.0.0.1', port: lemf.port },
      ccAddress: null,
      keepaliveSeconds: 0,
    });
    await within(20_000, 'LEMF published', publishLemf(bus, dest));
    const producer = bus.kafka.producer({ transactionalId: `${t}-tx`, idempotent: true, maxInFlightRequests: 1 });
    await within(20_000, 'producer connected', producer.connect());
    const records = (from: number, n: number) =>
      Array.from({ length: n }, (_, i) => ({
        key: 'LIIDTX',
        value: psPdu('iri', 'LIIDTX', 1, from + i),
        headers: { 'li.liid': 'LIIDTX', 'li.cin': '1', 'li.seq': String(from + i), 'li.lemfs': 'lemf-tx' },
      }));
    const svc = await within(
      30_000,
      'cc-delivery start',
      startService(ccDeliveryService, await deliveryEnv(t, { LI_LAG_INTERVAL_MS: '200' })),
    );
    const queueTopic = lemfTopicName(t, 'lemf-tx', 'hi2');
    try {
      const committed = await within(20_000, 'begin transaction', producer.transaction());
      await within(20_000, 'send in transaction', committed.send({ topic: queueTopic, messages: records(0, 5) }));
      await within(20_000, 'commit transaction', committed.commit());
      await waitFor(() => lemf.received >= 5, { what: 'the committed records delivered', timeoutMs: 30_000 });
      const aborted = await within(20_000, 'begin transaction', producer.transaction());
      await within(20_000, 'send in transaction', aborted.send({ topic: queueTopic, messages: records(5, 3) }));
      await within(20_000, 'abort transaction', aborted.abort());
      const lag = async () =>
        gauge(
          await scrape(svc.metricsPort),
          'li_cc_delivery_consumer_lag_records',
          `tenant="${t}",lemf="lemf-tx",stream="hi2"`,
        );
      // The group commits up to the partition's end, abort marker included ...
      const admin = bus.kafka.admin();
      await admin.connect();
      try {
        const [end] = await within(20_000, 'partition end', admin.fetchTopicOffsets(queueTopic));
        expect(end?.high).toBe('10'); // 5 records, commit marker, 3 aborted records, abort marker
        const what = 'the LEMF group committed past the aborted transaction';
        const group = { groupId: lemfGroupId(t, 'lemf-tx'), topics: [queueTopic] };
        await within(
          30_000,
          what,
          waitFor(async () => (await admin.fetchOffsets(group))[0]?.partitions[0]?.offset === '10', {
            what,
            timeoutMs: 20_000,
          }),
        );
      } finally {
        await admin.disconnect();
      }
      // ... so the gauge, refreshed every 200 ms, reads 0.
      await waitFor(async () => (await lag()) === 0, { what: 'lag 0 past the aborted transaction', timeoutMs: 20_000 });
      expect(lemf.received).toBe(5); // the aborted records were never delivered
    } finally {
      await within(20_000, 'cc-delivery stop', svc.stop());
      await producer.disconnect();
      await lemf.stop();
    }
  }, 150_000);
});
