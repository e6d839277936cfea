import { describe, expect, it } from 'vitest';
import { sampleReports } from '../testing/reports.ts';
import { type StateRecord, stateOfRecords } from './kafka-state.ts';

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
