import { Counter } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createRegistry, type ProbeServer, startProbeServer } from './probe-server.ts';

let server: ProbeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('probe server', () => {
  it('serves the registry on /metrics', async () => {
    const registry = createRegistry('test-svc');
    const c = new Counter({
      name: 'li_test_records_total',
      help: 'Records handled.',
      labelNames: ['tenant'],
      registers: [registry],
    });
    c.inc({ tenant: 'acme' }, 3);
    server = await startProbeServer({ registry, port: 0, host: '127.0.0.1' });
    const res = await fetch(`http://127.0.0.1:${server.port}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('li_test_records_total{tenant="acme",service="test-svc"} 3');
    expect(text).toContain('process_cpu_user_seconds_total');
  });

  it('answers /readyz and /healthz from the checks, 503 with reasons when one fails', async () => {
    let kafkaReady: boolean | string = 'catching up: 10 records behind';
    server = await startProbeServer({
      registry: createRegistry('t'),
      port: 0,
      host: '127.0.0.1',
      liveness: { loop: () => true },
      readiness: { kafka: () => kafkaReady },
    });
    const base = `http://127.0.0.1:${server.port}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    let res = await fetch(`${base}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: 'failing', checks: { kafka: 'catching up: 10 records behind' } });
    kafkaReady = true;
    res = await fetch(`${base}/readyz`);
    expect(res.status).toBe(200);
    expect((await fetch(`${base}/nope`)).status).toBe(404);
  });

  it('skips the checks named by ?exclude= (only those)', async () => {
    server = await startProbeServer({
      registry: createRegistry('t'),
      port: 0,
      host: '127.0.0.1',
      readiness: { writer: () => 'admf standby: x', http: () => true, lag: () => 'behind' },
    });
    const base = `http://127.0.0.1:${server.port}`;
    let res = await fetch(`${base}/readyz?exclude=writer`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: 'failing', checks: { http: 'ok', lag: 'behind' } });
    res = await fetch(`${base}/readyz?exclude=writer&exclude=lag`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', checks: { http: 'ok' } });
    expect((await fetch(`${base}/readyz`)).status).toBe(503);
  });

  it('treats a throwing check as failing, not as a crash', async () => {
    server = await startProbeServer({
      registry: createRegistry('t'),
      port: 0,
      host: '127.0.0.1',
      readiness: {
        broken: () => {
          throw new Error('boom');
        },
      },
    });
    const res = await fetch(`http://127.0.0.1:${server.port}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ checks: { broken: 'check failed: Error' } });
  });
});
