import { describe, expect, it } from 'vitest';
import { commitPlan, partitionKey } from './confirmed-offsets.ts';

describe('commitPlan', () => {
  const key = (topic: string, partition = 0) => partitionKey({ topic, partition });
  const at = (topic: string) => ({ topic, partition: 0 });
  const read = new Map([
    [key('hi2'), { topic: 'hi2', partition: 0, offset: 26n }],
    [key('hi3'), { topic: 'hi3', partition: 0, offset: 41n }],
  ]);

  it('moves past records that needed no confirmation and commit markers only when nothing is unconfirmed', () => {
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
