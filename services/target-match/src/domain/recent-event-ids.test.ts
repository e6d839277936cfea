import { describe, expect, it } from 'vitest';
import { RecentEventIds } from './recent-event-ids.ts';

/** Checks a batch's ids in order: which repeat. */
function check(window: RecentEventIds, partition: string, ids: readonly string[]) {
  const batch = window.batch(partition);
  const repeated = ids.filter((id) => batch.isRepeat(id));
  return { batch, repeated };
}

describe('RecentEventIds', () => {
  it('drops the same id met twice in one batch, once committed or not', () => {
    const w = new RecentEventIds(10);
    const { batch, repeated } = check(w, 'p0', ['a', 'b', 'a', 'c', 'b']);
    expect(repeated).toEqual(['a', 'b']);
    expect(batch.repeats).toBe(2);
    expect(batch.fresh).toEqual(['a', 'b', 'c']);
  });

  it('drops an id committed by an earlier batch of the partition', () => {
    const w = new RecentEventIds(10);
    w.commit(check(w, 'p0', ['a', 'b']).batch);
    const { batch, repeated } = check(w, 'p0', ['c', 'a', 'd', 'b']);
    expect(repeated).toEqual(['a', 'b']);
    expect(batch.fresh).toEqual(['c', 'd']);
  });

  it('forgets the oldest ids past its capacity', () => {
    const w = new RecentEventIds(3);
    w.commit(check(w, 'p0', ['a', 'b']).batch);
    w.commit(check(w, 'p0', ['c', 'd']).batch);
    expect(w.size('p0')).toBe(3);
    // 'a' left when 'd' came: it is read as new again, the three latest are not.
    expect(check(w, 'p0', ['a', 'b', 'c', 'd']).repeated).toEqual(['b', 'c', 'd']);
    w.commit(check(w, 'p0', ['e', 'f', 'g', 'h']).batch);
    expect(w.size('p0')).toBe(3);
    expect(check(w, 'p0', ['e', 'f', 'g', 'h']).repeated).toEqual(['f', 'g', 'h']);
  });

  it('is not changed by a batch that did not commit: its retry reads the same ids as new', () => {
    const w = new RecentEventIds(10);
    w.commit(check(w, 'p0', ['a']).batch);
    const aborted = check(w, 'p0', ['b', 'c', 'a']);
    expect(aborted.repeated).toEqual(['a']);
    // The transaction aborted: no commit(aborted.batch). The retry starts from committed state.
    const retry = check(w, 'p0', ['b', 'c', 'a']);
    expect(retry.repeated).toEqual(['a']);
    expect(retry.batch.fresh).toEqual(['b', 'c']);
    w.commit(retry.batch);
    expect(check(w, 'p0', ['b', 'c']).repeated).toEqual(['b', 'c']);
  });

  it('keeps each partition apart, and forgets the partitions no longer assigned', () => {
    const w = new RecentEventIds(10);
    w.commit(check(w, 'events\u00000', ['a']).batch);
    expect(check(w, 'events\u00001', ['a']).repeated).toEqual([]);
    expect(check(w, 'other\u00000', ['a']).repeated).toEqual([]);
    expect(check(w, 'events\u00000', ['a']).repeated).toEqual(['a']);
    w.commit(check(w, 'events\u00001', ['b']).batch);
    w.keepOnly(['events\u00001']);
    expect(w.size('events\u00000')).toBe(0);
    expect(check(w, 'events\u00000', ['a']).repeated).toEqual([]);
    expect(check(w, 'events\u00001', ['b']).repeated).toEqual(['b']);
  });

  it('never drops an event without an id, and drops nothing when its capacity is 0', () => {
    const w = new RecentEventIds(10);
    const { batch, repeated } = check(w, 'p0', ['', '', 'a']);
    expect(repeated).toEqual([]);
    w.commit(batch);
    expect(check(w, 'p0', ['', 'a']).repeated).toEqual(['a']);

    const off = new RecentEventIds(0);
    off.commit(check(off, 'p0', ['a', 'a']).batch);
    expect(check(off, 'p0', ['a', 'a']).repeated).toEqual([]);
    expect(off.size('p0')).toBe(0);
    expect(() => new RecentEventIds(-1)).toThrow(RangeError);
  });
});
