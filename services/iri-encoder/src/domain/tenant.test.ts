import { sampleEvent, sampleMatched } from '@li/schemas/testing';
import { describe, expect, it } from 'vitest';
import { checkMatchedTenant, checkWarrantTenant } from './tenant.ts';

describe('iri-encoder > domain > tenant', () => {
  it('accepts a MatchedEvent whose tenant and event tenant are the topic tenant', () => {
    const m = sampleMatched({ tenant: 'acme', event: sampleEvent({ tenant: 'acme' }) });
    expect(checkMatchedTenant('acme', m)).toEqual({ ok: true });
  });

  it('rejects a MatchedEvent or an inner event of another tenant', () => {
    const other = sampleMatched({ tenant: 'beta', event: sampleEvent({ tenant: 'beta' }) });
    const inner = sampleMatched({ tenant: 'acme', event: sampleEvent({ tenant: 'beta' }) });
    expect(checkMatchedTenant('acme', other)).toMatchObject({ ok: false, code: 'ENC_ERR_TENANT_MISMATCH' });
    expect(checkMatchedTenant('acme', inner)).toMatchObject({ ok: false, code: 'ENC_ERR_TENANT_MISMATCH' });
    expect(checkWarrantTenant('acme', { tenant: 'beta' })).toMatchObject({
      ok: false,
      code: 'ENC_ERR_TENANT_MISMATCH',
    });
  });
});
