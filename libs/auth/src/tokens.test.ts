import { describe, expect, it } from 'vitest';
import { isOperatorAdmin, TokenAuthenticator } from './tokens.ts';

const table = {
  'a-long-enough-token-1': { subject: 's', tenant: 'acme', role: 'auditor' },
  'a-long-enough-mail-token': { subject: 'mx', tenant: 'acme', role: 'mailserver' },
  'a-long-enough-view-token': { subject: 'sre', tenant: 'acme', role: 'viewer' },
};

function authenticator() {
  const a = TokenAuthenticator.fromTable(table);
  if (!a.ok) throw new Error(a.error.message);
  return a.value;
}

describe('auth > tokens', () => {
  it('maps tokens to callers and refuses anything else', () => {
    const a = authenticator();
    expect(a.authenticate('Bearer a-long-enough-token-1')).toEqual({
      ok: true,
      value: { subject: 's', tenant: 'acme', role: 'auditor' },
    });
    expect(a.authenticate('bearer a-long-enough-mail-token')).toMatchObject({
      ok: true,
      value: { role: 'mailserver' },
    });
    expect(a.authenticate('Bearer a-long-enough-view-token')).toMatchObject({ ok: true, value: { role: 'viewer' } });
    for (const h of [
      undefined,
      '',
      'Bearer',
      'Basic a-long-enough-token-1',
      'Bearer a-long-enough-token-2',
      'Bearer a-long-enough-token-1 x',
    ]) {
      expect(a.authenticate(h)).toMatchObject({ ok: false, error: { code: 'AUTH_ERR_UNAUTHENTICATED' } });
    }
  });

  it('takes the token as a Basic password only when asked', () => {
    const a = authenticator();
    const basic = `Basic ${Buffer.from('ingest:a-long-enough-mail-token').toString('base64')}`;
    expect(a.authenticate(basic).ok).toBe(false);
    expect(a.authenticate(basic, { basic: true })).toMatchObject({ ok: true, value: { subject: 'mx' } });
    const wrong = `Basic ${Buffer.from('ingest:a-long-enough-mail-tokem').toString('base64')}`;
    expect(a.authenticate(wrong, { basic: true }).ok).toBe(false);
    const noPassword = `Basic ${Buffer.from('a-long-enough-mail-token').toString('base64')}`;
    expect(a.authenticate(noPassword, { basic: true }).ok).toBe(false);
  });

  it('rejects bad tables at start, naming the entry by subject and never the token', () => {
    const bad: unknown[] = [
      null,
      [],
      { short: { subject: 's', tenant: 'acme', role: 'admin' } },
      { 'a-long-enough-token-1': { subject: 's', tenant: '*', role: 'auditor' } },
      // A read-only token is for one tenant: "*" stays the operator-wide admin's.
      { 'a-long-enough-token-1': { subject: 's', tenant: '*', role: 'viewer' } },
      { 'a-long-enough-token-1': { subject: 's', tenant: 'acme', role: 'root' } },
      { 'a-long-enough-token-1': { subject: 's', tenant: 'Acme.x', role: 'admin' } },
      { 'a-long-enough-token-1': { tenant: 'acme', role: 'admin' } },
      { 'a-long-enough-token-1': null },
      { 'a long enough token 1': { subject: 's', tenant: 'acme', role: 'admin' } },
    ];
    for (const t of bad) {
      const r = TokenAuthenticator.fromTable(t);
      expect(r, JSON.stringify(t)).toMatchObject({ ok: false, error: { code: 'AUTH_ERR_TOKEN_TABLE' } });
      if (!r.ok) expect(r.error.message).not.toContain('a-long-enough');
    }
    expect(
      TokenAuthenticator.fromTable({ 'a-long-enough-token-1': { subject: 's', tenant: '*', role: 'admin' } }).ok,
    ).toBe(true);
  });

  it('knows the operator-wide admin', () => {
    expect(isOperatorAdmin({ subject: 's', tenant: '*', role: 'admin' })).toBe(true);
    expect(isOperatorAdmin({ subject: 's', tenant: 'acme', role: 'admin' })).toBe(false);
  });
});
