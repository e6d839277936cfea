import { isWarrantActiveAt } from '@li/identifiers';
import { sampleWarrant } from '@li/schemas/testing';
import { describe, expect, it } from 'vitest';
import { applyLifecycle, dueTransitions, effectiveInterval, effectiveStatus, nextTransitionAt } from './lifecycle.ts';

const w = sampleWarrant({ validFromMicros: 1000, validUntilMicros: 2000, version: 3 });

describe('lifecycle transitions', () => {
  it('allows only the legal transitions and bumps the version', () => {
    const s = applyLifecycle(w, 'suspend', 1500);
    expect(s).toMatchObject({ ok: true, value: { state: 'SUSPENDED', version: 4, updatedAtMicros: 1500 } });
    expect(applyLifecycle(w, 'resume', 1500)).toMatchObject({
      ok: false,
      error: { code: 'ADM_ERR_CONFLICT', field: 'state' },
    });
    expect(applyLifecycle(w, 'activate', 1500)).toMatchObject({ ok: false, error: { code: 'ADM_ERR_CONFLICT' } });
    const d = applyLifecycle(w, 'deactivate', 1500);
    expect(d).toMatchObject({ ok: true, value: { state: 'DEACTIVATED' } });
    if (!d.ok) return;
    expect(applyLifecycle(d.value, 'deactivate', 1600).ok).toBe(false);
    expect(applyLifecycle(d.value, 'activate', 1600)).toMatchObject({ ok: true, value: { state: 'ACTIVE' } });
    expect(applyLifecycle(d.value, 'activate', 2500)).toMatchObject({ ok: false, error: { field: 'validUntil' } });
  });
  it('extension only moves the end later and into the future', () => {
    expect(applyLifecycle(w, 'extend', 1500, 3000)).toMatchObject({ ok: true, value: { validUntilMicros: 3000 } });
    expect(applyLifecycle(w, 'extend', 1500, 1800)).toMatchObject({ ok: false, error: { field: 'validUntil' } });
    expect(applyLifecycle(w, 'extend', 5000, 4000)).toMatchObject({ ok: false, error: { field: 'validUntil' } });
    expect(applyLifecycle(w, 'extend', 1500)).toMatchObject({ ok: false });
  });
});

describe('schedule', () => {
  it('is active exactly in [validFrom, validUntil) while ACTIVE', () => {
    expect([999, 1000, 1999, 2000].map((t) => isWarrantActiveAt(w, t))).toEqual([false, true, true, false]);
    expect(isWarrantActiveAt({ ...w, state: 'SUSPENDED' }, 1500)).toBe(false);
    expect([500, 1500, 2500].map((t) => effectiveStatus(w, t))).toEqual(['SCHEDULED', 'IN_EFFECT', 'ENDED']);
  });
  it('knows the next transition', () => {
    expect(nextTransitionAt(w, 500)).toBe(1000);
    expect(nextTransitionAt(w, 1000)).toBe(2000);
    expect(nextTransitionAt(w, 2000)).toBeNull();
    expect(nextTransitionAt({ ...w, state: 'DEACTIVATED' }, 500)).toBeNull();
  });
  it('lists due starts and expiries', () => {
    const later = { ...w, liid: 'L2', validFromMicros: 5000, validUntilMicros: 6000 };
    expect(dueTransitions([w, later], 500, () => false)).toEqual([]);
    expect(dueTransitions([w, later], 1000, () => false).map((d) => d.kind)).toEqual(['start']);
    // The start is a new version (same fields) written at the start, so warrant followers see it.
    expect(dueTransitions([w, later], 1000, () => false)[0]).toMatchObject({
      kind: 'start',
      before: w,
      after: { ...w, version: w.version + 1, updatedAtMicros: 1000 },
    });
    expect(dueTransitions([w, later], 1000, () => true)).toEqual([]);
    const exp = dueTransitions([w, later], 2000, () => true);
    expect(exp).toHaveLength(1);
    expect(exp[0]).toMatchObject({
      kind: 'expire',
      after: { state: 'DEACTIVATED', version: 4, updatedAtMicros: 2000 },
    });
  });
});

describe('effective interval for billing', () => {
  it('runs from the first moment in effect to the last, suspension included', () => {
    const v1 = { ...w, validFromMicros: 1000, validUntilMicros: 5000 };
    const history = [
      { atMicros: 500, warrant: v1 },
      { atMicros: 2000, warrant: { ...v1, state: 'SUSPENDED' as const } },
      { atMicros: 3000, warrant: { ...v1, state: 'DEACTIVATED' as const } },
    ];
    expect(effectiveInterval(history, 10_000)).toEqual({ startMicros: 1000, endMicros: 3000 });
    expect(effectiveInterval(history.slice(0, 1), 10_000)).toEqual({ startMicros: 1000, endMicros: 5000 });
    expect(effectiveInterval(history.slice(0, 1), 2500)).toEqual({ startMicros: 1000, endMicros: 2500 });
    expect(effectiveInterval([{ atMicros: 500, warrant: { ...v1, state: 'DEACTIVATED' } }], 10_000)).toBeNull();
  });
});
