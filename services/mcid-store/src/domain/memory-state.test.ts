import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryState } from './memory-state.ts';
import type { Change, McidReport, StateValue } from './model.ts';

const report = { reportId: 'r' } as McidReport;
const undelivered: StateValue = { type: 'report', report, delivery: null };
const delivered: StateValue = { type: 'report', report, delivery: { via: 'LOCAL', atMicros: 1 } };
const admin: StateValue = { type: 'admin', state: 'LOCKED', updatedAtMicros: 0 };

/** What redelivery scanned before the index: every report key, filtered. */
function scanned(s: MemoryState): string[] {
  return [...s.keys('report/')].filter((k) => {
    const v = s.get(k);
    return v?.type === 'report' && v.delivery === null;
  });
}

describe('MemoryState.undeliveredReportKeys', () => {
  const key = fc.constantFrom('report/t/a', 'report/t/b', 'report/u/c', 'report/t/d', 'call/t/a', 'reportx');

  it('holds the keys a scan of the reports finds, for any changes', () => {
    const value = fc.constantFrom<StateValue | null>(undelivered, delivered, admin, null);
    fc.assert(
      fc.property(fc.array(fc.array(fc.record({ key, value }), { maxLength: 6 }), { maxLength: 12 }), (batches) => {
        const s = new MemoryState();
        for (const b of batches) {
          s.applyChanges(b as Change[]);
          expect(new Set(s.undeliveredReportKeys())).toEqual(new Set(scanned(s)));
        }
      }),
    );
  });

  it('in the scan order when reports go undelivered → delivered → deleted, as the service writes them', () => {
    fc.assert(
      fc.property(fc.array(key, { maxLength: 40 }), (steps) => {
        const s = new MemoryState();
        for (const k of steps) {
          const v = s.get(k);
          const next = !k.startsWith('report/')
            ? admin
            : v === undefined
              ? undelivered
              : v.type === 'report' && v.delivery === null
                ? delivered
                : null;
          s.applyChanges([{ key: k, value: next }]);
          expect([...s.undeliveredReportKeys()]).toEqual(scanned(s));
        }
      }),
    );
  });
});
