// A LEMF whose settings change so that its delivery restarts (another timestamp profile, batch
// policy, file selection or transport) while records wait for it: the records queued in the old
// delivery are not lost. They were read but never confirmed, so they are read again and delivered
// by the new one; the LEMF's group never commits past them.

import { type Bus, createBus, topicName } from '@li/bus';
import { decodePsPdu } from '@li/etsi';
import { startService } from '@li/runtime';
import { memoryLogger, testInfra, uniqueTenant, waitFor } from '@li/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ccDeliveryService } from '../src/service.ts';
import { LemfHarness } from '../src/testing/index.ts';
import { psPdu } from './helpers/ber.ts';
import { committedToEnd, deliveryEnv, publishDownLemf, publishLemf } from './helpers/service.ts';

const infra = testInfra();
let bus: Bus;
beforeAll(async () => {
  bus = await createBus({ ...infra, clientId: 'dlv-restart-test' }, memoryLogger().log);
});
afterAll(async () => {
  await bus?.close();
});

const LIID = 'LIIDRESTART';
const records = (from: number, n: number) =>
  Array.from({ length: n }, (_, i) => ({
    topic: '',
    key: LIID,
    value: psPdu('iri', LIID, 1, from + i),
    headers: { 'li.liid': LIID, 'li.cin': '1', 'li.seq': String(from + i), 'li.lemfs': 'lemf-r' },
  }));

function seqsOf(frames: Buffer[]): number[] {
  return frames.map((f) => {
    const d = decodePsPdu(f);
    if (!d.ok) throw new Error(`the LEMF received an undecodable frame: ${d.reason}`);
    return d.value.header.sequenceNumber;
  });
}

describe('a LEMF restarted by a settings change', () => {
  it('delivers the records that waited in the old delivery, and commits nothing past them', async () => {
    const t = uniqueTenant('restart');
    const { dest: v1, port } = await publishDownLemf(bus, t, 'lemf-r');
    const svc = await startService(ccDeliveryService, await deliveryEnv(t));
    let lemf: LemfHarness | null = null;
    try {
      const hi2 = topicName(t, 'hi2');
      await bus.send(records(0, 30).map((r) => ({ ...r, topic: hi2 })));
      const pending = async () => {
        const m = await (await fetch(`http://127.0.0.1:${svc.metricsPort}/metrics`)).text();
        const line = m
          .split('\n')
          .find((l) => l.startsWith(`li_cc_delivery_pending_records{tenant="${t}",lemf="lemf-r"`));
        return Number(line?.slice(line.lastIndexOf(' ') + 1) ?? 0);
      };
      await waitFor(async () => (await pending()) === 30, {
        what: '30 records waiting for the LEMF',
        timeoutMs: 30_000,
      });

      // Another timestamp profile: the queued records carry the old one's times, so the delivery restarts.
      lemf = await new LemfHarness({ port }).start();
      await publishLemf(bus, { ...v1, version: 2, timestampProfile: 'MILLISECONDS' });
      // Records after the change are confirmed by the LEMF: their commit must not pass the 30 before.
      await bus.send(records(30, 10).map((r) => ({ ...r, topic: hi2 })));

      await waitFor(() => new Set(seqsOf(lemf!.frames)).size === 40, {
        what: 'all 40 records at the LEMF',
        timeoutMs: 45_000,
        intervalMs: 200,
      });
      expect([...new Set(seqsOf(lemf.frames))].sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i));
      await waitFor(() => committedToEnd(bus, t, 'lemf-r'), {
        what: 'the queue committed to its end',
        timeoutMs: 20_000,
      });
    } finally {
      await svc.stop();
      await lemf?.stop();
    }
  }, 120_000);
});
