// admf follows account events of tenants created after it started: the new tenant's events topic
// joins the follower's subscription, and a rename there reaches the warrant and its audit trail.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Bus, createBus, readTopic, topicName } from '@li/bus';
import { startService } from '@li/runtime';
import type { AuditRecord, NormalizedEvent, Warrant } from '@li/schemas';
import { sampleEvent } from '@li/schemas/testing';
import { memoryLogger, serviceEnv, testInfra, uniqueTenant, waitFor } from '@li/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admfService } from '../src/service.ts';

const infra = testInfra();
let bus: Bus;
beforeAll(async () => {
  bus = await createBus({ ...infra, clientId: 'admf-accounts-test' }, memoryLogger().log);
});
afterAll(async () => {
  await bus?.close();
});

const OP = 'operator-admin-token-accounts1';

describe('admf account events on Kafka', () => {
  it('follows the events of tenants created after it started', async () => {
    const tenants = [uniqueTenant('acca'), uniqueTenant('accb')];
    const prov = (t: string) => `provisioner-${t}-token`.padEnd(24, 'x');
    const dir = mkdtempSync(join(tmpdir(), 'admf-'));
    const tokensFile = join(dir, 'tokens.json');
    writeFileSync(
      tokensFile,
      JSON.stringify({
        [OP]: { subject: 'op', tenant: '*', role: 'admin' },
        ...Object.fromEntries(tenants.map((t) => [prov(t), { subject: `p-${t}`, tenant: t, role: 'provisioner' }])),
        ...Object.fromEntries(
          tenants.map((t) => [`auditor-${t}-token`.padEnd(24, 'x'), { subject: `a-${t}`, tenant: t, role: 'auditor' }]),
        ),
      }),
    );
    const env = await serviceEnv('admf', [], {
      LI_HTTP__HOST: '127.0.0.1',
      LI_HTTP__PORT: '0',
      LI_TOKENS_FILE: tokensFile,
    });
    const svc = await startService(admfService, env);
    const call = async (token: string, method: string, path: string, body?: unknown) => {
      const res = await fetch(`http://127.0.0.1:${svc.ports.http}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : null,
      });
      // biome-ignore lint/suspicious/noExplicitAny: the test reads response fields one by one
      return { status: res.status, json: (await res.json()) as any };
    };
    const warrant = {
      liid: 'MAIL2',
      authorisationCountry: 'DE',
      courtCaseId: 'AZ-2026-2',
      interceptionKind: 'EMAIL',
      targets: [{ type: 'MAIL_ACCOUNT', value: 'jdoe' }],
      selection: { login: true, newMail: true },
      deliver: 'IRI_AND_CC',
      lemfIds: ['lemf-1'],
      validFrom: new Date(Date.now() - 60_000).toISOString(),
      validUntil: new Date(Date.now() + 86_400_000).toISOString(),
    };
    const renamed = async (t: string, newName: string) => {
      // Created only now, after admf started: not among the tenants it loaded.
      expect((await call(OP, 'POST', '/tenants', { id: t, name: t, defaultCountryCode: '49' })).status).toBe(201);
      const lemf = {
        name: 'L',
        transport: 'ETSI_TCP',
        address: { host: '127.0.0.1', port: 16000 },
        allowInsecure: true,
      };
      expect((await call(OP, 'PUT', `/tenants/${t}/lemfs/lemf-1`, lemf)).status).toBe(200);
      expect((await call(prov(t), 'POST', `/tenants/${t}/warrants`, warrant)).status).toBe(201);
      const topic = topicName(t, 'events');
      const codec = await bus.codec<NormalizedEvent>(topic, 'NormalizedEvent');
      const event = sampleEvent({
        tenant: t,
        eventId: `${t}-rename`,
        category: 'ACCOUNT',
        action: 'account.renamed',
        source: 'mail',
        protocol: 'ADMIN',
        parties: [],
        network: null,
        attributes: { old: 'jdoe', new: newName },
        content: null,
        contentType: null,
      });
      await bus.send([{ topic, key: 'acct', value: await codec.encode(event) }]);
      await waitFor(
        async () => (await call(prov(t), 'GET', `/tenants/${t}/warrants/DE/MAIL2`)).json.targets[0].value === newName,
        { what: `the rename on ${t} applied`, timeoutMs: 45_000, intervalMs: 300 },
      );
    };
    try {
      await renamed(tenants[0]!, 'john');
      // A second new tenant restarts the follower with both topics; the first one's rename stays applied once.
      await renamed(tenants[1]!, 'johnny');
      for (const [t, name] of [
        [tenants[0]!, 'john'],
        [tenants[1]!, 'johnny'],
      ] as const) {
        const audit = await call(`auditor-${t}-token`.padEnd(24, 'x'), 'GET', `/tenants/${t}/audit`);
        const entries = audit.json.filter((a: { action: string }) => a.action === 'warrant.target.renamed');
        expect(entries).toHaveLength(1);
        expect(entries[0]).toMatchObject({ actor: 'system:account-events', objectId: 'DE:MAIL2' });
        // On Kafka too: the warrant record and its audit record.
        const wCodec = await bus.codec<Warrant>(topicName(t, 'warrants'), 'Warrant');
        const last = (await readTopic(bus.kafka, topicName(t, 'warrants'))).at(-1)!;
        expect((await wCodec.decode(last.value)).targets.map((x) => x.value)).toEqual([name]);
        const aCodec = await bus.codec<AuditRecord>(topicName(t, 'audit'), 'AuditRecord');
        const onTopic = await Promise.all(
          (await readTopic(bus.kafka, topicName(t, 'audit'))).map((r) => aCodec.decode(r.value)),
        );
        expect(onTopic.filter((a) => a.action === 'warrant.target.renamed')).toHaveLength(1);
      }
    } finally {
      await svc.stop();
    }
  }, 150_000);
});
