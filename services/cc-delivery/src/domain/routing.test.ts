import { describe, expect, it } from 'vitest';
import { LemfDirectory, routeRecords } from './routing.ts';

const rec = (n: number, lemfs?: string) => ({
  n,
  headers: { 'li.liid': 'L1', 'li.seq': String(n), ...(lemfs === undefined ? {} : { 'li.lemfs': lemfs }) },
});

describe('routeRecords', () => {
  it('gives every named LEMF one copy, in record order, naming only that LEMF', () => {
    const r = routeRecords([rec(0, 'a,b,a'), rec(1, 'b')], () => false);
    expect(r.copies.map((c) => `${c.record.n}:${c.lemfId}:${c.headers['li.lemfs']}`)).toEqual([
      '0:a:a',
      '0:b:b',
      '1:b:b',
    ]);
    expect(r.copies[0]!.headers['li.seq']).toBe('0');
    expect(r.rejected).toEqual([]);
  });

  it('routes no record with a missing or malformed header, and refuses it naming the header', () => {
    const noLemfs = rec(0);
    const blank = rec(1, 'a,,b');
    const badSeq = { n: 2, headers: { 'li.liid': 'SECRET', 'li.seq': '-1', 'li.lemfs': 'a' } };
    const r = routeRecords([noLemfs, blank, badSeq, rec(3, 'a')], () => false);
    expect(r.copies.map((c) => `${c.record.n}:${c.lemfId}`)).toEqual(['3:a']);
    expect(r.rejected).toEqual([
      { record: noLemfs, code: 'BUS_ERR_HEADER', reason: 'header li.lemfs missing' },
      {
        record: blank,
        code: 'BUS_ERR_HEADER',
        reason: 'header li.lemfs: expected a comma-separated list without empty items',
      },
      { record: badSeq, code: 'BUS_ERR_HEADER', reason: 'header li.seq: expected a non-negative integer' },
    ]);
  });

  it('routes nothing to a removed LEMF, and reports a record with a malformed id but still routes its valid ones', () => {
    const dir = new LemfDirectory();
    dir.set('gone', false);
    const bad = rec(1, 'a,a.b,../z');
    const r = routeRecords([rec(0, 'gone,a'), bad], (id) => dir.removed(id));
    expect(r.copies.map((c) => `${c.record.n}:${c.lemfId}`)).toEqual(['0:a', '1:a']);
    expect(r.rejected).toEqual([
      { record: bad, code: 'DLV_ERR_BAD_RECORD', reason: 'li.lemfs names an invalid LEMF id' },
    ]);
  });
});

describe('LemfDirectory', () => {
  it('knows a LEMF removed until it is published again', () => {
    const dir = new LemfDirectory();
    dir.set('a', true);
    dir.set('b', false);
    expect(dir.removed('a')).toBe(false);
    expect(dir.allRemoved()).toEqual(['b']);
    dir.set('b', true);
    expect(dir.removed('b')).toBe(false);
    expect(dir.allRemoved()).toEqual([]);
  });
});
