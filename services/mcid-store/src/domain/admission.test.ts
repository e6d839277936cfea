import { describe, expect, it } from 'vitest';
import { admitEvent } from './admission.ts';

describe('mcid-store > domain > admission', () => {
  it('applies SIP events of the topic tenant, skips other protocols, dead-letters another tenant', () => {
    expect(admitEvent('acme', { tenant: 'acme', protocol: 'SIP' })).toEqual({ kind: 'apply' });
    expect(admitEvent('acme', { tenant: 'beta', protocol: 'SMTP' })).toEqual({ kind: 'skip' });
    expect(admitEvent('acme', { tenant: 'beta', protocol: 'SIP' })).toEqual({
      kind: 'dead-letter',
      code: 'MCD_ERR_TENANT_MISMATCH',
      reason: 'event tenant differs from its topic',
    });
  });
});
