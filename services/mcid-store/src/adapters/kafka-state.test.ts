import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sampleReports } from '../testing/reports.ts';
import { keyOfTenant, type StateRecord, stateOfRecords, tenantOfKey } from './kafka-state.ts';

describe('mcid-store > kafka-state > stateOfRecords', () => {
  it('folds each delivery mark into its report, and keeps a report without a mark undelivered', () => {
    const [a, b] = sampleReports(2);
    const live = new Map<string, StateRecord>([
      [`delivered/vtp1/${a!.reportId}`, { type: 'delivered', via: 'LOCAL', atMicros: 7 }],
      [`report/vtp1/${a!.reportId}`, { type: 'report', report: a!, delivery: null }],
      [`report/vtp1/${b!.reportId}`, { type: 'report', report: b!, delivery: null }],
      ['admin/tenant/vtp1', { type: 'admin', state: 'UNLOCKED', updatedAtMicros: 1 }],
    ]);
    expect(stateOfRecords(live)).toEqual(
      new Map([
        [`report/vtp1/${a!.reportId}`, { type: 'report', report: a, delivery: { via: 'LOCAL', atMicros: 7 } }],
        [`report/vtp1/${b!.reportId}`, { type: 'report', report: b, delivery: null }],
        ['admin/tenant/vtp1', { type: 'admin', state: 'UNLOCKED', updatedAtMicros: 1 }],
      ]),
    );
  });

  it('keeps a delivery written with the report (records written before the marks existed)', () => {
    const [a] = sampleReports(1);
    const delivered: StateRecord = { type: 'report', report: a!, delivery: { via: 'CDS', atMicros: 3 } };
    const live = new Map<string, StateRecord>([
      [`report/vtp1/${a!.reportId}`, delivered],
      [`delivered/vtp1/${a!.reportId}`, { type: 'delivered', via: 'LOCAL', atMicros: 9 }],
    ]);
    expect(stateOfRecords(live).get(`report/vtp1/${a!.reportId}`)).toEqual(delivered);
  });
});

describe('mcid-store > kafka-state > keyOfTenant', () => {
  it('says what tenantOfKey says, for any key and tenant', () => {
    const part = fc.constantFrom('admin', 'tenant', 'report', 'call', 'vtp1', 'vtp', 'vtp1x', '/', '', 'x@y');
    const key = fc.array(part, { maxLength: 6 }).map((a) => a.join(''));
    const tenant = fc.oneof(fc.constantFrom('vtp1', 'vtp', 'tenant', 'admin', '', 'a/b'), fc.string());
    fc.assert(
      fc.property(key, tenant, (k, t) => {
        expect(keyOfTenant(k, t)).toBe(t !== '' && tenantOfKey(k) === t);
      }),
      { numRuns: 5000 },
    );
    expect(keyOfTenant('admin/tenant/vtp1', 'vtp1')).toBe(true);
    expect(keyOfTenant('report/vtp1/abc', 'vtp1')).toBe(true);
    expect(keyOfTenant('report/vtp10/abc', 'vtp1')).toBe(false);
  });
});
