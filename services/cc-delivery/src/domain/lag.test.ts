import { describe, expect, it } from 'vitest';
import { consumerLag } from './lag.ts';

describe('consumerLag', () => {
  const ends = [
    { partition: 0, high: '100', low: '0' },
    { partition: 1, high: '50', low: '20' },
    { partition: 2, high: '0', low: '0' },
  ];

  it('sums end minus the committed offset over the partitions', () => {
    expect(
      consumerLag(ends, [
        { partition: 0, offset: '90' },
        { partition: 1, offset: '50' },
        { partition: 2, offset: '0' },
      ]),
    ).toBe(10);
  });

  it('counts from the first offset where nothing is committed or the commit fell behind retention', () => {
    expect(consumerLag(ends, [{ partition: 0, offset: '-1' }])).toBe(100 + 30);
    expect(consumerLag(ends, [{ partition: 1, offset: '5' }])).toBe(100 + 30);
  });

  it('is 0 once every partition is committed to its end', () => {
    expect(
      consumerLag(ends, [
        { partition: 0, offset: '100' },
        { partition: 1, offset: '50' },
      ]),
    ).toBe(0);
  });
});
