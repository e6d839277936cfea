import { describe, expect, it } from 'vitest';
import { decideRestart, type RestartPolicy } from './restart-policy.ts';

const policy: RestartPolicy = { maxRestarts: 3, windowMs: 60_000, initialDelayMs: 1_000, maxDelayMs: 3_000 };

describe('decideRestart', () => {
  it('restarts a first crash after the initial delay', () => {
    expect(decideRestart([], 0, policy)).toEqual({ restart: true, delayMs: 1_000 });
  });

  it('doubles the delay with each restart in the window, up to the maximum', () => {
    expect(decideRestart([0], 1_000, policy)).toEqual({ restart: true, delayMs: 2_000 });
    expect(decideRestart([0, 1_000], 2_000, policy)).toEqual({ restart: true, delayMs: 3_000 });
  });

  it('gives up once the window holds maxRestarts, naming why', () => {
    const d = decideRestart([0, 1_000, 2_000], 3_000, policy);
    expect(d.restart).toBe(false);
    expect(d).toMatchObject({ reason: 'consumer crashed after 3 restarts within 60 s' });
  });

  it('forgets restarts older than the window', () => {
    expect(decideRestart([0, 1_000, 2_000], 61_500, policy)).toEqual({ restart: true, delayMs: 2_000 });
  });
});
