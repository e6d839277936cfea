// Operator change without interruption (seed 001 Art. 9 c.5): POST …/warrants/:country/:liid/transfer
// through the REST API and the use case, over the in-memory store.
import { warrantKey } from '@li/identifiers';
import { afterEach, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../domain/audit.ts';
import type { Harness } from '../../testing/harness.ts';
import { HOUR, seeded, T0, warrantBody } from '../../testing/harness.ts';

const OP = 'operator-admin-token-0001';
const PROV = 'acme-provisioner-token-01';
const TRANSFER = '/tenants/acme/warrants/IT/ROMA2026A1/transfer';

let h: Harness | undefined;
afterEach(async () => {
  await h?.admf.close();
  h = undefined;
});

/** acme and beta seeded, acme's warrant ROMA2026A1 in effect (clock past its start). */
async function withWarrant(): Promise<Harness> {
  h = await seeded();
  const c = await h.req(PROV, 'POST', '/tenants/acme/warrants', warrantBody());
  if (c.status !== 201) throw new Error(JSON.stringify(c.json));
  h.clock.set((T0 + 2 * HOUR) / 1000);
  h.calls.length = 0;
  return h;
}

describe('admf > warrant transfer (operator change, seed 001 Art. 9 c.5)', () => {
  it('moves the warrant to the new tenant under the same LIID, in one commit, audited on both sides', async () => {
    const h = await withWarrant();
    const commits = h.mem.commits;
    const r = await h.req(OP, 'POST', TRANSFER, { toTenant: 'beta', lemfIds: ['lemf-berlin'] });
    expect(r.status).toBe(200);
    expect(r.json.from).toMatchObject({ tenant: 'acme', liid: 'ROMA2026A1', state: 'DEACTIVATED', version: 2 });
    expect(r.json.to).toMatchObject({
      tenant: 'beta',
      liid: 'ROMA2026A1',
      key: 'IT:ROMA2026A1',
      state: 'ACTIVE',
      status: 'IN_EFFECT',
      version: 2,
      lemfIds: ['lemf-berlin'],
      targets: [expect.objectContaining({ type: 'E164', value: '+390612345678' })],
    });
    // One store commit holds both tenants' warrants (new one first) and both audit records.
    expect(h.mem.commits).toBe(commits + 1);
    const beta = await h.req('beta-provisioner-token-01', 'GET', '/tenants/beta/warrants/IT/ROMA2026A1');
    expect([beta.status, beta.json.status, beta.json.courtCaseId]).toEqual([200, 'IN_EFFECT', 'RG-2026-42']);
    const acme = await h.req(PROV, 'GET', '/tenants/acme/warrants/IT/ROMA2026A1');
    expect([acme.status, acme.json.status]).toEqual([200, 'DEACTIVATED']);

    const acmeAudit = h.mem.audit.get('acme')!;
    const betaAudit = h.mem.audit.get('beta')!;
    expect(acmeAudit.at(-1)).toMatchObject({
      action: 'warrant.transfer-out',
      objectId: 'IT:ROMA2026A1',
      actor: 'op-admin',
      reason: 'transferred to tenant beta',
    });
    expect(JSON.parse(acmeAudit.at(-1)!.after!)).toMatchObject({ state: 'DEACTIVATED', tenant: 'acme' });
    expect(betaAudit.at(-1)).toMatchObject({
      action: 'warrant.transfer-in',
      objectId: 'IT:ROMA2026A1',
      before: null,
      reason: 'transferred from tenant acme',
    });
    expect(JSON.parse(betaAudit.at(-1)!.after!)).toMatchObject({ state: 'ACTIVE', tenant: 'beta' });
    expect(verifyAuditChain('acme', acmeAudit)).toMatchObject({ ok: true });
    expect(verifyAuditChain('beta', betaAudit)).toMatchObject({ ok: true });
    // The audited history of the old tenant shows the move; the new tenant's starts with it.
    const hist = await h.req(PROV, 'POST', '/tenants/acme/warrant-history', { key: 'IT:ROMA2026A1' });
    expect(hist.json.map((v: { action: string }) => v.action)).toEqual(['warrant.create', 'warrant.transfer-out']);
  });

  it('keeps the LEMF ids when lemfIds is left out, if the new tenant has them; else 409 naming lemfIds', async () => {
    const h = await withWarrant();
    const missing = await h.req(OP, 'POST', TRANSFER, { toTenant: 'beta' });
    expect(missing.status).toBe(409);
    expect(missing.json.error).toMatchObject({ code: 'ADM_ERR_CONFLICT', field: 'lemfIds' });
    expect(missing.json.error.message).toContain('lemf-rome');
    const unknown = await h.req(OP, 'POST', TRANSFER, { toTenant: 'beta', lemfIds: ['lemf-berlin', 'lemf-rome'] });
    expect([unknown.status, unknown.json.error.field]).toEqual([400, 'lemfIds[1]']);
    expect(h.calls).not.toContain('commit');

    const lemf = await h.req('beta-admin-token-00000001', 'PUT', '/tenants/beta/lemfs/lemf-rome', {
      name: 'rome in beta',
      transport: 'ETSI_TCP',
      address: { host: '127.0.0.1', port: 16001 },
      allowInsecure: true,
    });
    expect(lemf.status).toBe(200);
    const ok = await h.req(OP, 'POST', TRANSFER, { toTenant: 'beta' });
    expect([ok.status, ok.json.to.lemfIds]).toEqual([200, ['lemf-rome']]);
  });

  it('refuses every role but the operator-wide admin, and writes nothing', async () => {
    const h = await withWarrant();
    const body = { toTenant: 'beta', lemfIds: ['lemf-berlin'] };
    for (const [token, status] of [
      ['acme-admin-token-00000001', 403], // a tenant's admin is not the operator
      [PROV, 403],
      ['acme-auditor-token-000001', 403],
      ['beta-admin-token-00000001', 404], // another tenant's warrant is not disclosed
      ['beta-provisioner-token-01', 404],
      ['acme-mailserver-token-001', 403],
      [null, 401],
    ] as const) {
      const r = await h.req(token, 'POST', TRANSFER, body);
      expect(r.status, String(token)).toBe(status);
    }
    expect(h.calls).not.toContain('commit');
    expect(h.mem.warrants.get('beta')?.size ?? 0).toBe(0);
  });

  it('answers an unknown or the same tenant, an unknown warrant and a LIID the new tenant has with field reasons', async () => {
    const h = await withWarrant();
    const lemfIds = ['lemf-berlin'];
    const unknownTenant = await h.req(OP, 'POST', TRANSFER, { toTenant: 'gamma', lemfIds });
    expect([unknownTenant.status, unknownTenant.json.error.field]).toEqual([404, 'toTenant']);
    const same = await h.req(OP, 'POST', TRANSFER, { toTenant: 'acme', lemfIds });
    expect([same.status, same.json.error.field]).toEqual([400, 'toTenant']);
    const noBody = await h.req(OP, 'POST', TRANSFER, { lemfIds });
    expect([noBody.status, noBody.json.error.field]).toEqual([400, 'toTenant']);
    const noWarrant = await h.req(OP, 'POST', '/tenants/acme/warrants/IT/NOSUCH1/transfer', { toTenant: 'beta' });
    expect(noWarrant.status).toBe(404);
    const noFromTenant = await h.req(OP, 'POST', '/tenants/gamma/warrants/IT/ROMA2026A1/transfer', {
      toTenant: 'beta',
    });
    expect(noFromTenant.status).toBe(404);
    expect(h.calls).not.toContain('commit');

    // beta already holds IT:ROMA2026A1 (LIIDs are unique per tenant and country): 409, nothing moves.
    const dup = await h.req(
      'beta-provisioner-token-01',
      'POST',
      '/tenants/beta/warrants',
      warrantBody({ lemfIds, targets: [{ type: 'E164', value: '+49301234567' }] }),
    );
    expect(dup.status).toBe(201);
    const betaBefore = h.mem.audit.get('beta')!.length;
    const conflict = await h.req(OP, 'POST', TRANSFER, { toTenant: 'beta', lemfIds });
    expect([conflict.status, conflict.json.error.field]).toEqual([409, 'liid']);
    expect(h.mem.audit.get('beta')).toHaveLength(betaBefore);
    expect(h.mem.warrants.get('acme')!.get('IT:ROMA2026A1')!.state).toBe('ACTIVE');
  });

  it('moves a suspended warrant suspended, refuses a deactivated one, and writes nothing when the store fails', async () => {
    const h = await withWarrant();
    expect((await h.req(PROV, 'POST', '/tenants/acme/warrants/IT/ROMA2026A1/suspend', {})).status).toBe(200);
    h.mem.failNextCommit = true;
    const failed = await h.req(OP, 'POST', TRANSFER, { toTenant: 'beta', lemfIds: ['lemf-berlin'] });
    expect([failed.status, failed.json.error.code]).toEqual([503, 'ADM_ERR_STORE']);
    expect(h.mem.warrants.get('beta')?.size ?? 0).toBe(0);

    const moved = await h.req(OP, 'POST', TRANSFER, { toTenant: 'beta', lemfIds: ['lemf-berlin'] });
    expect([moved.status, moved.json.to.state, moved.json.from.state]).toEqual([200, 'SUSPENDED', 'DEACTIVATED']);
    const w = h.mem.warrants.get('beta')!.get('IT:ROMA2026A1')!;
    expect(warrantKey(w)).toBe('IT:ROMA2026A1');
    // Moving it again from the old tenant: it is DEACTIVATED there now.
    const again = await h.req(OP, 'POST', TRANSFER, { toTenant: 'beta', lemfIds: ['lemf-berlin'] });
    expect([again.status, again.json.error.field]).toEqual([409, 'state']);
  });

  it('runs two opposite transfers at once without deadlock, both chains intact', async () => {
    const h = await withWarrant();
    const b = await h.req(
      'beta-provisioner-token-01',
      'POST',
      '/tenants/beta/warrants',
      warrantBody({ liid: 'BERLIN1', lemfIds: ['lemf-berlin'], targets: [{ type: 'E164', value: '+49301234567' }] }),
    );
    expect(b.status).toBe(201);
    expect(
      (
        await h.req('acme-admin-token-00000001', 'PUT', '/tenants/acme/lemfs/lemf-berlin', {
          name: 'berlin in acme',
          transport: 'ETSI_TCP',
          address: { host: '127.0.0.1', port: 16002 },
          allowInsecure: true,
        })
      ).status,
    ).toBe(200);
    const [ab, ba] = await Promise.all([
      h.req(OP, 'POST', TRANSFER, { toTenant: 'beta', lemfIds: ['lemf-berlin'] }),
      h.req(OP, 'POST', '/tenants/beta/warrants/IT/BERLIN1/transfer', { toTenant: 'acme' }),
    ]);
    expect([ab.status, ba.status]).toEqual([200, 200]);
    expect(h.mem.warrants.get('acme')!.get('IT:BERLIN1')!.state).toBe('ACTIVE');
    expect(h.mem.warrants.get('beta')!.get('IT:ROMA2026A1')!.state).toBe('ACTIVE');
    expect(verifyAuditChain('acme', h.mem.audit.get('acme')!)).toMatchObject({ ok: true });
    expect(verifyAuditChain('beta', h.mem.audit.get('beta')!)).toMatchObject({ ok: true });
  });
});
