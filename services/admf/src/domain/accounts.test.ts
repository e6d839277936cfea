import type { NormalizedEvent } from '@li/schemas';
import { sampleEvent, sampleWarrant } from '@li/schemas/testing';
import { describe, expect, it } from 'vitest';
import { accountFailureDisposition, followAccountChange, readAccountEvent } from './accounts.ts';

const acct = (action: string, attributes: Record<string, string>): NormalizedEvent =>
  sampleEvent({ category: 'ACCOUNT', action, attributes, parties: [] });

describe('account events', () => {
  it('reads rename and removal, refuses anything else', () => {
    expect(readAccountEvent(acct('account.renamed', { old: 'Bob', new: 'Robert' }))).toEqual({
      ok: true,
      change: { kind: 'renamed', oldName: 'bob', newName: 'robert' },
    });
    expect(readAccountEvent(acct('account.removed', { account: 'BOB@X.IT' }))).toEqual({
      ok: true,
      change: { kind: 'removed', name: 'bob@x.it' },
    });
    expect(readAccountEvent(acct('account.removed', {}))).toMatchObject({ ok: false });
    expect(readAccountEvent(acct('account.created', {}))).toMatchObject({ ok: false });
    expect(readAccountEvent(sampleEvent())).toMatchObject({ ok: false });
  });

  it('renames follow, removals drop the element, deactivated warrants are left alone', () => {
    const w = sampleWarrant({
      targets: [
        { id: 'a', type: 'MAIL_ACCOUNT', value: 'bob' },
        { id: 'b', type: 'E164', value: '+390612345678' },
      ],
    });
    const off = sampleWarrant({
      liid: 'OFF',
      state: 'DEACTIVATED',
      targets: [{ id: 'a', type: 'MAIL_ACCOUNT', value: 'bob' }],
    });
    const other = sampleWarrant({ liid: 'OTHER', targets: [{ id: 'a', type: 'MAIL_ACCOUNT', value: 'alice' }] });
    const ren = followAccountChange([w, off, other], { kind: 'renamed', oldName: 'bob', newName: 'robert' }, 99);
    expect(ren).toHaveLength(1);
    expect(ren[0]).toMatchObject({
      action: 'warrant.target.renamed',
      targetIds: ['a'],
      after: { version: 2, updatedAtMicros: 99 },
    });
    expect(ren[0]!.after.targets[0]).toEqual({ id: 'a', type: 'MAIL_ACCOUNT', value: 'robert' });
    const rem = followAccountChange([w], { kind: 'removed', name: 'bob' }, 99);
    expect(rem[0]!.after.targets).toEqual([{ id: 'b', type: 'E164', value: '+390612345678' }]);
    expect(rem[0]!.after.state).toBe('ACTIVE');
  });

  it('an EMAIL target renamed to a plain account name becomes MAIL_ACCOUNT; duplicates collapse', () => {
    const w = sampleWarrant({
      targets: [
        { id: 'a', type: 'EMAIL', value: 'bob@x.it' },
        { id: 'b', type: 'MAIL_ACCOUNT', value: 'robert' },
      ],
    });
    const r = followAccountChange([w], { kind: 'renamed', oldName: 'bob@x.it', newName: 'robert' }, 1);
    expect(r[0]!.after.targets).toEqual([{ id: 'a', type: 'MAIL_ACCOUNT', value: 'robert' }]);
  });
});

describe('account event failures', () => {
  it('retries a store failure, dead-letters what can never apply, passes over an unknown tenant', () => {
    expect(accountFailureDisposition('ADM_ERR_STORE')).toBe('retry');
    expect(accountFailureDisposition('ADM_ERR_VALIDATION')).toBe('dead-letter');
    expect(accountFailureDisposition('ADM_ERR_TENANT_MISMATCH')).toBe('dead-letter');
    expect(accountFailureDisposition('ADM_ERR_NOT_FOUND')).toBe('skip');
  });
});
