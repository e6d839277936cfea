// Local measurement: time from an API call (suspend/resume/extend) to the store commit that
// the Kafka store turns into the warrants record, over the in-memory store.
// Run: node scripts/measure-api.ts [rounds]
import { systemClock } from '@li/core';
import { createLogger } from '@li/log';
import { InMemoryWarrantStore } from '../src/adapters/memory-store.ts';
import { buildAdmf } from '../src/service.ts';

const ROUNDS = Number(process.argv[2] ?? 300);
const store = new InMemoryWarrantStore();
const tokens = {
  'operator-admin-token-0001': { subject: 'op', tenant: '*', role: 'admin' },
  'acme-provisioner-token-01': { subject: 'p', tenant: 'acme', role: 'provisioner' },
} as const;
const admf = await buildAdmf({
  store,
  clock: systemClock,
  tokens: tokens as never,
  log: createLogger({ service: 'admf-measure' }),
  schedule: false,
});
const call = async (token: string, method: 'POST' | 'PUT', url: string, payload: object) => {
  const r = await admf.http.inject({ method, url, headers: { authorization: `Bearer ${token}` }, payload });
  if (r.statusCode >= 300) throw new Error(`${url}: ${r.body}`);
};
await call('operator-admin-token-0001', 'POST', '/tenants', { id: 'acme', name: 'Acme', defaultCountryCode: '39' });
await admf.useCases.putLemf({ subject: 'op', tenant: '*', role: 'admin' }, 'acme', 'lemf-rome', {
  name: 'Rome',
  transport: 'ETSI_TCP',
  address: { host: '127.0.0.1', port: 1 },
  allowInsecure: true,
});
const P = 'acme-provisioner-token-01';
await call(P, 'POST', '/tenants/acme/warrants', {
  liid: 'BENCH1',
  authorisationCountry: 'FR',
  courtCaseId: 'c',
  interceptionKind: 'VOICE',
  targets: [{ type: 'E164', value: '+33123456789' }],
  selection: { signals: true },
  deliver: 'IRI_ONLY',
  lemfIds: ['lemf-rome'],
  validFrom: new Date().toISOString(),
  validUntil: new Date(Date.now() + 86_400_000).toISOString(),
});
const lat: number[] = [];
let until = Date.now() + 86_400_000;
for (let i = 0; i < ROUNDS; i++) {
  const action = ['suspend', 'resume', 'extend'][i % 3]!;
  until += 1000;
  const t0 = performance.now();
  await call(
    P,
    'POST',
    `/tenants/acme/warrants/FR/BENCH1/${action}`,
    action === 'extend' ? { validUntil: new Date(until).toISOString() } : {},
  );
  lat.push(performance.now() - t0);
}
lat.sort((a, b) => a - b);
const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]!.toFixed(2);
console.log(
  JSON.stringify({
    rounds: ROUNDS,
    p50ms: q(0.5),
    p99ms: q(0.99),
    maxMs: lat.at(-1)!.toFixed(2),
    auditRecords: store.audit.get('acme')!.length,
  }),
);
await admf.close();
