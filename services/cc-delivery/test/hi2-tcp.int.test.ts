// TS 101 671 HI2 over TCP streaming to a dedicated LEMF port (seed 001 Art. 6 c. 3 b), checked
// with tshark's HI2Operations dissector.
import { sampleLemf } from '@li/schemas/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { LemfHarness } from '../src/testing/index.ts';
import { hi2Iri, psPdu } from './helpers/ber.ts';
import { decodeHi2WithTshark } from './helpers/decoders.ts';
import { record, testDeliveries, waitFor } from './helpers/util.ts';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

describe('HI2 over TCP streaming', () => {
  for (const framing of ['ber', 'tpkt'] as const) {
    it(`streams IRI records byte-equal and decodable (${framing} framing)`, async () => {
      const h = await new LemfHarness({ framing }).start();
      cleanup.push(() => h.stop());
      const { deliveries, dead } = testDeliveries({ hi2Framing: framing });
      cleanup.push(() => deliveries.stop());
      await deliveries.applyLemf(
        sampleLemf({
          allowInsecure: true,
          id: 'hi2',
          transport: 'HI2_TCP',
          address: { host: '127.0.0.1', port: h.port },
          ccAddress: null,
        }),
      );
      const liids = ['LIIDX1', 'LIIDX2'];
      const sent = Array.from({ length: 40 }, (_, i) =>
        record('hi2', liids[i % 2]!, i, 'HI2', hi2Iri(liids[i % 2]!, 10_000 + i)),
      );
      // a CC record has no place on an HI2-only connection: dead-lettered, the rest goes on
      const cc = record('hi2', 'LIIDX1', 0, 'HI3', psPdu('cc', 'LIIDX1', 1, 0));
      deliveries.offer('hi2', [...sent.slice(0, 20), cc, ...sent.slice(20)]);
      await deliveries.delivery('hi2')!.drained();
      await waitFor(() => h.frames.length === 40, 'HI2 records');
      expect(h.frames).toEqual(sent.map((r) => Buffer.from(r.bytes)));
      expect(decodeHi2WithTshark(h.frames)).toEqual(sent.map((r) => r.liid));
      expect(dead.map((d) => d.error.code)).toEqual(['DLV_ERR_BAD_RECORD']);
    });
  }

  it('a MILLISECONDS LEMF gets every generalizedTime with exactly three fraction digits, still decodable', async () => {
    const h = await new LemfHarness().start();
    cleanup.push(() => h.stop());
    const { deliveries, dead } = testDeliveries();
    cleanup.push(() => deliveries.stop());
    await deliveries.applyLemf(
      sampleLemf({
        allowInsecure: true,
        id: 'hi2ms',
        transport: 'HI2_TCP',
        address: { host: '127.0.0.1', port: h.port },
        ccAddress: null,
        timestampProfile: 'MILLISECONDS',
      }),
    );
    const sent = Array.from({ length: 4 }, (_, i) => ({
      ...record('hi2ms', 'LIIDM', i, 'HI2', hi2Iri('LIIDM', 20_000 + i)),
      format: 'TS101671' as const,
    }));
    const timesOf = (b: Uint8Array) =>
      [
        ...Buffer.from(b)
          .toString('latin1')
          .matchAll(/\d{14}(\.\d+)?Z/g),
      ].map((m) => m[0]);
    deliveries.offer('hi2ms', sent);
    await deliveries.delivery('hi2ms')!.drained();
    await waitFor(() => h.frames.length === 4, 'HI2 records');
    console.log(
      `TS 101 671 time as encoded ${timesOf(sent[0]!.bytes)[0]}, as the MILLISECONDS LEMF got it ${timesOf(h.frames[0]!)[0]}`,
    );
    for (const f of h.frames) {
      const texts = timesOf(f);
      expect(texts.length).toBeGreaterThan(0);
      for (const t of texts) expect(t).toMatch(/^\d{14}\.\d{3}Z$/);
    }
    expect(decodeHi2WithTshark(h.frames)).toEqual(sent.map((r) => r.liid));
    expect(dead).toEqual([]);
  });
});
