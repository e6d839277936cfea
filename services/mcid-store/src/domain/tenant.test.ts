import { describe, expect, it } from 'vitest';
import { checkEventTenant } from './tenant.ts';

describe('mcid-store > domain > tenant', () => {
  it('accepts an event of the topic tenant and rejects one of another tenant', () => {
    expect(checkEventTenant('acme', { tenant: 'acme' })).toEqual({ ok: true });
    expect(checkEventTenant('acme', { tenant: 'beta' })).toEqual({
      ok: false,
      code: 'MCD_ERR_TENANT_MISMATCH',
      reason: 'event tenant differs from its topic',
    });
  });
});
