// cc-delivery wired to the real broker: LEMF destinations from li.<t>.lemfs, records routed by
// their li.lemfs header, one consumer group per LEMF. A LEMF that goes down gets everything,
// in order, once it is back, while another LEMF keeps receiving; nothing of another tenant
// ever reaches a LEMF; offsets are committed only once the LEMF has the records.
import { type Bus, createBus, topicName } from '@li/bus';
import { decodePsPdu } from '@li/etsi';
import { startService } from '@li/runtime';
import type { LemfDestination } from '@li/schemas';
import { sampleLemf } from '@li/schemas/testing';
import { memoryLogger, testInfra, uniqueTenant, waitFor } from '@li/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ccDeliveryService } from '../src/service.ts';
import { LemfHarness } from '../src/testing/index.ts';
import { psPdu } from './helpers/ber.ts';
import { committedRecords, committedToEnd, deliveryEnv, publishLemf } from './helpers/service.ts';

const infra = testInfra();
let bus: Bus;
beforeAll(async () => {
  bus = await createBus({ ...infra, clientId: 'dlv-test' }, memoryLogger().log);
});
afterAll(async () => {
  await bus?.close();
});

/** LIID and sequence number of every PS-PDU a harness received, in arrival order. */
function received(h: LemfHarness): { liid: string; seq: number }[] {
  return h.frames.map((f) => {
    const r = decodePsPdu(f);
    if (!r.ok) throw new Error(`LEMF received an undecodable PDU: ${r.reason}`);
    return { liid: r.value.header.liid, seq: r.value.header.sequenceNumber };
  });
}

describe('cc-delivery on the real broker', () => {
  it('delivers each LEMF exactly its records, survives an outage of one, and never crosses tenants', async () => {
    const t = uniqueTenant('dlv');
    const u = uniqueTenant('dlv');
    for (const tenant of [t, u]) await bus.ensureTopics(tenant, ['hi2', 'hi3', 'reports', 'lemfs', 'dlq']);
    const a2 = await new LemfHarness().start();
    const a3 = await new LemfHarness().start();
    const b2 = await new LemfHarness().start();
    const b3 = await new LemfHarness().start();
    const c2 = await new LemfHarness().start();
    const c3 = await new LemfHarness().start();
    const lemf = (tenant: string, id: string, h2: LemfHarness, h3: LemfHarness): LemfDestination =>
      sampleLemf({
        allowInsecure: true,
        tenant,
        id,
        address: { host: '127.0.0.1', port: h2.port },
        ccAddress: { host: '127.0.0.1', port: h3.port },
      });
    for (const d of [lemf(t, 'lemf-a', a2, a3), lemf(t, 'lemf-b', b2, b3), lemf(u, 'lemf-a', c2, c3)]) {
      await publishLemf(bus, d);
    }
    const send = async (
      tenant: string,
      lemfs: string,
      liid: string,
      from: number,
      n: number,
      stream: 'hi2' | 'hi3',
    ) => {
      const records = Array.from({ length: n }, (_, i) => ({
        topic: topicName(tenant, stream),
        key: liid,
        value: psPdu(stream === 'hi2' ? 'iri' : 'cc', liid, 1, from + i),
        headers: { 'li.liid': liid, 'li.cin': '1', 'li.seq': String(from + i), 'li.lemfs': lemfs },
      }));
      await bus.send(records);
    };
    const svc = await startService(ccDeliveryService, await deliveryEnv(`${t},${u}`));
    try {
      await send(t, 'lemf-a', 'L-A1', 0, 100, 'hi2');
      await send(t, 'lemf-a', 'L-A1', 0, 50, 'hi3');
      await send(t, 'lemf-b', 'L-B1', 0, 100, 'hi2');
      await send(t, 'lemf-a,lemf-b', 'L-X1', 0, 20, 'hi2'); // a warrant with two LEMFs
      await send(u, 'lemf-a', 'L-C1', 0, 30, 'hi2'); // tenant u's own lemf-a
      await waitFor(
        () => a2.frames.length >= 120 && a3.frames.length >= 50 && b2.frames.length >= 120 && c2.frames.length >= 30,
        {
          what: 'first deliveries',
          timeoutMs: 30_000,
          intervalMs: 100,
        },
      );
      expect(new Set(received(a2).map((r) => r.liid))).toEqual(new Set(['L-A1', 'L-X1']));
      expect(new Set(received(b2).map((r) => r.liid))).toEqual(new Set(['L-B1', 'L-X1']));
      expect(new Set(received(c2).map((r) => r.liid))).toEqual(new Set(['L-C1']));

      // Outage of lemf-a's HI2 while lemf-b keeps receiving.
      const port = a2.port;
      await a2.stop();
      await send(t, 'lemf-a', 'L-A1', 100, 200, 'hi2');
      await send(t, 'lemf-b', 'L-B1', 100, 200, 'hi2');
      await waitFor(() => b2.frames.length >= 320, {
        what: 'lemf-b during the outage',
        timeoutMs: 30_000,
        intervalMs: 100,
      });
      await new Promise((r) => setTimeout(r, 1000));
      const back = await new LemfHarness({ port }).start();
      await waitFor(
        () =>
          received(back)
            .filter((r) => r.liid === 'L-A1')
            .some((r) => r.seq === 299),
        {
          what: 'lemf-a to catch up',
          timeoutMs: 60_000,
          intervalMs: 200,
        },
      );
      // Every L-A1 record 0..299 arrived, in order, across both connections; duplicates only
      // where plain TCP could not confirm, recognisable by their sequence numbers.
      const all = [...received(a2), ...received(back)].filter((r) => r.liid === 'L-A1').map((r) => r.seq);
      const unique = [...new Set(all)];
      expect(unique).toEqual(Array.from({ length: 300 }, (_, i) => i));
      const inOrder = all.every((s, i) => i === 0 || s > all[i - 1]! || all.slice(0, i).includes(s));
      expect(inOrder).toBe(true);
      console.log(`outage: ${all.length - unique.length} duplicate(s) re-sent after reconnect (plain TCP)`);

      // Offsets: lemf-a's group has committed its whole hi2 queue once everything was confirmed.
      await waitFor(async () => (await committedRecords(bus, t, 'lemf-a')) === 320, {
        what: 'lemf-a commit of all 320 records of its hi2 queue',
        timeoutMs: 20_000,
        intervalMs: 200,
      });
      expect(await committedToEnd(bus, t, 'lemf-a')).toBe(true);
      await back.stop();
    } finally {
      await svc.stop();
      for (const h of [a3, b2, b3, c2, c3]) await h.stop();
    }
  }, 120_000);
});
