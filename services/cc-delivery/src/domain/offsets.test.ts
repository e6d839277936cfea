import { describe, expect, it } from 'vitest';
import { commitPlan, OffsetTracker } from './offsets.ts';

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

describe('commitPlan', () => {
  const key = (topic: string, partition = 0) => OffsetTracker.key({ topic, partition });
  const at = (topic: string) => ({ topic, partition: 0 });
  const read = new Map([
    [key('hi2'), { topic: 'hi2', partition: 0, offset: 26n }],
    [key('hi3'), { topic: 'hi3', partition: 0, offset: 41n }],
  ]);

  it("moves past other LEMFs' records and commit markers only when nothing of this LEMF is unconfirmed", () => {
    expect(commitPlan([{ topic: 'hi2', partition: 0, offset: 10 }], read, false, new Map())).toEqual([
      { topic: 'hi2', partition: 0, offset: 10n },
    ]);
    expect(
      commitPlan(
        [{ topic: 'hi2', partition: 0, offset: 30 }],
        new Map([[key('hi2'), { ...at('hi2'), offset: 25n }]]),
        true,
        new Map(),
      ),
    ).toEqual([{ topic: 'hi2', partition: 0, offset: 30n }]);
  });

  it('when the last stream drains, also moves the one confirmed earlier past its commit marker', () => {
    // HI2's last record (offset 24) was confirmed while HI3 was still in flight: committed 25,
    // one below the end (26) because of the transaction marker. HI3 drains later.
    const committed = new Map([[key('hi2'), 25n]]);
    expect(commitPlan([{ topic: 'hi3', partition: 0, offset: 40 }], read, true, committed)).toEqual([
      { topic: 'hi3', partition: 0, offset: 41n },
      { topic: 'hi2', partition: 0, offset: 26n },
    ]);
  });

  it('never commits an offset at or below the one already committed', () => {
    const committed = new Map([
      [key('hi2'), 26n],
      [key('hi3'), 41n],
    ]);
    expect(commitPlan([{ topic: 'hi3', partition: 0, offset: 41 }], read, true, committed)).toEqual([]);
  });
});
