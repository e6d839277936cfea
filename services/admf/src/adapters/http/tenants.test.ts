import { afterEach, describe, expect, it } from 'vitest';
import { tenantFilter } from '../../config.ts';
import type { Harness } from '../../testing/harness.ts';
import { seeded, warrantBody } from '../../testing/harness.ts';

const OP = 'operator-admin-token-0001';

let h: Harness | undefined;
afterEach(async () => {
  await h?.admf.close();
  h = undefined;
});

describe('PATCH /tenants/{id}', () => {
  it('changes the numbering plan: a new version, the audit records before and after, new warrants read it', async () => {
    h = await seeded();
    const r = await h.req(OP, 'PATCH', '/tenants/beta', { defaultCountryCode: '39' });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ id: 'beta', name: 'BETA', defaultCountryCode: '39', nationalTrunkPrefix: null });
    expect(r.json.version).toBe(2);
    expect(h.mem.tenants.get('beta')).toMatchObject({ defaultCountryCode: '39', version: 2 });
    expect((await h.req('beta-admin-token-00000001', 'GET', '/tenants/beta')).json.defaultCountryCode).toBe('39');

    const audit = h.mem.audit.get('beta') ?? [];
    const last = audit.at(-1)!;
    expect(last).toMatchObject({ action: 'tenant.update', actor: 'op-admin', objectType: 'TENANT', objectId: 'beta' });
    expect(JSON.parse(last.before!)).toMatchObject({ defaultCountryCode: '49', nationalTrunkPrefix: null, version: 1 });
    expect(JSON.parse(last.after!)).toMatchObject({ defaultCountryCode: '39', nationalTrunkPrefix: null, version: 2 });

    // beta's next warrant reads the national number as Italian now.
    const w = await h.req('beta-provisioner-token-01', 'POST', '/tenants/beta/warrants', {
      ...warrantBody({ lemfIds: ['lemf-berlin'] }),
    });
    expect(w.status).toBe(201);
    expect(w.json.targets[0].value).toBe('+390612345678');

    // Fields not in the body keep their values; the same values again change nothing (no version, no audit).
    const renamed = await h.req(OP, 'PATCH', '/tenants/beta', { name: 'Beta Mobile', nationalTrunkPrefix: '9' });
    expect(renamed.json).toMatchObject({ name: 'Beta Mobile', defaultCountryCode: '39', nationalTrunkPrefix: '9' });
    expect(renamed.json.version).toBe(3);
    const commits = h.calls.filter((c) => c === 'commit').length;
    const again = await h.req(OP, 'PATCH', '/tenants/beta', { name: 'Beta Mobile', defaultCountryCode: '39' });
    expect(again.json.version).toBe(3);
    // null clears the trunk prefix.
    const cleared = await h.req(OP, 'PATCH', '/tenants/beta', { nationalTrunkPrefix: null });
    expect(cleared.json).toMatchObject({ nationalTrunkPrefix: null, version: 4 });
    expect(h.calls.filter((c) => c === 'commit')).toHaveLength(commits + 1);
  });

  it('refuses invalid settings with the field, an id change, and an empty body; writes nothing', async () => {
    h = await seeded();
    const cases: [Record<string, unknown>, string][] = [
      [{ defaultCountryCode: '+49' }, 'defaultCountryCode'],
      [{ defaultCountryCode: '0' }, 'defaultCountryCode'],
      [{ nationalTrunkPrefix: '012' }, 'nationalTrunkPrefix'],
      [{ name: '' }, 'name'],
      [{ id: 'other' }, 'id'],
    ];
    for (const [body, field] of cases) {
      const r = await h.req(OP, 'PATCH', '/tenants/acme', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.json.error).toMatchObject({ code: 'ADM_ERR_VALIDATION', field });
    }
    expect((await h.req(OP, 'PATCH', '/tenants/acme', {})).status).toBe(400);
    // A blank name passes the schema (minLength 1) and is refused by the domain rule.
    const blank = await h.req(OP, 'PATCH', '/tenants/acme', { name: '   ' });
    expect(blank.json.error).toMatchObject({ code: 'ADM_ERR_VALIDATION', field: 'name' });
    expect(h.calls).not.toContain('commit');
    expect(h.mem.tenants.get('acme')).toMatchObject({ defaultCountryCode: '39', version: 1 });
  });

  it("only an operator-wide admin changes a tenant; another tenant's admin sees 404, an unknown tenant is 404", async () => {
    h = await seeded();
    const body = { defaultCountryCode: '1' };
    const own = await h.req('acme-admin-token-00000001', 'PATCH', '/tenants/acme', body);
    expect(own.status).toBe(403);
    expect(own.json.error.code).toBe('ADM_ERR_FORBIDDEN');
    expect((await h.req('acme-provisioner-token-01', 'PATCH', '/tenants/acme', body)).status).toBe(403);
    expect((await h.req('beta-admin-token-00000001', 'PATCH', '/tenants/acme', body)).status).toBe(404);
    expect((await h.req(OP, 'PATCH', '/tenants/nosuch', body)).status).toBe(404);
    expect((await h.req(null, 'PATCH', '/tenants/acme', body)).status).toBe(401);
    expect(h.calls).not.toContain('commit');
    expect(h.mem.tenants.get('acme')?.defaultCountryCode).toBe('39');
  });
});

describe('POST /tenants on a deployment serving some tenants (config servedTenants)', () => {
  it('creates the tenants it serves and refuses any other, writing nothing for it', async () => {
    h = await seeded({ tenants: ['acme', 'beta', 'gamma'] });
    const other = await h.req(OP, 'POST', '/tenants', { id: 'delta', name: 'D', defaultCountryCode: '49' });
    expect(other.status).toBe(400);
    expect(other.json.error).toMatchObject({ code: 'ADM_ERR_VALIDATION', field: 'id' });
    expect(h.mem.tenants.has('delta')).toBe(false);
    const served = await h.req(OP, 'POST', '/tenants', { id: 'gamma', name: 'G', defaultCountryCode: '49' });
    expect(served.status).toBe(201);
  });
});

describe('config servedTenants', () => {
  it('empty serves every tenant; a list serves its own; a bad id is a configuration error naming LI_SERVED_TENANTS', () => {
    expect(tenantFilter([])('anyone')).toBe(true);
    const serves = tenantFilter(['acme', 'beta']);
    expect([serves('acme'), serves('beta'), serves('gamma')]).toEqual([true, true, false]);
    expect(() => tenantFilter(['acme', 'Bad.Id', 'a_b'])).toThrow(
      /servedTenants\[1\] \(env LI_SERVED_TENANTS\).*servedTenants\[2\] \(env LI_SERVED_TENANTS\)/,
    );
  });
});
