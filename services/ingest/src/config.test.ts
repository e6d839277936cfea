import { loadConfig } from '@li/config';
import { describe, expect, it } from 'vitest';
import { Config, spoolFsyncOf } from './config.ts';

const env = { LI_TENANT: 'acme' };

describe('ingest config: spool durability', () => {
  it("syncs every spooled batch unless told otherwise; 'interval' takes its period", () => {
    expect(spoolFsyncOf(loadConfig(Config, { env }))).toEqual({ mode: 'always' });
    expect(
      spoolFsyncOf(
        loadConfig(Config, { env: { ...env, LI_SPOOL__FSYNC: 'interval', LI_SPOOL__FSYNC_INTERVAL_MS: '250' } }),
      ),
    ).toEqual({ mode: 'interval', intervalMs: 250 });
    expect(spoolFsyncOf(loadConfig(Config, { env: { ...env, LI_SPOOL__FSYNC: 'never' } }))).toEqual({ mode: 'never' });
  });

  it('refuses an unknown policy, naming the key', () => {
    expect(() => loadConfig(Config, { env: { ...env, LI_SPOOL__FSYNC: 'sometimes' } })).toThrow(/spool.*fsync|FSYNC/i);
  });
});
