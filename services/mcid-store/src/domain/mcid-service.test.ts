import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TokenAuthenticator } from '@li/auth';
import { ManualClock } from '@li/core';
import { silentLogger } from '@li/log/testing';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AcrFileStore } from '../adapters/acr-files.ts';
import { buildApp } from '../adapters/http.ts';
import { mcidObserver } from '../adapters/metrics.ts';
import { LocalStorageSink, sinkFromConfig } from '../adapters/reporters.ts';
import { parseConfig } from '../config.ts';
import { MemoryStateStore } from '../testing/memory-store.ts';
import { invite, request, response, TENANT } from '../testing/sip-fixtures.ts';
import { McidService } from './mcid-service.ts';
import type { McidReport, StateValue } from './model.ts';
import type { DeliveryResult, ReportSink } from './ports.ts';

const S = 'sip:+15552220000@ims.example.net;user=phone';
const T0 = 1_790_000_000_000_000;
let clock = new ManualClock(T0 / 1000);
const identity = {
  originHost: 'as1.test',
  originRealm: 'test',
  destinationRealm: 'test',
  serviceContextId: '32275@3gpp.org',
  privateVendorId: null,
};

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mcid-svc-'));
  clock = new ManualClock(T0 / 1000);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const OPERATOR = 'operator-admin-token-svc-001';

async function provision(store: MemoryStateStore, mode: 'PERMANENT' | 'TEMPORARY') {
  const auth = TokenAuthenticator.fromTable({ [OPERATOR]: { subject: 'op', tenant: '*', role: 'admin' } });
  if (!auth.ok) throw new Error(auth.error.message);
  const app = buildApp({ store, clock, authenticator: auth.value, log: silentLogger });
  const headers = { authorization: `Bearer ${OPERATOR}` };
  await app.inject({ method: 'PUT', url: '/v1/admin-state', headers, payload: { state: 'UNLOCKED' } });
  await app.inject({
    method: 'PUT',
    url: `/v1/tenants/${TENANT}/admin-state`,
    headers,
    payload: { state: 'UNLOCKED' },
  });
  const r = await app.inject({
    method: 'POST',
    url: `/v1/tenants/${TENANT}/subscribers`,
    headers,
    payload: { identities: [S], mode },
  });
  expect(r.statusCode).toBe(201);
  return app;
}

function localSink(registry: Registry) {
  const files = new AcrFileStore(
    {
      directory: dir,
      fileSystem: 'PL-1',
      nodeId: 'mcid1',
      maxTimeMs: 60_000,
      maxRecords: 100,
      maxBytes: 1 << 20,
      fullDiskPercent: 99.9,
      notFullDiskPercent: 90,
    },
    { registry },
  );
  return new LocalStorageSink(files, identity);
}

describe('McidService', () => {
  it('a permanent-mode call ends as an ACR in a local file and a delivered report in the listing', async () => {
    const store = new MemoryStateStore();
    const registry = new Registry();
    const app = await provision(store, 'PERMANENT');
    const sink = localSink(registry);
    const svc = new McidService({ store, sink, clock, observer: mcidObserver(registry, silentLogger) });
    await svc.handle(invite({ callId: 'c1', at: T0, requestUri: S }));
    await svc.handle(response({ callId: 'c1', at: T0 + 1_000_000, status: 180 }));
    await sink.close();
    expect(readdirSync(dir).filter((f) => f.endsWith('.acr'))).toHaveLength(1);
    const list = (
      await app.inject({
        method: 'GET',
        url: `/v1/tenants/${TENANT}/reports`,
        headers: { authorization: `Bearer ${OPERATOR}` },
      })
    ).json();
    expect(list.total).toBe(1);
    expect(list.reports[0].delivery.via).toBe('LOCAL');
    const metrics = await registry.metrics();
    expect(metrics).toMatch(/mcid_reports_total\{tenant="vtp1",trigger="PERMANENT"\} 1/);
    expect(metrics).toMatch(/mcid_acr_storage_requests_total\{filesystem="PL-1",result="success"\} 1/);
  });

  it('a batch of calls: one commit, every report delivered, the counters moved by the batch', async () => {
    const store = new MemoryStateStore();
    const registry = new Registry();
    await provision(store, 'PERMANENT');
    const svc = new McidService({
      store,
      sink: localSink(registry),
      clock,
      observer: mcidObserver(registry, silentLogger),
    });
    const events = [1, 2, 3].flatMap((n) => [
      invite({ callId: `b${n}`, at: T0 + n, requestUri: S }),
      response({ callId: `b${n}`, at: T0 + n + 1, status: 180 }),
      response({ callId: `b${n}`, at: T0 + n + 2, status: 200 }),
    ]);
    await svc.handleBatch([
      ...events,
      request('OPTIONS', { callId: 'o1', at: T0, requestUri: S, from: '<sip:x@example.net>;tag=1' }),
    ]);
    const reports = [...store.keys('report/')].map((k) => store.get(k));
    expect(reports.map((v) => (v?.type === 'report' ? v.delivery?.via : undefined))).toEqual([
      'LOCAL',
      'LOCAL',
      'LOCAL',
    ]);
    // Each call was made and finished in the batch: no call record left.
    expect([...store.keys('call/')]).toEqual([]);
    const metrics = await registry.metrics();
    expect(metrics).toMatch(/mcid_events_total\{tenant="vtp1",result="applied"\} 9/);
    expect(metrics).toMatch(/mcid_events_total\{tenant="vtp1",result="ignored"\} 1/);
    expect(metrics).toMatch(/mcid_reports_total\{tenant="vtp1",trigger="PERMANENT"\} 3/);
    expect(metrics).toMatch(/mcid_report_deliveries_total\{tenant="vtp1",result="LOCAL",code=""\} 3/);
  });

  it('a batch reads the administrative states once per run of one tenant, and applies as event by event', async () => {
    const OTHER = 'vtp2';
    const events = [1, 2].flatMap((n) => [
      invite({ callId: `a${n}`, at: T0 + n, requestUri: S }),
      response({ callId: `a${n}`, at: T0 + n + 1, status: 180 }),
    ]);
    // vtp2 is locked: its events are ignored in the middle of the batch, vtp1's still apply.
    const locked = { ...invite({ callId: 'z1', at: T0, requestUri: S }), tenant: OTHER };
    const batch = [events[0]!, events[1]!, locked, events[2]!, events[3]!];
    const outcome = async (byBatch: boolean) => {
      const store = new MemoryStateStore();
      await provision(store, 'PERMANENT');
      let adminReads = 0;
      const get = store.get.bind(store);
      store.get = (key: string) => {
        if (key.startsWith('admin/')) adminReads++;
        return get(key);
      };
      const svc = new McidService({
        store,
        sink: localSink(new Registry()),
        clock,
        observer: mcidObserver(new Registry(), silentLogger),
      });
      if (byBatch) await svc.handleBatch(batch);
      else for (const e of batch) await svc.handle(e);
      const state = [...store.records].filter(([k]) => !k.startsWith('admin/'));
      return { adminReads, state: state.map(([k, v]) => [k, v.type === 'report' ? { ...v, delivery: null } : v]) };
    };
    const batched = await outcome(true);
    const single = await outcome(false);
    expect(batched.state).toEqual(single.state);
    expect(batched.state.filter(([k]) => String(k).startsWith('report/'))).toHaveLength(2);
    // Three runs (vtp1, vtp2, vtp1), two keys each; one event at a time reads both per event.
    expect(batched.adminReads).toBe(6);
    expect(single.adminReads).toBe(10);
  });

  it('a report no sink took stays undelivered and is retried by tick()', async () => {
    const store = new MemoryStateStore();
    await provision(store, 'PERMANENT');
    let up = false;
    const delivered: McidReport[] = [];
    const sink: ReportSink = {
      async deliver(r): Promise<DeliveryResult> {
        if (!up) return { ok: false, code: 'MCD_ERR_DIAMETER_CONNECT', reason: 'down' };
        delivered.push(r);
        return { ok: true, via: 'CDS', detail: 'cds' };
      },
      async close() {},
    };
    const svc = new McidService({
      store,
      sink,
      clock,
      observer: mcidObserver(new Registry(), silentLogger),
    });
    await svc.handle(invite({ callId: 'c1', at: T0, requestUri: S }));
    await svc.handle(response({ callId: 'c1', at: T0 + 1, status: 486 }));
    expect(await svc.redeliver()).toBe(1);
    up = true;
    await svc.tick();
    expect(delivered).toHaveLength(1);
    expect(await svc.redeliver()).toBe(0);
  });

  it('a timer run beside a batch does not deliver a batch report still being delivered a second time', async () => {
    const store = new MemoryStateStore();
    await provision(store, 'PERMANENT');
    const delivered: string[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const sink: ReportSink = {
      async deliver(r): Promise<DeliveryResult> {
        await gate;
        delivered.push(r.reportId);
        return { ok: true, via: 'LOCAL', detail: 'file' };
      },
      async close() {},
    };
    const svc = new McidService({ store, sink, clock, observer: mcidObserver(new Registry(), silentLogger) });
    const batch = svc.handleBatch([
      invite({ callId: 'g1', at: T0, requestUri: S }),
      response({ callId: 'g1', at: T0 + 1, status: 486 }),
    ]);
    // The report is committed undelivered before its delivery starts; the timer runs meanwhile.
    await new Promise((r) => setImmediate(r));
    const timer = svc.redeliver();
    release();
    await batch;
    expect(await timer, 'reports the timer took').toBe(0);
    expect(delivered).toHaveLength(1);
    expect(await svc.redeliver()).toBe(0);
    expect(delivered).toHaveLength(1);
  });

  it('a restart from the compacted records loses no stored communication', async () => {
    const store = new MemoryStateStore();
    await provision(store, 'TEMPORARY');
    const registry = new Registry();
    const svc = new McidService({
      store,
      sink: localSink(registry),
      clock,
      observer: mcidObserver(registry, silentLogger),
    });
    await svc.handle(invite({ callId: 'c1', at: T0, requestUri: S }));
    await svc.handle(response({ callId: 'c1', at: T0 + 1_000_000, status: 180 }));

    // What a compacted topic keeps: the latest JSON value per key.
    const topic = JSON.stringify([...store.records]);
    const restarted = new MemoryStateStore();
    await restarted.commit((JSON.parse(topic) as [string, StateValue][]).map(([key, value]) => ({ key, value })));
    const svc2 = new McidService({
      store: restarted,
      sink: localSink(registry),
      clock,
      observer: mcidObserver(registry, silentLogger),
    });
    const r = await svc2.handle(
      invite({
        callId: 'ssc1',
        at: T0 + 60_000_000,
        requestUri: 'tel:*57;phone-context=ims.example.net',
        pai: [`<${S}>`],
      }),
    );
    expect(r.reports.map((x) => [x.trigger, x.details.callId, x.mcidTimestampMicros])).toEqual([
      ['SSC_LATEST', 'c1', T0 + 1_000_000],
    ]);
  });

  it('sinkFromConfig builds the local-storage sink of the configured reporting type', async () => {
    const c = parseConfig({ reportingType: 'LOCAL', localStorage: { directory: dir, maxRecords: 1 } });
    if (!c.ok) throw new Error(c.reason);
    const registry = new Registry();
    const sink = sinkFromConfig(c.config, { registry, log: silentLogger });
    const store = new MemoryStateStore();
    await provision(store, 'PERMANENT');
    const svc = new McidService({ store, sink, clock, observer: mcidObserver(registry, silentLogger) });
    await svc.handle(invite({ callId: 'c1', at: T0, requestUri: S }));
    await svc.handle(response({ callId: 'c1', at: T0 + 1, status: 200 }));
    expect(readdirSync(dir).filter((f) => /^mcid1_-_00000001\.\d{8}_-_\d{6}\+0000\.acr$/.test(f))).toHaveLength(1);
  });
});
