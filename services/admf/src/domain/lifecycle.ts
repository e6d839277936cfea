// Warrant lifecycle (seed 001 Art. 5 c.3: activation with start and end date, deactivation,
// extension with a new end date; plus suspend/resume and modify). Matching itself only reads
// isWarrantActiveAt(), so a scheduled start or end needs no write to take effect; the
// scheduler still records them (start: a new version, same fields; end: state DEACTIVATED) so
// the record and the audit show what happened and when, and the iri-encoder, which follows
// li.<t>.warrants, sends liActivated at the start rather than when the warrant was entered.
import { unreachable } from '@li/core';
import type { Warrant } from '@li/schemas';
import type { Result } from '../errors.ts';
import { errResult, okResult } from '../errors.ts';

export const LIFECYCLE_ACTIONS = ['activate', 'deactivate', 'suspend', 'resume', 'extend'] as const;
export type LifecycleAction = (typeof LIFECYCLE_ACTIONS)[number];

const bump = (w: Warrant, now: number, patch: Partial<Warrant>): Warrant => ({
  ...w,
  ...patch,
  version: w.version + 1,
  updatedAtMicros: now,
});

export function applyLifecycle(
  w: Warrant,
  action: LifecycleAction,
  nowMicros: number,
  newUntilMicros?: number,
): Result<Warrant> {
  switch (action) {
    case 'activate':
      if (w.state !== 'DEACTIVATED')
        return errResult('ADM_ERR_CONFLICT', `warrant is ${w.state}, not DEACTIVATED`, 'state');
      if (w.validUntilMicros <= nowMicros) {
        return errResult('ADM_ERR_CONFLICT', 'the validity window has ended; extend it first', 'validUntil');
      }
      return okResult(bump(w, nowMicros, { state: 'ACTIVE' }));
    case 'deactivate':
      if (w.state === 'DEACTIVATED') return errResult('ADM_ERR_CONFLICT', 'warrant is already DEACTIVATED', 'state');
      return okResult(bump(w, nowMicros, { state: 'DEACTIVATED' }));
    case 'suspend':
      if (w.state !== 'ACTIVE') return errResult('ADM_ERR_CONFLICT', `warrant is ${w.state}, not ACTIVE`, 'state');
      return okResult(bump(w, nowMicros, { state: 'SUSPENDED' }));
    case 'resume':
      if (w.state !== 'SUSPENDED')
        return errResult('ADM_ERR_CONFLICT', `warrant is ${w.state}, not SUSPENDED`, 'state');
      return okResult(bump(w, nowMicros, { state: 'ACTIVE' }));
    case 'extend':
      // Proroga (Art. 5 c.3 c): only a later closing date. A warrant the schedule already
      // ended stays DEACTIVATED until activated again, so an extension never restarts
      // interception by itself.
      if (newUntilMicros === undefined || !Number.isFinite(newUntilMicros)) {
        return errResult('ADM_ERR_VALIDATION', 'validUntil is required', 'validUntil');
      }
      if (newUntilMicros <= w.validUntilMicros) {
        return errResult('ADM_ERR_VALIDATION', 'validUntil must be later than the current end', 'validUntil');
      }
      if (newUntilMicros <= nowMicros)
        return errResult('ADM_ERR_VALIDATION', 'validUntil is in the past', 'validUntil');
      return okResult(bump(w, nowMicros, { validUntilMicros: newUntilMicros }));
    default:
      return unreachable(action, 'lifecycle action');
  }
}

/** Status as people read it, derived from state + window at time t. */
type EffectiveStatus = 'SCHEDULED' | 'IN_EFFECT' | 'SUSPENDED' | 'ENDED' | 'DEACTIVATED';

export function effectiveStatus(w: Warrant, t: number): EffectiveStatus {
  if (w.state === 'DEACTIVATED') return 'DEACTIVATED';
  if (t >= w.validUntilMicros) return 'ENDED';
  if (t < w.validFromMicros) return 'SCHEDULED';
  return w.state === 'SUSPENDED' ? 'SUSPENDED' : 'IN_EFFECT';
}

/** The next instant after `after` at which the warrant's effect changes by itself, or null. */
export function nextTransitionAt(w: Warrant, after: number): number | null {
  if (w.state === 'DEACTIVATED') return null;
  if (after < w.validFromMicros) return w.validFromMicros;
  if (after < w.validUntilMicros) return w.validUntilMicros;
  return null;
}

type ScheduledChange = { kind: 'start' | 'expire'; before: Warrant; after: Warrant };

/**
 * Transitions due at `now` that have not been recorded. startRecorded(w) tells whether the
 * start of this warrant's current window is already in the audit.
 */
export function dueTransitions(
  warrants: readonly Warrant[],
  now: number,
  startRecorded: (w: Warrant) => boolean,
): ScheduledChange[] {
  const out: ScheduledChange[] = [];
  for (const w of warrants) {
    if (w.state === 'DEACTIVATED') continue;
    if (w.validUntilMicros <= now) {
      out.push({ kind: 'expire', before: w, after: bump(w, now, { state: 'DEACTIVATED' }) });
    } else if (w.validFromMicros <= now && !startRecorded(w)) {
      out.push({ kind: 'start', before: w, after: bump(w, now, {}) });
    }
  }
  return out;
}

/**
 * Effective service interval of a warrant from its history (each version and the time it was
 * written): the union of the stretches in which it was ACTIVE or SUSPENDED and inside its
 * window. Suspension does not interrupt billing: Art. 9 c.8 bills from the effective start to
 * the effective end date. Returns null if it never took effect.
 */
export function effectiveInterval(
  history: readonly { atMicros: number; warrant: Warrant }[],
  nowMicros: number,
): { startMicros: number; endMicros: number } | null {
  let start: number | null = null;
  let end: number | null = null;
  for (let i = 0; i < history.length; i++) {
    const { atMicros, warrant: w } = history[i]!;
    const nextAt = i + 1 < history.length ? history[i + 1]!.atMicros : nowMicros;
    if (w.state === 'DEACTIVATED') continue;
    const s = Math.max(atMicros, w.validFromMicros);
    const e = Math.min(nextAt, w.validUntilMicros);
    if (s >= e) continue;
    if (start === null || s < start) start = s;
    if (end === null || e > end) end = e;
  }
  return start === null || end === null ? null : { startMicros: start, endMicros: end };
}
