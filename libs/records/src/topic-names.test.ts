import { describe, expect, it } from 'vitest';
import { isLemfId, isTenantId, parseLemfTopic, parseTopic } from './topic-names.ts';

describe('topic names', () => {
  it('parses tenant streams and system topics, and nothing else', () => {
    expect(parseTopic('li.acme.hi2')).toEqual({ tenant: 'acme', stream: 'hi2' });
    expect(parseTopic('li.a-1.encoder-state')).toEqual({ tenant: 'a-1', stream: 'encoder-state' });
    expect(parseTopic('li._system.tenants')).toEqual({ system: 'li._system.tenants' });
    for (const bad of [
      'li.acme.nope',
      'li.Acme.hi2',
      'li.acme.hi2.x',
      'x.acme.hi2',
      'li._system.other',
      'li.-a.hi2',
      '',
    ])
      expect(parseTopic(bad), bad).toBeUndefined();
  });

  it("parses a LEMF's queue topics, and nothing else", () => {
    expect(parseLemfTopic('li.acme.lemf.rome_1.hi3')).toEqual({ tenant: 'acme', lemfId: 'rome_1', stream: 'hi3' });
    expect(parseLemfTopic('li.acme.lemf.hi2.reports')).toEqual({ tenant: 'acme', lemfId: 'hi2', stream: 'reports' });
    for (const bad of [
      'li.acme.lemf.a.lemfs',
      'li.acme.hi2',
      'li.ac_me.lemf.a.hi2',
      'li.acme.lemf..hi2',
      'x.acme.lemf.a.hi2',
    ])
      expect(parseLemfTopic(bad), bad).toBeNull();
  });

  it('checks tenant and LEMF ids by the rules the topic names need', () => {
    expect(['acme', 'a-1', 'a'.repeat(32)].every(isTenantId)).toBe(true);
    expect(['', 'a.b', 'a_b', 'A', '-a', 'a-', 'a'.repeat(33), 7].some(isTenantId)).toBe(false);
    expect(['rome', 'Rome_1-x', 'a'.repeat(64)].every(isLemfId)).toBe(true);
    expect(['', 'a.b', 'a b', '../x', 'a'.repeat(65)].some(isLemfId)).toBe(false);
  });
});
