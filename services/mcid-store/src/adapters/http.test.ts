import { TokenAuthenticator } from '@li/auth';
import { ManualClock } from '@li/core';
import { silentLogger } from '@li/log/testing';
import type { InjectOptions } from 'fastify';
import { describe, expect, it } from 'vitest';
import { MemoryStateStore } from '../testing/memory-store.ts';
import { sampleReports } from '../testing/reports.ts';
import { buildApp, keepNewest } from './http.ts';

const clock = new ManualClock(1_790_000_000_000);
const S = 'sip:+15552220000@ims.example.net;user=phone';

const T = {
  op: 'operator-admin-token-mcid-01',
  admin1: 'vtp1-admin-token-mcid-0001',
  prov1: 'vtp1-provisioner-token-mcid',
  aud1: 'vtp1-auditor-token-mcid-001',
  mail1: 'vtp1-mailserver-token-mcid',
  admin2: 'vtp2-admin-token-mcid-0001',
  prov3: 'vtp3-provisioner-token-mcid',
};
const table = TokenAuthenticator.fromTable({
  [T.op]: { subject: 'op', tenant: '*', role: 'admin' },
  [T.admin1]: { subject: 'a1', tenant: 'vtp1', role: 'admin' },
  [T.prov1]: { subject: 'p1', tenant: 'vtp1', role: 'provisioner' },
  [T.aud1]: { subject: 'r1', tenant: 'vtp1', role: 'auditor' },
  [T.mail1]: { subject: 'm1', tenant: 'vtp1', role: 'mailserver' },
  [T.admin2]: { subject: 'a2', tenant: 'vtp2', role: 'admin' },
  [T.prov3]: { subject: 'p3', tenant: 'vtp3', role: 'provisioner' },
});
if (!table.ok) throw new Error(table.error.message);
const authenticator = table.value;

function setup() {
  const store = new MemoryStateStore();
  const app = buildApp({ store, clock, authenticator, tenants: ['vtp1', 'vtp2'], log: silentLogger });
  /** inject() as the caller holding `token` (the operator-wide admin by default). */
  const as = (o: InjectOptions & { token?: string | null }) => {
    const { token = T.op, ...rest } = o;
    return app.inject({ ...rest, headers: token === null ? {} : { authorization: `Bearer ${token}` } });
  };
  return { store, app, as };
}

describe('REST API', () => {
  it('administrative states: locked by default, the service acts only when both are unlocked', async () => {
    const { as } = setup();
    expect((await as({ method: 'GET', url: '/v1/admin-state' })).json()).toEqual({ state: 'LOCKED' });
    await as({ method: 'PUT', url: '/v1/admin-state', payload: { state: 'UNLOCKED' } });
    let r = await as({ method: 'GET', url: '/v1/tenants/vtp1/admin-state' });
    expect(r.json()).toEqual({ global: 'UNLOCKED', tenant: 'LOCKED', active: false });
    r = await as({ method: 'PUT', url: '/v1/tenants/vtp1/admin-state', payload: { state: 'UNLOCKED' } });
    expect(r.json()).toEqual({ global: 'UNLOCKED', tenant: 'UNLOCKED', active: true });
    r = await as({ method: 'GET', url: '/v1/tenants/vtp2/admin-state' });
    expect(r.json().active).toBe(false);
  });

  it('bad input gets a 4xx naming the field', async () => {
    const { as } = setup();
    const cases: [string, string, unknown, string][] = [
      ['PUT', '/v1/admin-state', { state: 'OPEN' }, 'body/state'],
      ['PUT', '/v1/tenants/Bad Tenant/admin-state', { state: 'LOCKED' }, 'params/tenant'],
      ['POST', '/v1/tenants/vtp1/subscribers', { identities: ['mailto:x@y'], mode: 'PERMANENT' }, 'body/identities/0'],
      ['POST', '/v1/tenants/vtp1/subscribers', { identities: [S] }, 'body/mode'],
      ['POST', '/v1/tenants/vtp1/subscribers', { identities: [], mode: 'PERMANENT' }, 'body/identities'],
      ['POST', '/v1/tenants/vtp1/subscribers', { identities: ['sip:'], mode: 'PERMANENT' }, 'body/identities/0'],
      [
        'POST',
        '/v1/tenants/vtp1/subscribers',
        { identities: [S], mode: 'TEMPORARY', originating: true },
        'body/originating',
      ],
      ['GET', '/v1/tenants/vtp1/reports?limit=0', undefined, 'querystring/limit'],
    ];
    for (const [method, url, payload, field] of cases) {
      const r = await as({ method: method as 'GET', url: encodeURI(url), ...(payload ? { payload } : {}) });
      expect(r.statusCode, `${method} ${url}`).toBeGreaterThanOrEqual(400);
      expect(r.statusCode).toBeLessThan(500);
      expect(r.json().field, `${method} ${url}`).toBe(field);
      expect(r.json().code).toMatch(/^MCD_ERR_/);
    }
  });

  it('subscriber CRUD per tenant', async () => {
    const { as } = setup();
    let r = await as({
      method: 'POST',
      url: '/v1/tenants/vtp1/subscribers',
      payload: { identities: [S, 'tel:+15552220000'], mode: 'TEMPORARY' },
    });
    expect(r.statusCode).toBe(201);
    const id = r.json().subscriber.id;
    expect(id).toBe('tel:+15552220000');
    expect(r.json().subscriber).toMatchObject({ terminating: true, originating: false, mode: 'TEMPORARY' });

    r = await as({
      method: 'POST',
      url: '/v1/tenants/vtp1/subscribers',
      payload: { identities: [S], mode: 'PERMANENT' },
    });
    expect(r.statusCode).toBe(409);

    const url = `/v1/tenants/vtp1/subscribers/${encodeURIComponent(id)}`;
    r = await as({ method: 'PUT', url, payload: { identities: [S], mode: 'PERMANENT', originating: true } });
    expect(r.statusCode).toBe(200);
    expect((await as({ method: 'GET', url })).json().subscriber).toMatchObject({
      mode: 'PERMANENT',
      originating: true,
    });

    r = await as({
      method: 'PUT',
      url,
      payload: { identities: ['sip:someone@else.example'], mode: 'PERMANENT' },
    });
    expect(r.statusCode).toBe(400);
    expect(r.json().field).toBe('body/identities/0');

    // Another tenant sees nothing.
    expect((await as({ method: 'GET', url: '/v1/tenants/vtp2/subscribers' })).json()).toEqual({
      subscribers: [],
    });
    expect((await as({ method: 'GET', url: '/v1/tenants/vtp1/subscribers' })).json().subscribers).toHaveLength(1);

    expect((await as({ method: 'DELETE', url })).statusCode).toBe(204);
    expect((await as({ method: 'GET', url })).statusCode).toBe(404);
    expect((await as({ method: 'DELETE', url })).statusCode).toBe(404);
  });
});

describe('REST API > authentication and tenant scope', () => {
  const sub = '/v1/tenants/vtp1/subscribers';
  const body = { identities: [S], mode: 'PERMANENT' };

  it('answers 401 without a valid bearer token, and leaves /healthz open', async () => {
    const { as } = setup();
    for (const token of [null, 'not-a-token-in-the-table']) {
      const r = await as({ method: 'GET', url: sub, token });
      expect(r.statusCode).toBe(401);
      expect(r.headers['www-authenticate']).toBe('Bearer');
      expect(r.json().code).toBe('MCD_ERR_UNAUTHENTICATED');
      expect((await as({ method: 'POST', url: sub, payload: body, token })).statusCode).toBe(401);
      expect(
        (await as({ method: 'PUT', url: '/v1/admin-state', payload: { state: 'UNLOCKED' }, token })).statusCode,
      ).toBe(401);
    }
    expect((await as({ method: 'GET', url: '/healthz', token: null })).statusCode).toBe(200);
  });

  it("answers 404 for another tenant's data, whatever the role or body, and writes nothing", async () => {
    const { as, store } = setup();
    expect((await as({ method: 'POST', url: sub, payload: body })).statusCode).toBe(201);
    const id = encodeURIComponent('tel:+15552220000');
    for (const token of [T.admin2, T.prov3]) {
      for (const [method, url, payload] of [
        ['GET', sub],
        ['GET', `${sub}/${id}`],
        ['DELETE', `${sub}/${id}`],
        ['POST', sub, body],
        ['POST', sub, { not: 'valid' }],
        ['PUT', `${sub}/${id}`, body],
        ['GET', '/v1/tenants/vtp1/reports'],
        ['GET', '/v1/tenants/vtp1/ssc-outcomes'],
        ['GET', '/v1/tenants/vtp1/admin-state'],
        ['PUT', '/v1/tenants/vtp1/admin-state', { state: 'UNLOCKED' }],
      ] as const) {
        const r = await as({ method, url, token, ...(payload ? { payload } : {}) });
        expect(r.statusCode, `${method} ${url}`).toBe(404);
        expect(r.json().code).toBe('MCD_ERR_NOT_FOUND');
      }
    }
    expect((await as({ method: 'GET', url: `${sub}/${id}`, token: T.aud1 })).statusCode).toBe(200);
    expect(store.get('admin/tenant/vtp1')).toBeUndefined();
    // A tenant this deployment does not serve is not found even by the operator-wide admin.
    expect((await as({ method: 'GET', url: '/v1/tenants/vtp3/subscribers' })).statusCode).toBe(404);
  });

  it('answers 403 for a role that may not do this in its own tenant', async () => {
    const { as } = setup();
    const denied: [string, string, 'GET' | 'POST' | 'PUT' | 'DELETE', string, unknown?][] = [
      ['auditor', T.aud1, 'POST', sub, body],
      ['auditor', T.aud1, 'PUT', '/v1/tenants/vtp1/admin-state', { state: 'UNLOCKED' }],
      ['provisioner', T.prov1, 'PUT', '/v1/tenants/vtp1/admin-state', { state: 'UNLOCKED' }],
      ['mailserver', T.mail1, 'GET', sub],
      ['mailserver', T.mail1, 'GET', '/v1/admin-state'],
      ['tenant admin', T.admin1, 'PUT', '/v1/admin-state', { state: 'UNLOCKED' }],
    ];
    for (const [who, token, method, url, payload] of denied) {
      const r = await as({ method, url, token, ...(payload ? { payload: payload as object } : {}) });
      expect(r.statusCode, `${who} ${method} ${url}`).toBe(403);
      expect(r.json().code).toBe('MCD_ERR_FORBIDDEN');
    }
    // What each role may do.
    expect((await as({ method: 'POST', url: sub, payload: body, token: T.prov1 })).statusCode).toBe(201);
    expect((await as({ method: 'GET', url: sub, token: T.aud1 })).json().subscribers).toHaveLength(1);
    expect((await as({ method: 'GET', url: '/v1/tenants/vtp1/reports', token: T.aud1 })).statusCode).toBe(200);
    expect((await as({ method: 'GET', url: '/v1/admin-state', token: T.aud1 })).statusCode).toBe(200);
    const unlock = { method: 'PUT', url: '/v1/tenants/vtp1/admin-state', payload: { state: 'UNLOCKED' } } as const;
    expect((await as({ ...unlock, token: T.admin1 })).statusCode).toBe(200);
  });

  it('lists SSC outcomes with their announcement, by Call-ID or newest first', async () => {
    const { as, store } = setup();
    const outcome = (callId: string, atMicros: number, result: 'SUCCESS' | 'NOT_ALLOWED') => ({
      key: `ssc/vtp1/${callId}`,
      value: {
        type: 'ssc' as const,
        outcome: {
          tenant: 'vtp1',
          callId,
          code: 'SSC_LATEST' as const,
          result,
          reason: result === 'SUCCESS' ? null : 'not provisioned',
          announcementId: result === 'SUCCESS' ? 'ok' : 'no',
          subscriberId: null,
          reportId: null,
          atMicros,
        },
      },
    });
    await store.commit([outcome('a@x', 1, 'SUCCESS'), outcome('b@x', 2, 'NOT_ALLOWED')]);
    const all = (await as({ method: 'GET', url: '/v1/tenants/vtp1/ssc-outcomes', token: T.aud1 })).json();
    expect(all.total).toBe(2);
    expect(all.outcomes.map((o: { callId: string }) => o.callId)).toEqual(['b@x', 'a@x']);
    const one = await as({ method: 'GET', url: `/v1/tenants/vtp1/ssc-outcomes?callId=${encodeURIComponent('a@x')}` });
    expect(one.json().outcomes).toEqual([expect.objectContaining({ result: 'SUCCESS', announcementId: 'ok' })]);
    const bad = await as({ method: 'GET', url: '/v1/tenants/vtp1/ssc-outcomes?limit=0' });
    expect(bad.statusCode).toBe(400);
    expect((await as({ method: 'GET', url: '/v1/tenants/vtp2/ssc-outcomes' })).json().total).toBe(0);
  });
});

describe('REST API > report listing > keepNewest', () => {
  it('keeps the newest rows in the order a stable sort, newest first, gives', () => {
    const base = sampleReports(1)[0]!;
    // Times with repeats, in a scrambled order; ids give each row its arrival index.
    const rows = [5, 3, 9, 3, 1, 9, 7, 5, 5, 2, 8, 9].map((t, i) => ({
      report: { ...base, reportId: String(i), createdAtMicros: t },
      delivery: null,
    }));
    const sorted = [...rows].sort((a, b) => b.report.createdAtMicros - a.report.createdAtMicros);
    for (const limit of [1, 2, 4, 7, 12, 20]) {
      const kept: typeof rows = [];
      for (const r of rows) keepNewest(kept, r, limit);
      expect(kept.map((r) => r.report.reportId)).toEqual(sorted.slice(0, limit).map((r) => r.report.reportId));
    }
  });
});
