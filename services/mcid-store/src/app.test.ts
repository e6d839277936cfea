import { describe, expect, it } from 'vitest';
import { buildApp } from './app.ts';
import { MemoryStateStore } from './ports.ts';

const clock = { nowMicros: () => 1_790_000_000_000_000 };
const S = 'sip:+15552220000@ims.example.net;user=phone';

function setup() {
  const store = new MemoryStateStore();
  return { store, app: buildApp({ store, clock }) };
}

describe('REST API', () => {
  it('administrative states: locked by default, the service acts only when both are unlocked', async () => {
    const { app } = setup();
    expect((await app.inject({ method: 'GET', url: '/v1/admin-state' })).json()).toEqual({ state: 'LOCKED' });
    await app.inject({ method: 'PUT', url: '/v1/admin-state', payload: { state: 'UNLOCKED' } });
    let r = await app.inject({ method: 'GET', url: '/v1/tenants/vtp1/admin-state' });
    expect(r.json()).toEqual({ global: 'UNLOCKED', tenant: 'LOCKED', active: false });
    r = await app.inject({ method: 'PUT', url: '/v1/tenants/vtp1/admin-state', payload: { state: 'UNLOCKED' } });
    expect(r.json()).toEqual({ global: 'UNLOCKED', tenant: 'UNLOCKED', active: true });
    r = await app.inject({ method: 'GET', url: '/v1/tenants/vtp2/admin-state' });
    expect(r.json().active).toBe(false);
  });

  it('bad input gets a 4xx naming the field', async () => {
    const { app } = setup();
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
      const r = await app.inject({ method: method as 'GET', url: encodeURI(url), ...(payload ? { payload } : {}) });
      expect(r.statusCode, `${method} ${url}`).toBeGreaterThanOrEqual(400);
      expect(r.statusCode).toBeLessThan(500);
      expect(r.json().field, `${method} ${url}`).toBe(field);
      expect(r.json().code).toMatch(/^MCD_ERR_/);
    }
  });

  it('subscriber CRUD per tenant', async () => {
    const { app } = setup();
    let r = await app.inject({
      method: 'POST',
      url: '/v1/tenants/vtp1/subscribers',
      payload: { identities: [S, 'tel:+15552220000'], mode: 'TEMPORARY' },
    });
    expect(r.statusCode).toBe(201);
    const id = r.json().subscriber.id;
    expect(id).toBe('tel:+15552220000');
    expect(r.json().subscriber).toMatchObject({ terminating: true, originating: false, mode: 'TEMPORARY' });

    r = await app.inject({
      method: 'POST',
      url: '/v1/tenants/vtp1/subscribers',
      payload: { identities: [S], mode: 'PERMANENT' },
    });
    expect(r.statusCode).toBe(409);

    const url = `/v1/tenants/vtp1/subscribers/${encodeURIComponent(id)}`;
    r = await app.inject({ method: 'PUT', url, payload: { identities: [S], mode: 'PERMANENT', originating: true } });
    expect(r.statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url })).json().subscriber).toMatchObject({
      mode: 'PERMANENT',
      originating: true,
    });

    r = await app.inject({
      method: 'PUT',
      url,
      payload: { identities: ['sip:someone@else.example'], mode: 'PERMANENT' },
    });
    expect(r.statusCode).toBe(400);
    expect(r.json().field).toBe('body/identities/0');

    // Another tenant sees nothing.
    expect((await app.inject({ method: 'GET', url: '/v1/tenants/vtp2/subscribers' })).json()).toEqual({
      subscribers: [],
    });
    expect((await app.inject({ method: 'GET', url: '/v1/tenants/vtp1/subscribers' })).json().subscribers).toHaveLength(
      1,
    );

    expect((await app.inject({ method: 'DELETE', url })).statusCode).toBe(204);
    expect((await app.inject({ method: 'GET', url })).statusCode).toBe(404);
    expect((await app.inject({ method: 'DELETE', url })).statusCode).toBe(404);
  });
});
