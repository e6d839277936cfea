// admf on the real broker: every change lands in Kafka in one transaction (warrant, audit,
// tenant registry); a restarted admf rebuilds the same state from the topics and its audit
// chain still verifies; a rejected request writes nothing to any topic.
import { type Bus, createBus, readTopic, SYSTEM_TOPICS, topicName } from '@li/bus';
import { startService } from '@li/runtime';
import type { NormalizedEvent, Warrant } from '@li/schemas';
import { memoryLogger, testInfra, uniqueTenant, waitFor } from '@li/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admfService } from '../src/service.ts';
import { accountEvent, admfClient, admfEnv } from './helpers/admf.ts';

const infra = testInfra();
let bus: Bus;
beforeAll(async () => {
  bus = await createBus({ ...infra, clientId: 'admf-test' }, memoryLogger().log);
});
afterAll(async () => {
  await bus?.close();
});

const OP = 'operator-admin-token-kafka-01';
const ADMIN = 'tenant-admin-token-kafka-001';
const PROV = 'tenant-provisioner-kafka-001';
const AUDITOR = 'tenant-auditor-token-kafka01';

describe('admf on Kafka', () => {
  it('persists changes transactionally, restores them after a restart, and writes nothing for bad input', async () => {
    const tenant = uniqueTenant('adm');
    const env = await admfEnv([tenant], {
      [OP]: { subject: 'op', tenant: '*', role: 'admin' },
      [ADMIN]: { subject: 'admin', tenant, role: 'admin' },
      [PROV]: { subject: 'prov', tenant, role: 'provisioner' },
      [AUDITOR]: { subject: 'aud', tenant, role: 'auditor' },
    });
    let svc = await startService(admfService, env);
    const call = admfClient(() => svc.ports.http);
    const warrant = {
      liid: 'KAFKA1',
      authorisationCountry: 'IT',
      courtCaseId: 'RG-2026-7',
      italian: {
        proceedingNumber: '1/2026',
        ritNumber: '2/2026',
        judge: 'GIP Roma',
        authorisedOfficers: ['A'],
        operator: 'Op',
        interceptionType: 'TELEMATICA',
      },
      interceptionKind: 'VOICE',
      targets: [{ type: 'E164', value: '06 1234 5678' }],
      selection: { signals: true },
      deliver: 'IRI_AND_CC',
      lemfIds: ['lemf-rome'],
      validFrom: new Date(Date.now() - 60_000).toISOString(),
      validUntil: new Date(Date.now() + 86_400_000).toISOString(),
    };
    try {
      expect((await call(OP, 'POST', '/tenants', { id: tenant, name: 'K', defaultCountryCode: '39' })).status).toBe(
        201,
      );
      const lemf = await call(ADMIN, 'PUT', `/tenants/${tenant}/lemfs/lemf-rome`, {
        name: 'Rome',
        transport: 'ETSI_TCP',
        address: { host: '127.0.0.1', port: 16000 },
        allowInsecure: true,
      });
      expect(lemf.status).toBe(200);
      expect((await call(PROV, 'POST', `/tenants/${tenant}/warrants`, warrant)).status).toBe(201);
      expect((await call(PROV, 'POST', `/tenants/${tenant}/warrants/IT/KAFKA1/suspend`, {})).status).toBe(200);

      // In Kafka: the warrant under <country>:<LIID>, normalised, and the audit trail.
      const codec = await bus.codec<Warrant>(topicName(tenant, 'warrants'), 'Warrant');
      const records = await readTopic(bus.kafka, topicName(tenant, 'warrants'));
      const last = await codec.decode(records.at(-1)!.value);
      expect(records.at(-1)!.key).toBe('IT:KAFKA1');
      expect(last).toMatchObject({
        state: 'SUSPENDED',
        targets: [expect.objectContaining({ type: 'E164', value: '+390612345678' })],
      });
      const auditBefore = (await readTopic(bus.kafka, topicName(tenant, 'audit'))).length;
      expect(auditBefore).toBeGreaterThanOrEqual(4);
      expect((await readTopic(bus.kafka, SYSTEM_TOPICS.tenants)).some((r) => r.key === tenant)).toBe(true);

      // Bad input: a clear 4xx naming the field, and not one record more anywhere.
      const bad = await call(PROV, 'POST', `/tenants/${tenant}/warrants`, { ...warrant, liid: 'NOT-VALID!' });
      expect(bad.status).toBe(400);
      expect(JSON.stringify(bad.json)).toMatch(/liid/);
      expect(await readTopic(bus.kafka, topicName(tenant, 'audit'))).toHaveLength(auditBefore);
      expect(await readTopic(bus.kafka, topicName(tenant, 'warrants'))).toHaveLength(records.length);

      // A billing order is one more audit record (the invoice reads it back after the restart).
      const order = await call(PROV, 'POST', `/tenants/${tenant}/warrants/IT/KAFKA1/billing-orders`, {
        service: 'MULTI_POTS',
        lines: 2,
      });
      expect([order.status, order.json.seq]).toEqual([200, auditBefore + 1]);
    } finally {
      await svc.stop();
    }

    // A new admf process: same warrant, same audit, and the chain verifies.
    svc = await startService(admfService, env);
    try {
      const w = await call(PROV, 'GET', `/tenants/${tenant}/warrants/IT/KAFKA1`);
      expect(w.status).toBe(200);
      expect(JSON.stringify(w.json)).toContain('SUSPENDED');
      const verify = await call(AUDITOR, 'GET', `/tenants/${tenant}/audit/verify`);
      expect(verify.status).toBe(200);
      expect(verify.json).toMatchObject({ ok: true, count: 5 });
      // The invoice from the rebuilt trail: multi-line POTS, 0,60 + 2 x 0,90 = 2,40 EUR a day.
      const day = (d: number) => new Date(Date.now() + d * 86_400_000).toISOString().slice(0, 10);
      const inv = await call(AUDITOR, 'GET', `/tenants/${tenant}/billing?from=${day(-2)}&to=${day(2)}`);
      expect(inv.status).toBe(200);
      expect(inv.json.items[0]).toMatchObject({ liid: 'KAFKA1', service: 'MULTI_POTS', lines: 2, unitMinor: 240 });
      // Seq 1 and 2 are the tenant and the LEMF; 3, 4 the warrant's create and suspend; 5 the order.
      expect(inv.json.inputs).toEqual({ auditSeqs: [3, 4, 5], auditHeadSeq: 5 });
      // The chain continues after the restart.
      expect((await call(PROV, 'POST', `/tenants/${tenant}/warrants/IT/KAFKA1/resume`, {})).status).toBe(200);
      expect(JSON.stringify((await call(AUDITOR, 'GET', `/tenants/${tenant}/audit/verify`)).json)).toMatch(
        /"ok":true|"valid":true/,
      );
    } finally {
      await svc.stop();
    }
  }, 90_000);

  it('keeps the Italian activation fields (seed 001 Art. 9) in Kafka and across a restart', async () => {
    const tenant = uniqueTenant('admit');
    const env = await admfEnv([tenant], {
      [OP]: { subject: 'op', tenant: '*', role: 'admin' },
      [ADMIN]: { subject: 'admin', tenant, role: 'admin' },
      [PROV]: { subject: 'prov', tenant, role: 'provisioner' },
    });
    let svc = await startService(admfService, env);
    const call = admfClient(() => svc.ports.http);
    const W = `/tenants/${tenant}/warrants/IT/AMB1`;
    const data = {
      supportServer: 'srv-appoggio.procura.example',
      listeningSessionNumber: '2026-000417',
      addressBook: 'RUB-17',
      supportLines: ['+390699990001'],
      ftpServerAddress: 'ftps://ftp.procura.example/in',
    };
    try {
      expect((await call(OP, 'POST', '/tenants', { id: tenant, name: 'K', defaultCountryCode: '39' })).status).toBe(
        201,
      );
      const lemf = { name: 'Rome', transport: 'ETSI_TCP', address: { host: '127.0.0.1', port: 16000 } };
      expect(
        (await call(ADMIN, 'PUT', `/tenants/${tenant}/lemfs/lemf-rome`, { ...lemf, allowInsecure: true })).status,
      ).toBe(200);
      const created = await call(PROV, 'POST', `/tenants/${tenant}/warrants`, {
        liid: 'AMB1',
        authorisationCountry: 'IT',
        courtCaseId: 'RG-2026-9',
        italian: {
          proceedingNumber: '9/2026',
          ritNumber: '10/2026',
          judge: 'GIP Roma',
          authorisedOfficers: ['A'],
          operator: 'Op',
          interceptionType: 'AMBIENTALE',
        },
        interceptionKind: 'VOICE',
        targets: [{ type: 'E164', value: '06 1234 5', incomplete: true }],
        selection: { signals: true },
        deliver: 'IRI_AND_CC',
        lemfIds: ['lemf-rome'],
        validFrom: new Date(Date.now() - 60_000).toISOString(),
        validUntil: new Date(Date.now() + 86_400_000).toISOString(),
      });
      expect(created.status).toBe(201);
      expect((await call(PROV, 'PUT', `${W}/technical-data`, data)).status).toBe(200);

      const codec = await bus.codec<Warrant>(topicName(tenant, 'warrants'), 'Warrant');
      const records = await readTopic(bus.kafka, topicName(tenant, 'warrants'));
      const last = await codec.decode(records.at(-1)!.value);
      expect(last.targets).toEqual([{ id: 't1', type: 'E164', value: '+390612345', incomplete: true }]);
      expect(last.italian).toMatchObject({ interceptionType: 'AMBIENTALE', technicalData: data });
      const audit = await readTopic(bus.kafka, topicName(tenant, 'audit'));
      expect(
        audit.some((r) => (r.value ?? Buffer.alloc(0)).toString('latin1').includes('warrant.technical-data')),
      ).toBe(true);
    } finally {
      await svc.stop();
    }
    svc = await startService(admfService, env);
    try {
      const w = await call(PROV, 'GET', W);
      expect(w.json.targets[0]).toMatchObject({ value: '+390612345', incomplete: true });
      expect(w.json.italian).toMatchObject({ interceptionType: 'AMBIENTALE', technicalData: data });
    } finally {
      await svc.stop();
    }
  }, 90_000);

  it('dead-letters an account event of another tenant and applies the next one', async () => {
    const a = uniqueTenant('adma');
    const b = uniqueTenant('admb');
    const [PA, PB] = ['provisioner-a-kafka-token-01', 'provisioner-b-kafka-token-01'];
    const env = await admfEnv([a, b], {
      [OP]: { subject: 'op', tenant: '*', role: 'admin' },
      [PA]: { subject: 'pa', tenant: a, role: 'provisioner' },
      [PB]: { subject: 'pb', tenant: b, role: 'provisioner' },
    });
    let svc = await startService(admfService, env);
    const call = admfClient(() => svc.ports.http);
    const warrant = {
      liid: 'MAIL1',
      authorisationCountry: 'DE',
      courtCaseId: 'AZ-2026-1',
      interceptionKind: 'EMAIL',
      targets: [{ type: 'MAIL_ACCOUNT', value: 'jdoe' }],
      selection: { login: true, newMail: true },
      deliver: 'IRI_AND_CC',
      lemfIds: ['lemf-1'],
      validFrom: new Date(Date.now() - 60_000).toISOString(),
      validUntil: new Date(Date.now() + 86_400_000).toISOString(),
    };
    const targetsOf = async (token: string, tenant: string) => {
      const w = await call(token, 'GET', `/tenants/${tenant}/warrants/DE/MAIL1`);
      return { targets: w.json.targets.map((t: { value: string }) => t.value), state: w.json.state };
    };
    try {
      for (const [t, token] of [
        [a, PA],
        [b, PB],
      ] as const) {
        expect((await call(OP, 'POST', '/tenants', { id: t, name: t, defaultCountryCode: '49' })).status).toBe(201);
        const lemf = {
          name: 'L',
          transport: 'ETSI_TCP',
          address: { host: '127.0.0.1', port: 16000 },
          allowInsecure: true,
        };
        expect((await call(OP, 'PUT', `/tenants/${t}/lemfs/lemf-1`, lemf)).status).toBe(200);
        expect((await call(token, 'POST', `/tenants/${t}/warrants`, warrant)).status).toBe(201);
      }
    } finally {
      await svc.stop();
    }
    // admf follows the events topics of the tenants it knows at start.
    svc = await startService(admfService, env);
    try {
      const topic = topicName(a, 'events');
      const codec = await bus.codec<NormalizedEvent>(topic, 'NormalizedEvent');
      const account = (tenant: string, action: string, attributes: Record<string, string>) =>
        accountEvent(tenant, `${tenant}-${action}`, action, attributes);

      // On a's topic: b's account removed (would drop b's target and deactivate b's warrant), then a rename of a's own.
      const events = [
        account(b, 'account.removed', { account: 'jdoe' }),
        account(a, 'account.renamed', { old: 'jdoe', new: 'john' }),
      ];
      await bus.send(
        await Promise.all(events.map(async (e) => ({ topic, key: 'acct', value: await codec.encode(e) }))),
      );
      await waitFor(async () => (await targetsOf(PA, a)).targets[0] === 'john', {
        what: "a's rename applied",
        timeoutMs: 30_000,
        intervalMs: 300,
      });
      // Only b's event (offset 0), with its code. Another test's admf started meanwhile on the
      // shared broker follows a's events as well and may dead-letter the same record again.
      // The dead letter commits with the batch's offsets, after the rename it applied is visible.
      const dlq = await waitFor(
        async () => {
          const records = await readTopic(bus, topicName(a, 'dlq'));
          return records.length > 0 ? records : undefined;
        },
        { what: "b's event dead-lettered", timeoutMs: 30_000, intervalMs: 300 },
      );
      expect(
        new Set(
          dlq.map((r) => [r.headers['li.dlq.code'], r.headers['li.dlq.offset'], r.headers['li.dlq.reason']].join()),
        ),
      ).toEqual(new Set(['ADM_ERR_TENANT_MISMATCH,0,event tenant differs from its topic']));
      expect(await targetsOf(PB, b)).toEqual({ targets: ['jdoe'], state: 'ACTIVE' });
    } finally {
      await svc.stop();
    }
  }, 120_000);
});
