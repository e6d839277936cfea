// Ad hoc: records/s from createLemfDeliveries to a local TCP LEMF harness (ETSI TCP, plain, drain-confirmed).
// Run: ../../node_modules/.bin/node test/throughput.bench.ts [records] [batch]
// The formal bench (bench/deliver, beside the raw bus reference) is wired by the lead.
import { sampleLemf } from '@li/schemas/testing';
import { LemfHarness } from '../src/testing/index.ts';
import { psPdu } from './helpers/ber.ts';
import { record, testDeliveries, waitFor } from './helpers/util.ts';

const total = Number(process.argv[2] ?? 200_000);
const batch = Number(process.argv[3] ?? 256);
const h = await new LemfHarness().start();
const { deliveries } = testDeliveries({}, batch);
await deliveries.applyLemf(
  sampleLemf({
    allowInsecure: true,
    id: 'bench',
    address: { host: '127.0.0.1', port: h.port },
    ccAddress: null,
    keepaliveSeconds: 0,
  }),
);
const pdus = Array.from({ length: 1000 }, (_, i) => psPdu('iri', 'LIIDBENCH', 1, i));
const records = Array.from({ length: total }, (_, i) => record('bench', 'LIIDBENCH', i, 'HI2', pdus[i % 1000]!));
const bytes = records.reduce((n, r) => n + r.bytes.length, 0);
const t0 = performance.now();
for (let i = 0; i < total; i += 5000) deliveries.offer('bench', records.slice(i, i + 5000));
await deliveries.delivery('bench')!.drained();
await waitFor(() => h.frames.length >= total, 'all frames', 120_000);
const s = (performance.now() - t0) / 1000;
console.log(
  `delivered ${total} PS-PDUs (${(bytes / 1e6).toFixed(1)} MB) in ${s.toFixed(2)} s: ` +
    `${Math.round(total / s)} records/s, ${(bytes / 1e6 / s).toFixed(1)} MB/s`,
);
await deliveries.stop();
await h.stop();
