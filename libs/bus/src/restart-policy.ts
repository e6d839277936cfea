// When a consumer crashes for good (kafkajs gave up, or will not restart it), the processor
// makes a new one, a bounded number of times: a broker restart or a coordinator move is
// survived in place; a consumer that keeps dying is reported on /healthz so the orchestrator
// restarts the process.

export interface RestartPolicy {
  /** Restarts allowed within windowMs; one more crash gives up. */
  maxRestarts: number;
  windowMs: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  maxRestarts: 8,
  windowMs: 10 * 60_000,
  initialDelayMs: 1_000,
  maxDelayMs: 30_000,
};

export type RestartDecision = { restart: true; delayMs: number } | { restart: false; reason: string };

/**
 * Given the times of earlier restarts and a crash at `now`: restart after a delay that doubles
 * with each restart in the window, or give up once the window holds maxRestarts already.
 */
export function decideRestart(restartTimes: readonly number[], now: number, policy: RestartPolicy): RestartDecision {
  const recent = restartTimes.filter((t) => now - t < policy.windowMs).length;
  if (recent >= policy.maxRestarts) {
    return {
      restart: false,
      reason: `consumer crashed after ${recent} restarts within ${Math.round(policy.windowMs / 1000)} s`,
    };
  }
  return { restart: true, delayMs: Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** recent) };
}
