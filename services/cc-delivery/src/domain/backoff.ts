// Exponential back-off with jitter so many DFs reconnecting to one LEMF do not hammer it in step.

export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
  /** 0..1: share of the delay that is randomised. */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 200, maxMs: 30_000, jitter: 0.5 };

export function backoffDelay(policy: BackoffPolicy, attempt: number, random: () => number = Math.random): number {
  const exp = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(attempt, 30));
  const jitter = Math.max(0, Math.min(1, policy.jitter));
  return Math.round(exp * (1 - jitter) + exp * jitter * random());
}
