import { sampleWarrant } from '@li/schemas/testing';
import { describe, expect, it } from 'vitest';
import type { Tenant } from './model.ts';
import {
  createWarrant,
  formatTimeMicros,
  isCountryCode,
  LIID_PATTERN,
  modifyWarrant,
  parseTimeMicros,
} from './warrant.ts';

const tenant: Tenant = {
  id: 'acme',
  name: 'Acme',
  defaultCountryCode: '39',
  nationalTrunkPrefix: null,
  version: 1,
  createdAtMicros: 0,
};
const ctx = { tenant, nowMicros: Date.parse('2026-11-20T00:00:00Z') * 1000, lemfIds: new Set(['lemf-rome']) };

describe('field rules', () => {
  it('LIID: 1-25 alphanumerics', () => {
    expect(['A', 'a1B2', 'X'.repeat(25)].every((l) => LIID_PATTERN.test(l))).toBe(true);
    expect(['', 'X'.repeat(26), 'AB-1', 'AB 1', 'ÀB', 'AB_1'].some((l) => LIID_PATTERN.test(l))).toBe(false);
  });
  it('country codes are ISO 3166-1 alpha-2', () => {
    expect(['IT', 'DE', 'FR', 'XX'].every(isCountryCode)).toBe(true);
    expect(['it', 'ITA', 'EU', 'QQ', 'UN', ''].some(isCountryCode)).toBe(false);
  });
  it('times need an offset and keep microseconds', () => {
    expect(parseTimeMicros('2026-11-20T10:00:00Z')).toBe(Date.parse('2026-11-20T10:00:00Z') * 1000);
    expect(parseTimeMicros('2026-11-20T11:00:00.000001+01:00')).toBe(Date.parse('2026-11-20T10:00:00Z') * 1000 + 1);
    expect(parseTimeMicros('2026-11-20T10:00:00')).toBeNull();
    expect(parseTimeMicros('2026-13-20T10:00:00Z')).toBeNull();
    expect(parseTimeMicros(17)).toBeNull();
    expect(formatTimeMicros(Date.parse('2026-11-20T10:00:00Z') * 1000 + 1)).toBe('2026-11-20T10:00:00.000001Z');
  });
});

describe('create and modify', () => {
  const input = {
    liid: 'A1',
    authorisationCountry: 'FR',
    courtCaseId: ' case 1 ',
    interceptionKind: 'DATA',
    targets: [
      { type: 'IPV4', value: '10.0.0.1/8' },
      { type: 'E164', value: '06 1234567', id: 't1' },
    ],
    selection: { access: true },
    deliver: 'IRI_ONLY',
    lemfIds: ['lemf-rome'],
    validFrom: '2026-11-20T00:00:00Z',
    validUntil: '2026-12-20T00:00:00Z',
  };
  it('builds version 1 with normalised targets and server ids that avoid given ones', () => {
    const r = createWarrant(input, ctx, undefined);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value).toMatchObject({
      courtCaseId: 'case 1',
      state: 'ACTIVE',
      version: 1,
      italian: null,
      deliver: 'IRI_ONLY',
    });
    expect(r.value.targets).toEqual([
      { id: 't2', type: 'IPV4', value: '10.0.0.0/8' },
      { id: 't1', type: 'E164', value: '+39061234567' },
    ]);
    expect(r.value.selection.access).toBe(true);
    expect(r.value.selection.login).toBe(false);
  });
  it('modify replaces only the given fields and keeps the identity', () => {
    const w = sampleWarrant({ validFromMicros: ctx.nowMicros - 1, validUntilMicros: ctx.nowMicros + 10 });
    const r = modifyWarrant(w, { deliver: 'IRI_ONLY', selection: { media: false } }, ctx);
    expect(r).toMatchObject({ ok: true, value: { deliver: 'IRI_ONLY', liid: w.liid, version: 2, targets: w.targets } });
    if (r.ok) expect(r.value.selection).toEqual({ ...w.selection, media: false });
    expect(modifyWarrant(w, { validFrom: '2030-01-01T00:00:00Z' }, ctx)).toMatchObject({
      ok: false,
      error: { field: 'validUntil' },
    });
    expect(modifyWarrant(w, { italian: null }, ctx)).toMatchObject({ ok: false, error: { field: 'italian' } });
    expect(modifyWarrant(w, { lemfIds: ['nope'] }, ctx)).toMatchObject({ ok: false, error: { field: 'lemfIds[0]' } });
  });
  it('modify keeps the ids of targets that stay', () => {
    const w = sampleWarrant({
      targets: [{ id: 'x7', type: 'E164', value: '+390612345678' }],
      validUntilMicros: ctx.nowMicros + 10,
    });
    const r = modifyWarrant(
      w,
      {
        targets: [
          { type: 'IMSI', value: '222010123456789' },
          { type: 'E164', value: '06 12345678' },
        ],
      },
      ctx,
    );
    expect(r.ok && r.value.targets).toEqual([
      { id: 't1', type: 'IMSI', value: '222010123456789' },
      { id: 'x7', type: 'E164', value: '+390612345678' },
    ]);
  });
});
