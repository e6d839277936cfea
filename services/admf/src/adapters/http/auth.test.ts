import { describe, expect, it } from 'vitest';
import { TokenAuthenticator } from './auth.ts';

describe('token table', () => {
  it('maps tokens to callers and refuses anything else', () => {
    const a = TokenAuthenticator.fromTable({
      'a-long-enough-token-1': { subject: 's', tenant: 'acme', role: 'auditor' },
    });
    expect(a.ok).toBe(true);
    if (!a.ok) return;
    expect(a.value.authenticate('Bearer a-long-enough-token-1')).toEqual({
      ok: true,
      value: { subject: 's', tenant: 'acme', role: 'auditor' },
    });
    for (const h of [
      undefined,
      '',
      'Bearer',
      'Basic a-long-enough-token-1',
      'Bearer a-long-enough-token-2',
      'Bearer a-long-enough-token-1 x',
    ]) {
      expect(a.value.authenticate(h)).toMatchObject({ ok: false, error: { code: 'ADM_ERR_UNAUTHENTICATED' } });
    }
  });
  it('rejects bad tables at start', () => {
    expect(TokenAuthenticator.fromTable({ short: { subject: 's', tenant: 'acme', role: 'admin' } }).ok).toBe(false);
    expect(
      TokenAuthenticator.fromTable({ 'a-long-enough-token-1': { subject: 's', tenant: '*', role: 'auditor' } }).ok,
    ).toBe(false);
    expect(
      TokenAuthenticator.fromTable({
        'a-long-enough-token-1': { subject: 's', tenant: 'acme', role: 'root' as 'admin' },
      }).ok,
    ).toBe(false);
    expect(
      TokenAuthenticator.fromTable({ 'a-long-enough-token-1': { subject: 's', tenant: '*', role: 'admin' } }).ok,
    ).toBe(true);
  });
});

describe('scheme name', () => {
  it('is case-insensitive (RFC 7235 section 2.1)', () => {
    const a = TokenAuthenticator.fromTable({
      'a-long-enough-token-1': { subject: 's', tenant: 'acme', role: 'auditor' },
    });
    expect(a.ok && a.value.authenticate('bearer a-long-enough-token-1').ok).toBe(true);
  });
});
