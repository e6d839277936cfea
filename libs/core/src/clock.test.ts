import { describe, expect, it } from 'vitest';
import { ManualClock, systemClock } from './clock.ts';

describe('ManualClock', () => {
  it('fires due timers in time order inside advance, and not cancelled ones', () => {
    const clock = new ManualClock(1000);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(`b@${clock.now()}`), 20);
    clock.setTimeout(() => fired.push(`a@${clock.now()}`), 10);
    const cancel = clock.setTimeout(() => fired.push('never'), 15);
    cancel();
    clock.advance(15);
    expect(fired).toEqual(['a@1010']);
    clock.advance(10);
    expect(fired).toEqual(['a@1010', 'b@1020']);
    expect(clock.now()).toBe(1025);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('set() jumps without firing', () => {
    const clock = new ManualClock();
    let n = 0;
    clock.setTimeout(() => n++, 5);
    clock.set(100);
    expect(n).toBe(0);
  });
});

describe('systemClock', () => {
  it('runs a timer and can cancel one', async () => {
    let ran = false;
    const cancel = systemClock.setTimeout(() => {
      throw new Error('cancelled timer ran');
    }, 5);
    cancel();
    await new Promise<void>((resolve) =>
      systemClock.setTimeout(() => {
        ran = true;
        resolve();
      }, 1),
    );
    expect(ran).toBe(true);
    expect(Math.abs(systemClock.now() - Date.now())).toBeLessThan(1000);
  });
});
