import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '@li/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAdmf } from '../../service.ts';
import { iso, silentLog, T0, warrantBody } from '../../testing/harness.ts';
import { InMemoryWarrantStore } from '../memory-store.ts';
import { CONSOLE_CSP } from './console.ts';

const TOKENS = {
  'operator-admin-token-0001': { subject: 'op', tenant: '*', role: 'admin' },
  'acme-admin-token-00000001': { subject: 'acme-admin', tenant: 'acme', role: 'admin' },
  'acme-provisioner-token-01': { subject: 'acme-prov', tenant: 'acme', role: 'provisioner' },
  'acme-auditor-token-000001': { subject: 'acme-audit', tenant: 'acme', role: 'auditor' },
  'beta-admin-token-00000001': { subject: 'beta-admin', tenant: 'beta', role: 'admin' },
} as const;

// cc-delivery's metrics as it exposes them: one LEMF of acme connected with records sent, one of
// beta (must never show to acme).
const METRICS = `# HELP li_cc_delivery_connected_bool 1 when every connection to the LEMF is up
# TYPE li_cc_delivery_connected_bool gauge
li_cc_delivery_connected_bool{tenant="acme",lemf="lemf-rome",transport="ETSI_TCP"} 1
li_cc_delivery_connected_bool{tenant="beta",lemf="lemf-rome",transport="ETSI_TCP"} 0
li_cc_delivery_sent_records_total{tenant="acme",lemf="lemf-rome",transport="ETSI_TCP",stream="HI2"} 3
li_cc_delivery_sent_records_total{tenant="acme",lemf="lemf-rome",transport="ETSI_TCP",stream="HI3"} 4
li_cc_delivery_sent_records_total{tenant="beta",lemf="lemf-rome",transport="ETSI_TCP",stream="HI2"} 99
li_cc_delivery_consumer_lag_records{tenant="acme",lemf="lemf-rome",stream="hi2"} 2
li_cc_delivery_last_error_timestamp_seconds{tenant="acme",lemf="lemf-rome",transport="ETSI_TCP"} 1764900000.5
li_cc_delivery_last_error_info{tenant="acme",lemf="lemf-rome",transport="ETSI_TCP",code="DLV_ERR_CONNECT"} 1
`;

let metrics: Server;
let admf: Awaited<ReturnType<typeof buildAdmf>>;
const req = async (token: keyof typeof TOKENS | null, method: 'GET' | 'POST' | 'PUT', url: string, body?: object) => {
  const res = await admf.http.inject({
    method,
    url,
    headers: token ? { authorization: `Bearer ${token}` } : {},
    ...(body ? { payload: body } : {}),
  });
  return { status: res.statusCode, headers: res.headers, body: res.body, json: () => res.json() };
};

beforeAll(async () => {
  metrics = createServer((_req, res) => res.end(METRICS));
  await new Promise<void>((r) => metrics.listen(0, '127.0.0.1', r));
  const dir = mkdtempSync(join(tmpdir(), 'admf-console-'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><script type="module" src="app.js"></script>');
  writeFileSync(join(dir, 'app.js'), 'export {};');
  admf = await buildAdmf({
    store: new InMemoryWarrantStore(),
    clock: new ManualClock(T0 / 1000),
    tokens: TOKENS as never,
    log: silentLog,
    schedule: false,
    console: {
      dir,
      deliveryMetricsUrls: [
        `http://127.0.0.1:${(metrics.address() as { port: number }).port}/metrics`,
        'http://127.0.0.1:1/metrics',
      ],
    },
  });
  for (const id of ['acme', 'beta']) {
    await req('operator-admin-token-0001', 'POST', '/tenants', { id, name: id, defaultCountryCode: '39' });
  }
  for (const [tok, t] of [
    ['acme-admin-token-00000001', 'acme'],
    ['beta-admin-token-00000001', 'beta'],
  ] as const) {
    const r = await req(tok, 'PUT', `/tenants/${t}/lemfs/lemf-rome`, {
      name: 'Rome',
      transport: 'ETSI_TCP',
      address: { host: '127.0.0.1', port: 16000 },
      allowInsecure: true,
    });
    expect(r.status).toBe(200);
  }
});
afterAll(async () => {
  await admf?.close();
  metrics?.close();
});

describe('console', () => {
  it('serves the build without a token, under a strict CSP, and nothing outside it', async () => {
    const index = await req(null, 'GET', '/console/');
    expect(index.status).toBe(200);
    expect(index.headers['content-type']).toMatch(/^text\/html/);
    expect(index.headers['content-security-policy']).toBe(CONSOLE_CSP);
    expect(CONSOLE_CSP).toContain("script-src 'self'");
    expect(CONSOLE_CSP).not.toMatch(/unsafe|https?:/);
    const js = await req(null, 'GET', '/console/app.js');
    expect(js.headers['content-type']).toMatch(/^text\/javascript/);
    expect((await req(null, 'GET', '/')).headers.location).toBe('/console/');
    // Only files of the build are served (read into memory at start): no path leads outside it.
    expect((await req(null, 'GET', '/console/%2e%2e/service.ts')).status).not.toBe(200);
    expect((await req(null, 'GET', '/console/nope.js')).status).toBe(404);
    // The API itself still needs the token.
    expect((await req(null, 'GET', '/tenants/acme/lemfs')).status).toBe(401);
  });

  it('tells the console who the token is', async () => {
    expect((await req('acme-auditor-token-000001', 'GET', '/whoami')).json()).toEqual({
      subject: 'acme-audit',
      tenant: 'acme',
      role: 'auditor',
    });
    expect((await req(null, 'GET', '/whoami')).status).toBe(401);
  });

  it("reads each LEMF's status from the delivery metrics, the caller's tenant only", async () => {
    const r = await req('acme-provisioner-token-01', 'GET', '/tenants/acme/lemf-status');
    expect(r.status).toBe(200);
    expect(r.json()).toMatchObject({
      sources: { configured: 2, reachable: 1 },
      lemfs: [
        {
          lemfId: 'lemf-rome',
          reported: true,
          connected: true,
          recordsSent: 7,
          lagRecords: 2,
          lastErrorCode: 'DLV_ERR_CONNECT',
          lastErrorAt: 1764900000500,
        },
      ],
    });
    const beta = await req('beta-admin-token-00000001', 'GET', '/tenants/beta/lemf-status');
    expect(beta.json().lemfs[0]).toMatchObject({ connected: false, recordsSent: 99 });
    expect((await req('beta-admin-token-00000001', 'GET', '/tenants/acme/lemf-status')).status).toBe(404);
    expect((await req('acme-auditor-token-000001', 'GET', '/tenants/acme/lemf-status')).status).toBe(403);
  });

  it("lists a warrant's versions with the key in the body", async () => {
    const created = await req(
      'acme-provisioner-token-01',
      'POST',
      '/tenants/acme/warrants',
      warrantBody({ lemfIds: ['lemf-rome'] }),
    );
    expect(created.status).toBe(201);
    const key = created.json().key as string;
    const path = `/tenants/acme/warrants/${key.replace(':', '/')}`;
    expect((await req('acme-provisioner-token-01', 'POST', `${path}/suspend`, { reason: 'court order' })).status).toBe(
      200,
    );
    expect(
      (await req('acme-provisioner-token-01', 'POST', `${path}/extend`, { validUntil: iso(T0 + 20 * 86_400_000_000) }))
        .status,
    ).toBe(200);
    const h = await req('acme-provisioner-token-01', 'POST', '/tenants/acme/warrant-history', { key });
    expect(h.status).toBe(200);
    expect(
      h
        .json()
        .map((v: { action: string; after: { version: number; state: string } }) => [
          v.action,
          v.after.version,
          v.after.state,
        ]),
    ).toEqual([
      ['warrant.create', 1, 'ACTIVE'],
      ['warrant.suspend', 2, 'SUSPENDED'],
      ['warrant.extend', 3, 'SUSPENDED'],
    ]);
    expect(h.json()[1].reason).toBe('court order');
    expect((await req('acme-auditor-token-000001', 'POST', '/tenants/acme/warrant-history', { key })).status).toBe(200);
    expect((await req('beta-admin-token-00000001', 'POST', '/tenants/acme/warrant-history', { key })).status).toBe(404);
    expect((await req('acme-admin-token-00000001', 'POST', '/tenants/acme/warrant-history', { key })).status).toBe(403);
    expect(
      (await req('acme-provisioner-token-01', 'POST', '/tenants/acme/warrant-history', { key: 'IT:NOSUCH' })).status,
    ).toBe(404);
    const bad = await req('acme-provisioner-token-01', 'POST', '/tenants/acme/warrant-history', { key: 'x' });
    expect(bad.status).toBe(400);
    expect(bad.json().error.field).toBe('key');
  });
});
