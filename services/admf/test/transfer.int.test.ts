// Operator change without interruption (seed 001 Art. 9 c.5) on the real broker: the warrant
// moves from one tenant to another under the same LIID; both tenants' warrant topics and audit
// chains hold the move, each audit record names the other tenant, and both chains verify, also
// after a restart rebuilt admf's state from the topics.
import { type Bus, createBus, readTopic, topicName } from '@li/bus';
import { startService } from '@li/runtime';
import type { AuditRecord, Warrant } from '@li/schemas';
import { memoryLogger, testInfra, uniqueTenant } from '@li/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../src/domain/audit.ts';
import { admfService } from '../src/service.ts';
import { admfClient, admfEnv, type TokenTable } from './helpers/admf.ts';

const infra = testInfra();
let bus: Bus;
beforeAll(async () => {
  bus = await createBus({ ...infra, clientId: 'admf-transfer-test' }, memoryLogger().log);
});
afterAll(async () => {
  await bus?.close();
});

const OP = 'operator-admin-token-xfer-01';

async function decoded<T>(tenant: string, stream: 'warrants' | 'audit', schema: 'Warrant' | 'AuditRecord') {
  const topic = topicName(tenant, stream);
  const codec = await bus.codec<T>(topic, schema);
  const out: { key: string; value: T }[] = [];
  for (const r of await readTopic(bus.kafka, topic))
    out.push({ key: String(r.key), value: await codec.decode(r.value) });
  return out;
}

describe('admf on Kafka > warrant transfer', () => {
  it('moves a warrant to another tenant with the same LIID, audited and verifiable on both sides', async () => {
    const from = uniqueTenant('xfa');
    const to = uniqueTenant('xfb');
    const tok = (t: string, role: string) => `${role}-${t}-token-0001`;
    const table: TokenTable = { [OP]: { subject: 'op', tenant: '*', role: 'admin' } };
    for (const t of [from, to]) {
      for (const role of ['admin', 'provisioner', 'auditor']) table[tok(t, role)] = { subject: role, tenant: t, role };
    }
    const env = await admfEnv([from, to], table);
    let svc = await startService(admfService, env);
    const call = admfClient(() => svc.ports.http);
    try {
      for (const [t, cc] of [
        [from, '39'],
        [to, '39'],
      ] as const) {
        expect((await call(OP, 'POST', '/tenants', { id: t, name: t, defaultCountryCode: cc })).status).toBe(201);
        const lemf = await call(tok(t, 'admin'), 'PUT', `/tenants/${t}/lemfs/lemf-${t}`, {
          name: 'LEMF',
          transport: 'ETSI_TCP',
          address: { host: '127.0.0.1', port: 16000 },
          allowInsecure: true,
        });
        expect(lemf.status).toBe(200);
      }
      const created = await call(tok(from, 'provisioner'), 'POST', `/tenants/${from}/warrants`, {
        liid: 'PORT1',
        authorisationCountry: 'IT',
        courtCaseId: 'RG-2026-55',
        italian: {
          proceedingNumber: '55/2026',
          ritNumber: '56/2026',
          judge: 'GIP Milano',
          authorisedOfficers: ['B'],
          operator: 'Old Op',
          interceptionType: 'TELEFONICA',
        },
        interceptionKind: 'VOICE',
        targets: [{ type: 'E164', value: '02 1234 5678' }],
        selection: { signals: true, media: true },
        deliver: 'IRI_AND_CC',
        lemfIds: [`lemf-${from}`],
        validFrom: new Date(Date.now() - 60_000).toISOString(),
        validUntil: new Date(Date.now() + 86_400_000).toISOString(),
      });
      expect(created.status).toBe(201);

      // A tenant's own admin may not move it; the operator may.
      const path = `/tenants/${from}/warrants/IT/PORT1/transfer`;
      const body = { toTenant: to, lemfIds: [`lemf-${to}`] };
      expect((await call(tok(from, 'admin'), 'POST', path, body)).status).toBe(403);
      const moved = await call(OP, 'POST', path, body);
      expect(moved.status).toBe(200);
      expect(moved.json.to).toMatchObject({ tenant: to, liid: 'PORT1', state: 'ACTIVE', status: 'IN_EFFECT' });
      expect(moved.json.from).toMatchObject({ tenant: from, liid: 'PORT1', state: 'DEACTIVATED' });

      // In Kafka: the new tenant's warrant in effect under the same key, the old one DEACTIVATED.
      const toW = await decoded<Warrant>(to, 'warrants', 'Warrant');
      expect(toW.map((r) => r.key)).toEqual(['IT:PORT1']);
      expect(toW[0]!.value).toMatchObject({
        tenant: to,
        liid: 'PORT1',
        state: 'ACTIVE',
        lemfIds: [`lemf-${to}`],
        targets: [expect.objectContaining({ value: '+390212345678' })],
        italian: expect.objectContaining({ ritNumber: '56/2026' }),
      });
      const fromW = await decoded<Warrant>(from, 'warrants', 'Warrant');
      expect(fromW.at(-1)).toMatchObject({ key: 'IT:PORT1', value: { state: 'DEACTIVATED', tenant: from } });
      // Both written at the same instant (one transaction): no moment with neither in effect.
      expect(toW[0]!.value.updatedAtMicros).toBe(fromW.at(-1)!.value.updatedAtMicros);

      // Both audit chains hold the move, naming the other tenant, and verify.
      const toA = (await decoded<AuditRecord>(to, 'audit', 'AuditRecord')).map((r) => r.value);
      const fromA = (await decoded<AuditRecord>(from, 'audit', 'AuditRecord')).map((r) => r.value);
      expect(toA.at(-1)).toMatchObject({
        action: 'warrant.transfer-in',
        objectId: 'IT:PORT1',
        actor: 'op',
        reason: `transferred from tenant ${from}`,
      });
      expect(fromA.at(-1)).toMatchObject({
        action: 'warrant.transfer-out',
        objectId: 'IT:PORT1',
        reason: `transferred to tenant ${to}`,
      });
      expect(verifyAuditChain(to, toA)).toMatchObject({ ok: true, count: toA.length });
      expect(verifyAuditChain(from, fromA)).toMatchObject({ ok: true, count: fromA.length });
    } finally {
      await svc.stop();
    }

    // A new admf process rebuilds both sides from the topics; the auditors' verification agrees.
    svc = await startService(admfService, env);
    try {
      const w = await call(tok(to, 'provisioner'), 'GET', `/tenants/${to}/warrants/IT/PORT1`);
      expect([w.status, w.json.status, w.json.tenant]).toEqual([200, 'IN_EFFECT', to]);
      const old = await call(tok(from, 'provisioner'), 'GET', `/tenants/${from}/warrants/IT/PORT1`);
      expect([old.status, old.json.status]).toEqual([200, 'DEACTIVATED']);
      for (const t of [from, to]) {
        const v = await call(tok(t, 'auditor'), 'GET', `/tenants/${t}/audit/verify`);
        expect([v.status, v.json.ok], t).toEqual([200, true]);
      }
      // Moving it again is a conflict: the new tenant has the LIID, the old one has it DEACTIVATED.
      const again = await call(OP, 'POST', `/tenants/${from}/warrants/IT/PORT1/transfer`, {
        toTenant: to,
        lemfIds: [`lemf-${to}`],
      });
      expect([again.status, again.json.error.field]).toEqual([409, 'state']);
    } finally {
      await svc.stop();
    }
  }, 90_000);
});
