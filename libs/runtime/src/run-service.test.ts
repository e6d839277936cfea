import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Type from 'typebox';
import { describe, expect, it } from 'vitest';
import { CommonConfig, consumersFailing, startService } from './run-service.ts';

const Config = Type.Object({ ...CommonConfig.properties, tenants: Type.Array(Type.String(), { minItems: 1 }) });

describe('startService', () => {
  it('refuses bad configuration before connecting anywhere, naming every bad key', async () => {
    const err = await startService(
      { name: 'svc', config: Config, start: async () => ({ stop: async () => {} }) },
      { LI_METRICS_PORT: 'ninety', LI_LOG_LEVEL: 'loud' },
    ).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CFG_ERR_INVALID' });
    const keys = (err as { problems: { key: string }[] }).problems.map((p) => p.key).sort();
    expect(keys).toEqual(['logLevel', 'metricsPort', 'tenants']);
  });

  it('refuses a partition layout the bus cannot use, naming its variable', async () => {
    const err = await startService(
      { name: 'svc', config: Config, start: async () => ({ stop: async () => {} }) },
      { LI_TENANTS: 'acme', LI_TOPIC_PARTITIONS: 'events=3,audit=3' },
    ).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CFG_ERR_INVALID' });
    expect((err as Error).message).toContain('topicPartitions (env LI_TOPIC_PARTITIONS): partitions entry 2: audit');
  });

  it('starts, serves its probes with the service checks, and stops', async () => {
    let stopped = false;
    const svc = await startService(
      {
        name: 'svc',
        config: Config,
        start: async (ctx) => {
          ctx.readiness('warm', () => 'loading warrants');
          return {
            stop: async () => {
              stopped = true;
            },
          };
        },
      },
      { LI_TENANTS: 'acme', LI_METRICS_PORT: '0', LI_METRICS_HOST: '127.0.0.1', LI_LOG_LEVEL: 'error' },
    );
    const ready = await fetch(`http://127.0.0.1:${svc.metricsPort}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ checks: { warm: 'loading warrants' } });
    expect((await fetch(`http://127.0.0.1:${svc.metricsPort}/metrics`)).status).toBe(200);
    await svc.stop();
    expect(stopped).toBe(true);
  });

  it('answers its probes while it starts: not ready, saying what it waits for, and alive', async () => {
    // A schema registry that fails (503) until told otherwise, then registers everything as id 1.
    let up = false;
    const registry = createServer((_req, res) => {
      res.writeHead(up ? 200 : 503, { 'content-type': 'application/json' });
      res.end(up ? '{"id":1}' : '{}');
    });
    await new Promise<void>((r) => registry.listen(0, '127.0.0.1', () => r()));
    const metricsPort = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const { port } = s.address() as AddressInfo;
        s.close(() => resolve(port));
      });
    });
    try {
      const starting = startService(
        {
          name: 'svc',
          config: Config,
          start: async (ctx) => {
            await ctx.bus.codec('li.acme.lemfs', 'LemfDestination');
            return { stop: async () => {} };
          },
        },
        {
          LI_TENANTS: 'acme',
          LI_METRICS_PORT: String(metricsPort),
          LI_METRICS_HOST: '127.0.0.1',
          LI_LOG_LEVEL: 'error',
          LI_SCHEMA_REGISTRY_URL: `http://127.0.0.1:${(registry.address() as AddressInfo).port}/apis/ccompat/v7`,
        },
      );
      const probe = async (path: string) => {
        for (let i = 0; ; i++) {
          const res = await fetch(`http://127.0.0.1:${metricsPort}${path}`).catch((e: unknown) => {
            if (i > 100) throw e;
            return undefined;
          });
          if (res) return { status: res.status, body: (await res.json()) as { checks: Record<string, string> } };
          await new Promise((r) => setTimeout(r, 50));
        }
      };
      let ready = await probe('/readyz');
      for (let i = 0; i < 100 && !/schema registry/.test(ready.body.checks.startup ?? ''); i++) {
        await new Promise((r) => setTimeout(r, 50));
        ready = await probe('/readyz');
      }
      expect(ready.status).toBe(503);
      expect(ready.body.checks.startup).toMatch(/^starting: waiting for the schema registry for \d+ s: .*HTTP 503$/);
      expect((await probe('/healthz')).status).toBe(200);
      up = true;
      const svc = await starting;
      expect((await probe('/readyz')).body.checks.startup).toBeUndefined();
      await svc.stop();
    } finally {
      registry.close();
    }
  });
});

describe('consumersFailing', () => {
  const bus = (healths: { name: string; live: boolean; ready: boolean; reason?: string }[]) => ({
    consumers: () => healths.map(({ name, ...h }) => ({ name, health: () => h })),
  });

  it('passes when every consumer is live and ready', () => {
    const b = bus([{ name: 'processor g', live: true, ready: true }]);
    expect(consumersFailing(b, 'live')).toBe(true);
    expect(consumersFailing(b, 'ready')).toBe(true);
  });

  it('names the consumers that are not, with their reasons', () => {
    const b = bus([
      { name: 'processor g1', live: false, ready: false, reason: 'consumer crashed after 8 restarts within 600 s' },
      { name: 'tail', live: true, ready: false, reason: 'restarting' },
    ]);
    expect(consumersFailing(b, 'live')).toBe('processor g1: consumer crashed after 8 restarts within 600 s');
    expect(consumersFailing(b, 'ready')).toBe(
      'processor g1: consumer crashed after 8 restarts within 600 s; tail: restarting',
    );
  });
});
