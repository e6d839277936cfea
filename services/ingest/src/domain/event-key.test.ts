import { describe, expect, it } from 'vitest';
import { ACCOUNT_EVENTS_KEY, eventKey } from './event-key.ts';

describe('eventKey', () => {
  it('keys a communication by its id, so its events keep their order on one partition', () => {
    expect(eventKey({ category: 'SIGNALS', communicationId: 'call-1@pbx' })).toBe('call-1@pbx');
    expect(eventKey({ category: 'LOGIN', communicationId: 'mail:s1' })).toBe('mail:s1');
  });

  it('keys every account event of the tenant alike: a rename and what follows about the new name stay in order', () => {
    expect(eventKey({ category: 'ACCOUNT', communicationId: 'mail:jdoe:1' })).toBe(ACCOUNT_EVENTS_KEY);
    expect(eventKey({ category: 'ACCOUNT', communicationId: 'mail:john:2' })).toBe(ACCOUNT_EVENTS_KEY);
  });
});
