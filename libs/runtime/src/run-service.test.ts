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
