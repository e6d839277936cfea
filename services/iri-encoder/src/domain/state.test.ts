import { describe, expect, it } from 'vitest';
import type { EventRole } from './classify.ts';
import {
  type CommunicationEntry,
  cinFor,
  cinKey,
  commit,
  emptyState,
  MAX_CIN,
  nextSeq,
  resolve,
  restore,
  StateView,
} from './state.ts';

const comm = (phase: CommunicationEntry['phase'], answered = false): CommunicationEntry => ({
  t: 'comm',
  cin: 1,
  phase,
  answered,
  lastEventMicros: 0,
});

describe('StateView', () => {
  it('reads through, records writes, and leaves the state alone until commit', () => {
    const state = emptyState();
    const v = new StateView(state);
    const c = cinFor(v, 'L1', 'call-1', 5);
    expect(c.cin).toBe(1);
    expect(cinFor(v, 'L1', 'call-1', 6).cin).toBe(1);
    expect(cinFor(v, 'L1', 'call-2', 6).cin).toBe(2);
    expect(nextSeq(v, 'L1', 1, 'iri')).toBe(0);
    expect(nextSeq(v, 'L1', 1, 'iri')).toBe(1);
    expect(nextSeq(v, 'L1', 1, 'cc')).toBe(0);
    expect(state.entries).toEqual({});
    commit(state, v.changes());
    expect(state.entries[cinKey('L1')]).toEqual({ t: 'cin', next: 3 });
    expect(state.entries['L1/seq/1']).toEqual({ t: 'seq', iri: 2, cc: 1 });
  });

  it('CINs wrap below 10^8 back to 1', () => {
    const state = restore([{ key: cinKey('L1'), value: { t: 'cin', next: MAX_CIN } }]);
    const v = new StateView(state);
    expect(cinFor(v, 'L1', 'a', 0).cin).toBe(MAX_CIN);
    expect(cinFor(v, 'L1', 'b', 0).cin).toBe(1);
  });

  it('restore applies tombstones', () => {
    const s = restore([
      { key: 'k', value: { t: 'seq', iri: 1, cc: 1 } },
      { key: 'k', value: null },
    ]);
    expect(s.entries).toEqual({});
  });
});

describe('resolve', () => {
  const table: [EventRole, CommunicationEntry, string | undefined][] = [
    ['open', comm('none'), 'BEGIN/open'],
    ['open', comm('open'), 'CONTINUE/open'],
    ['open', comm('ended'), 'BEGIN/open'],
    ['inside', comm('none'), 'BEGIN/open'],
    ['inside', comm('ended'), 'REPORT/ended'],
    ['insideOrReport', comm('none'), 'REPORT/none'],
    ['insideOrReport', comm('open'), 'CONTINUE/open'],
    ['inviteFailure', comm('open'), 'END/ended'],
    ['inviteFailure', comm('open', true), 'CONTINUE/open'],
    ['close', comm('open'), 'END/ended'],
    ['close', comm('ended'), 'REPORT/ended'],
    ['report', comm('open'), 'REPORT/open'],
    ['ccOnly', comm('open'), undefined],
  ];
  it.each(table)('%s in %j', (role, c, want) => {
    const r = resolve(role, c);
    expect(r ? `${r.type}/${r.phase}` : undefined).toBe(want);
  });
});
