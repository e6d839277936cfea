import { describe, expect, it } from 'vitest';
import type { Tenant } from './model.ts';
import { updateTenant } from './tenant.ts';

const beta: Tenant = {
  id: 'beta',
  name: 'Beta',
  defaultCountryCode: '49',
  nationalTrunkPrefix: null,
  version: 3,
  createdAtMicros: 42,
};

describe('updateTenant', () => {
  it('applies the patch over the tenant, one version on, keeping id and creation time', () => {
    expect(updateTenant(beta, { defaultCountryCode: '43', nationalTrunkPrefix: '0' })).toEqual({
      ok: true,
      value: { ...beta, defaultCountryCode: '43', nationalTrunkPrefix: '0', version: 4 },
    });
    // An id smuggled past the type (a non-HTTP caller) is ignored: it names the tenant's topics.
    const smuggled = updateTenant(beta, { name: 'B', id: 'other' } as never);
    expect(smuggled.ok && smuggled.value?.id).toBe('beta');
  });

  it('is null when nothing changes, and validates like creation', () => {
    expect(updateTenant(beta, { name: ' Beta ', defaultCountryCode: '49' })).toEqual({ ok: true, value: null });
    const bad = updateTenant(beta, { defaultCountryCode: '049' });
    expect(!bad.ok && bad.error.field).toBe('defaultCountryCode');
    const trunk = updateTenant(beta, { nationalTrunkPrefix: 'x' });
    expect(!trunk.ok && trunk.error.field).toBe('nationalTrunkPrefix');
  });
});
