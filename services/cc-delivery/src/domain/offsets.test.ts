import { describe, expect, it } from 'vitest';
import { OffsetTracker } from './offsets.ts';

const p = (offset: number, partition = 0) => ({ topic: 'li.acme.hi2', partition, offset });

describe('OffsetTracker', () => {
  it('advances only over a contiguous confirmed prefix', () => {
    const t = new OffsetTracker();
    for (const o of [10, 11, 12, 15]) t.track(p(o));
    expect(t.confirm(p(11))).toBeNull();
    expect(t.confirm(p(10))).toEqual({ topic: 'li.acme.hi2', partition: 0, offset: 12 });
    expect(t.confirm(p(15))).toBeNull();
    expect(t.confirm(p(12))).toEqual({ topic: 'li.acme.hi2', partition: 0, offset: 16 });
    expect(t.pendingCount()).toBe(0);
  });

  it('keeps partitions apart and ignores re-tracked offsets', () => {
    const t = new OffsetTracker();
    t.track(p(0, 0));
    t.track(p(0, 1));
    t.track(p(0, 1));
    expect(t.pendingCount()).toBe(2);
    t.confirm(p(0, 1));
    expect(t.committed()).toEqual([{ topic: 'li.acme.hi2', partition: 1, offset: 1 }]);
    t.track(p(0, 1)); // redelivered after commit: not tracked again
    expect(t.pendingCount()).toBe(1);
  });
});
