import { describe, expect, it } from 'vitest';
import { LemfDirectory, lemfsOf, routeRecords } from './routing.ts';

const rec = (n: number, lemfs?: string) => ({
  n,
  headers: { 'li.liid': 'L1', 'li.seq': String(n), ...(lemfs === undefined ? {} : { 'li.lemfs': lemfs }) },
});

describe('lemfsOf', () => {
  it('reads each id once, skips blanks, and flags an id no LEMF can have', () => {
    expect(lemfsOf('a, b,,a')).toEqual({ ids: ['a', 'b'], invalid: false });
    expect(lemfsOf(undefined)).toEqual({ ids: [], invalid: false });
    expect(lemfsOf('ok,x.y,../z')).toEqual({ ids: ['ok'], invalid: true });
  });
});

describe('routeRecords', () => {
  it('gives every named LEMF one copy, in record order, naming only that LEMF', () => {
    const r = routeRecords([rec(0, 'a,b'), rec(1, 'b'), rec(2)], () => false);
    expect(r.copies.map((c) => `${c.record.n}:${c.lemfId}:${c.headers['li.lemfs']}`)).toEqual([
      '0:a:a',
      '0:b:b',
      '1:b:b',
    ]);
    expect(r.copies[0]!.headers['li.seq']).toBe('0');
    expect(r.invalid).toEqual([]);
  });

  it('routes nothing to a removed LEMF, and reports a record with a malformed id but still routes its valid ones', () => {
    const dir = new LemfDirectory();
    dir.set('gone', false);
    const bad = rec(1, 'a,a.b');
    const r = routeRecords([rec(0, 'gone,a'), bad], (id) => dir.removed(id));
    expect(r.copies.map((c) => `${c.record.n}:${c.lemfId}`)).toEqual(['0:a', '1:a']);
    expect(r.invalid).toEqual([bad]);
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
