// mcid-store on the real broker: administrative states and subscriber data through the REST
// API, SIP events through li.<t>.events, a permanent-mode report stored in a local ACR file,
// and the whole state back after a restart.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Bus, createBus, readTopic, topicName } from '@li/bus';
import { startService } from '@li/runtime';
import type { NormalizedEvent } from '@li/schemas';
import { memoryLogger, serviceEnv, testInfra, uniqueTenant, waitFor } from '@li/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mcidStoreService } from '../src/service.ts';
import { invite, response } from '../src/testing/sip-fixtures.ts';

const infra = testInfra();
let bus: Bus;
beforeAll(async () => {
  bus = await createBus({ ...infra, clientId: 'mcid-test' }, memoryLogger().log);
});
afterAll(async () => {
  await bus?.close();
});

const OP = 'operator-admin-token-mcid-kafka';
const PROV = 'provisioner-token-mcid-kafka';
const AUDITOR = 'auditor-token-mcid-kafka-01';
const OTHER = 'other-tenant-admin-token-mcid';

describe('mcid-store on Kafka', () => {
  it('reports a permanent-mode call to local storage and keeps its state across a restart', async () => {
    const tenant = uniqueTenant('mcid');
    const dir = mkdtempSync(join(tmpdir(), 'mcid-acr-'));
    const tokensFile = join(mkdtempSync(join(tmpdir(), 'mcid-tokens-')), 'tokens.json');
    writeFileSync(
      tokensFile,
      JSON.stringify({
        [OP]: { subject: 'op', tenant: '*', role: 'admin' },
        [PROV]: { subject: 'prov', tenant, role: 'provisioner' },
        [AUDITOR]: { subject: 'aud', tenant, role: 'auditor' },
        [OTHER]: { subject: 'other', tenant: 'other-tenant', role: 'admin' },
      }),
    );
    const env = await serviceEnv('mcid-store', [tenant], {
      LI_TENANTS: tenant,
      LI_TOKENS_FILE: tokensFile,
      LI_HTTP__PORT: '0',
      LI_REPORTING_TYPE: 'LOCAL',
      LI_LOCAL_STORAGE__DIRECTORY: dir,
      LI_LOCAL_STORAGE__MAX_RECORDS: '1',
    });
    let api = '';
    const call = async (method: string, path: string, body?: unknown, token: string | null = OP) => {
      const res = await fetch(`${api}${path}`, {
        method,
        headers: {
          ...(body ? { 'content-type': 'application/json' } : {}),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: body ? JSON.stringify(body) : null,
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    let svc = await startService(mcidStoreService, env);
    api = `http://127.0.0.1:${svc.ports.http}/v1`;
    try {
      expect((await call('PUT', '/admin-state', { state: 'UNLOCKED' })).status).toBe(200);
      expect((await call('PUT', `/tenants/${tenant}/admin-state`, { state: 'UNLOCKED' })).status).toBe(200);
      const created = await call('POST', `/tenants/${tenant}/subscribers`, {
        identities: ['tel:+390612345678'],
        mode: 'PERMANENT',
      });
      expect(created.status).toBe(201);
      // The listener itself checks the caller: no token, another tenant's token, a read-only role.
      const subs = `/tenants/${tenant}/subscribers`;
      expect((await call('GET', subs, undefined, null)).status).toBe(401);
      expect((await call('GET', subs, undefined, OTHER)).status).toBe(404);
      expect((await call('POST', subs, { identities: ['tel:+390611111111'], mode: 'PERMANENT' }, AUDITOR)).status).toBe(
        403,
      );
      expect((await call('GET', subs, undefined, AUDITOR)).body.subscribers).toHaveLength(1);

      const at = Date.now() * 1000;
      const callId = `mcid-${tenant}@ims.example.net`;
      const events: NormalizedEvent[] = [
        invite({ callId, at, requestUri: 'sip:+390612345678@ims.example.net;user=phone' }),
        response({ callId, at: at + 1_000_000, status: 180, toTag: 'b1' }),
        response({ callId, at: at + 3_000_000, status: 200, toTag: 'b1' }),
      ].map((e) => ({ ...e, tenant }));
      const topic = topicName(tenant, 'events');
      const codec = await bus.codec<NormalizedEvent>(topic, 'NormalizedEvent');
      await bus.send(
        await Promise.all(events.map(async (e) => ({ topic, key: callId, value: await codec.encode(e) }))),
      );

      const reports = await waitFor(
        async () => {
          const r = await call('GET', `/tenants/${tenant}/reports`);
          return (r.body.total as number) > 0
            ? (r.body.reports as { report: { mcidTimestampMicros: number }; delivery: { via: string } | null }[])
            : undefined;
        },
        { what: 'the MCID report', timeoutMs: 20_000, intervalMs: 200 },
      );
      expect(reports).toHaveLength(1);
      // Permanent mode: the time the initial INVITE was received.
      expect(reports[0]!.report.mcidTimestampMicros).toBe(at);
      await waitFor(async () => (await call('GET', `/tenants/${tenant}/reports?undelivered=true`)).body.total === 0, {
        what: 'the report to be stored',
      });
      expect(readdirSync(dir).some((f) => !f.endsWith('.tmp'))).toBe(true);
    } finally {
      await svc.stop();
    }

    // A new process restores subscriber, states and reports from the compacted topics.
    svc = await startService(mcidStoreService, env);
    api = `http://127.0.0.1:${svc.ports.http}/v1`;
    try {
      expect((await call('GET', `/tenants/${tenant}/subscribers`)).body).toMatchObject({
        subscribers: [expect.objectContaining({ mode: 'PERMANENT' })],
      });
      expect((await call('GET', '/admin-state')).body).toMatchObject({ state: 'UNLOCKED' });
      // The report and its delivery (written as a separate mark) come back as one delivered report.
      const restored = (await call('GET', `/tenants/${tenant}/reports`)).body;
      expect(restored.total).toBe(1);
      expect(restored.reports).toMatchObject([{ delivery: { via: 'LOCAL' } }]);
      expect((await call('GET', `/tenants/${tenant}/reports?undelivered=true`)).body.total).toBe(0);
    } finally {
      await svc.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);

  it('dead-letters SIP events of another tenant, never applies them, and handles the rest of the batch', async () => {
    const a = uniqueTenant('mcida');
    const b = uniqueTenant('mcidb');
    const tokensFile = join(mkdtempSync(join(tmpdir(), 'mcid-tokens-')), 'tokens.json');
    writeFileSync(tokensFile, JSON.stringify({ [OP]: { subject: 'op', tenant: '*', role: 'admin' } }));
    const env = await serviceEnv('mcid-store', [a, b], {
      LI_TENANTS: `${a},${b}`,
      LI_HTTP__PORT: '0',
      LI_REPORTING_TYPE: 'LOCAL',
      LI_TOKENS_FILE: tokensFile,
    });
    const dir = mkdtempSync(join(tmpdir(), 'mcid-acr-'));
    const svc = await startService(mcidStoreService, { ...env, LI_LOCAL_STORAGE__DIRECTORY: dir });
    const api = `http://127.0.0.1:${svc.ports.http}/v1`;
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${api}${path}`, {
        method,
        headers: { authorization: `Bearer ${OP}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : null,
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    try {
      expect((await call('PUT', '/admin-state', { state: 'UNLOCKED' })).status).toBe(200);
      for (const t of [a, b]) {
        expect((await call('PUT', `/tenants/${t}/admin-state`, { state: 'UNLOCKED' })).status).toBe(200);
        const created = await call('POST', `/tenants/${t}/subscribers`, {
          identities: ['tel:+390612345678'],
          mode: 'PERMANENT',
        });
        expect(created.status).toBe(201);
      }
      const at = Date.now() * 1000;
      const callOf = (tenant: string, callId: string) =>
        [
          invite({ callId, at, requestUri: 'sip:+390612345678@ims.example.net;user=phone' }),
          response({ callId, at: at + 1_000_000, status: 180, toTag: 'b1' }),
          response({ callId, at: at + 3_000_000, status: 200, toTag: 'b1' }),
        ].map((e) => ({ ...e, tenant }));
      // On a's topic: a whole call claiming tenant b, then a call of a itself.
      const topic = topicName(a, 'events');
      const codec = await bus.codec<NormalizedEvent>(topic, 'NormalizedEvent');
      const events = [...callOf(b, `x-${b}@ims.example.net`), ...callOf(a, `ok-${a}@ims.example.net`)];
      await bus.send(
        await Promise.all(events.map(async (e) => ({ topic, key: e.communicationId, value: await codec.encode(e) }))),
      );

      const dlq = await waitFor(
        async () => {
          const recs = await readTopic(bus.kafka, topicName(a, 'dlq'));
          return recs.length >= 3 ? recs : undefined;
        },
        { what: 'three dead letters', timeoutMs: 20_000, intervalMs: 200 },
      );
      expect(dlq.map((r) => r.headers['li.dlq.code'])).toEqual(Array(3).fill('MCD_ERR_TENANT_MISMATCH'));
      expect(dlq[0]!.headers['li.dlq.reason']).toBe('event tenant differs from its topic');
      expect(dlq[0]!.headers['li.dlq.topic']).toBe(topic);
      await waitFor(async () => (await call('GET', `/tenants/${a}/reports`)).body.total === 1, {
        what: "the report of a's own call",
        timeoutMs: 20_000,
        intervalMs: 200,
      });
      // b never saw a call: the events that claimed it came from a's topic.
      expect((await call('GET', `/tenants/${b}/reports`)).body.total).toBe(0);
    } finally {
      await svc.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);
});
