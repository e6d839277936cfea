import type { Warrant } from '@li/schemas';
import { describe, expect, it } from 'vitest';
import { planTransfer } from './transfer.ts';

const NOW = 1_800_000_000_000_000;
const W: Warrant = {
  liid: 'LIID7',
  tenant: 'acme',
  authorisationCountry: 'IT',
  courtCaseId: 'RG-1',
  italian: null,
  interceptionKind: 'VOICE',
  targets: [{ id: 't1', type: 'E164', value: '+390612345678' }],
  selection: { signals: true, media: true } as Warrant['selection'],
  deliver: 'IRI_AND_CC',
  lemfIds: ['lemf-a'],
  validFromMicros: NOW - 1000,
  validUntilMicros: NOW + 1_000_000,
  state: 'ACTIVE',
  version: 3,
  updatedAtMicros: NOW - 1000,
};
const to = (over: Partial<{ tenant: string; lemfIds: Set<string>; existing: Warrant }> = {}) => ({
  tenant: 'beta',
  lemfIds: new Set(['lemf-a', 'lemf-b']),
  existing: undefined,
  ...over,
});

describe('admf > planTransfer', () => {
  it('builds the new tenant’s warrant in effect and the old one DEACTIVATED, same LIID and version', () => {
    const r = planTransfer(W, to(), ['lemf-b'], NOW);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.incoming).toEqual({ ...W, tenant: 'beta', lemfIds: ['lemf-b'], version: 4, updatedAtMicros: NOW });
    expect(r.value.outgoing).toEqual({ ...W, state: 'DEACTIVATED', version: 4, updatedAtMicros: NOW });
    // Without lemfIds the ids stay.
    const same = planTransfer(W, to(), undefined, NOW);
    expect(same.ok && same.value.incoming.lemfIds).toEqual(['lemf-a']);
  });

  it('refuses what cannot move, naming the field', () => {
    const field = (r: ReturnType<typeof planTransfer>) => (r.ok ? 'ok' : `${r.error.code} ${r.error.field}`);
    expect(field(planTransfer(W, to({ tenant: 'acme' }), undefined, NOW))).toBe('ADM_ERR_VALIDATION toTenant');
    expect(field(planTransfer({ ...W, state: 'DEACTIVATED' }, to(), undefined, NOW))).toBe('ADM_ERR_CONFLICT state');
    expect(field(planTransfer(W, to(), undefined, W.validUntilMicros))).toBe('ADM_ERR_CONFLICT validUntil');
    expect(field(planTransfer(W, to({ existing: { ...W, tenant: 'beta' } }), undefined, NOW))).toBe(
      'ADM_ERR_CONFLICT liid',
    );
    expect(field(planTransfer(W, to({ lemfIds: new Set(['lemf-b']) }), undefined, NOW))).toBe(
      'ADM_ERR_CONFLICT lemfIds',
    );
    expect(field(planTransfer(W, to(), ['lemf-b', 'lemf-x'], NOW))).toBe('ADM_ERR_VALIDATION lemfIds[1]');
    expect(field(planTransfer(W, to(), [], NOW))).toBe('ADM_ERR_VALIDATION lemfIds');
  });
});
