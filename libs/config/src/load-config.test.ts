import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Type from 'typebox';
import { describe, expect, it } from 'vitest';
import { ConfigError, envNameFor, loadConfig } from './load-config.ts';

const Schema = Type.Object({
  metricsPort: Type.Integer({ minimum: 0, maximum: 65535, default: 9464 }),
  kafkaBrokers: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, default: ['127.0.0.1:9092'] }),
  tenant: Type.String({ pattern: '^[a-z0-9-]+$', description: 'lower-case tenant id' }),
  mode: Type.Union([Type.Literal('live'), Type.Literal('replay')], { default: 'live' }),
  tls: Type.Object({ enabled: Type.Boolean({ default: false }) }, { default: {} }),
});

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('applies defaults and converts environment strings', () => {
    const c = loadConfig(Schema, {
      env: { LI_TENANT: 'acme', LI_METRICS_PORT: '9100', LI_KAFKA_BROKERS: 'a:1, b:2', LI_TLS__ENABLED: 'true' },
    });
    expect(c).toEqual({
      metricsPort: 9100,
      kafkaBrokers: ['a:1', 'b:2'],
      tenant: 'acme',
      mode: 'live',
      tls: { enabled: true },
    });
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.kafkaBrokers)).toBe(true);
  });

  it('names the key, its variable and what was expected, without echoing the value', () => {
    const err = errorOf(() =>
      loadConfig(Schema, { env: { LI_TENANT: 'Bad Tenant!', LI_METRICS_PORT: 'abc', LI_MODE: 'fast' } }),
    );
    expect(err.code).toBe('CFG_ERR_INVALID');
    const keys = err.problems.map((p) => p.key).sort();
    expect(keys).toEqual(['metricsPort', 'mode', 'tenant']);
    expect(err.message).toContain('metricsPort (env LI_METRICS_PORT)');
    expect(err.message).toContain('mode (env LI_MODE): one of "live", "replay"');
    expect(err.message).toContain('lower-case tenant id');
    expect(err.message).not.toContain('Bad Tenant!');
  });

  it('reports a missing required key', () => {
    const err = errorOf(() => loadConfig(Schema, { env: {} }));
    expect(err.problems.map((p) => p.key)).toContain('tenant');
  });

  it('reads a YAML file and lets the environment override it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    const file = join(dir, 'svc.yaml');
    writeFileSync(file, 'tenant: fromfile\nmetricsPort: 9200\ntls:\n  enabled: true\n');
    const c = loadConfig(Schema, { env: { LI_CONFIG_FILE: file, LI_METRICS_PORT: '9300' } });
    expect(c.tenant).toBe('fromfile');
    expect(c.metricsPort).toBe(9300);
    expect(c.tls.enabled).toBe(true);
  });

  it('rejects an unreadable or non-mapping file with a clear error', () => {
    expect(errorOf(() => loadConfig(Schema, { file: '/nonexistent/x.yaml' })).message).toContain('readable YAML file');
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    writeFileSync(join(dir, 'list.yaml'), '- a\n- b\n');
    expect(errorOf(() => loadConfig(Schema, { file: join(dir, 'list.yaml') })).message).toContain('YAML mapping');
  });

  it('derives variable names from key paths', () => {
    expect(envNameFor(['kafka', 'clientId'])).toBe('LI_KAFKA__CLIENT_ID');
    expect(envNameFor(['metricsPort'], 'X_')).toBe('X_METRICS_PORT');
  });
});
