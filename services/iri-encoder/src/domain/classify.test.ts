import { sampleEvent } from '@li/schemas/testing';
import { describe, expect, it } from 'vitest';
import { roleOf, serviceOf } from './classify.ts';

describe('roleOf', () => {
  it.each([
    ['sip.invite', { method: 'INVITE' }, 'open'],
    ['sip.register', { method: 'REGISTER' }, 'insideOrReport'],
    ['sip.message', { method: 'MESSAGE' }, 'insideOrReport'],
    ['sip.bye', { method: 'BYE' }, 'inside'],
    ['sip.response', { method: 'INVITE', status: '183' }, 'inside'],
    ['sip.response', { method: 'INVITE', status: '200' }, 'answer'],
    ['sip.response', { method: 'INVITE', status: '486' }, 'inviteFailure'],
    ['sip.response', { method: 'BYE', status: '200' }, 'close'],
    ['sip.response', { method: 'CANCEL', status: '200' }, 'close'],
    ['sip.response', { method: 'REGISTER', status: '200' }, 'insideOrReport'],
  ] as const)('SIP %s %j → %s', (action, attributes, role) => {
    const e = sampleEvent({ action, attributes: { ...attributes } });
    expect(serviceOf(e)).toBe('sip');
    expect(roleOf(e, 'sip')).toBe(role);
  });

  it.each([
    ['LOGIN', 'imap.login', 'open'],
    ['LOGIN', 'pop3.login.failed', 'report'],
    ['SENT_MAIL', 'smtp.send', 'insideOrReport'],
    ['NEW_MAIL', 'mail.delivered', 'insideOrReport'],
    ['NEW_MAIL', 'imap.append', 'report'],
    ['NEW_MAIL', 'imap.copy', 'reportOnly'],
    ['ACCESS', 'pop3.retr', 'report'],
    ['PARTIAL', 'imap.fetch.partial', 'report'],
    ['SIGNALS', 'imap.logout', 'close'],
    ['MAILBOX', 'imap.mailbox.created', 'reportOnly'],
    ['MAILBOX', 'mailbox.renamed', 'reportOnly'],
    ['DELETED_MAIL', 'pop3.dele', 'reportOnly'],
    ['DELETED_MAIL', 'imap.expunge', 'reportOnly'],
    ['SIGNALS', 'imap.starttls', 'ignore'],
  ] as const)('mail %s %s → %s', (category, action, role) => {
    const e = sampleEvent({ category, action, protocol: action.split('.')[0]!.toUpperCase(), attributes: {} });
    expect(serviceOf(e)).toBe('email');
    expect(roleOf(e, 'email')).toBe(role);
  });

  it.each([
    [{ method: 'INVITE' }, 'open'],
    [{ method: 'BYE' }, 'inside'],
    [{ method: 'INVITE', status: '200' }, 'answer'],
    [{ method: 'BYE', status: '200' }, 'close'],
    [{ method: 'REGISTER' }, 'insideOrReport'],
  ] as const)('SIP over X2 %j → %s', (attributes, role) => {
    const e = sampleEvent({ protocol: 'x2', action: 'x2.sip', attributes: { payloadFormat: '9', ...attributes } });
    expect(serviceOf(e)).toBe('sip');
    expect(roleOf(e, 'sip')).toBe(role);
  });

  it('MSNP and X3 media', () => {
    const msnp = sampleEvent({ protocol: 'MSNP', action: 'msnp.signin.failed', attributes: {} });
    expect(serviceOf(msnp)).toBe('ip');
    expect(roleOf(msnp, 'ip')).toBe('report');
    const media = sampleEvent({ protocol: 'x3', category: 'MEDIA', action: 'x3.rtp', attributes: {} });
    expect(roleOf(media, serviceOf(media))).toBe('ccOnly');
  });
});

describe('report-only activity keeps the ETSI side unchanged', () => {
  it('a registration as a login (sip.login) and messages deleted (ACCESS *.deleted) give no IRI', () => {
    const login = sampleEvent({
      category: 'LOGIN',
      action: 'sip.login',
      protocol: 'SIP',
      attributes: { method: 'REGISTER' },
    });
    expect(serviceOf(login)).toBe('sip');
    expect(roleOf(login, 'sip')).toBe('reportOnly');
    for (const [action, protocol] of [
      ['imap.deleted', 'IMAP'],
      ['pop3.deleted', 'POP3'],
    ] as const) {
      const e = sampleEvent({ category: 'ACCESS', action, protocol, attributes: {} });
      expect(serviceOf(e)).toBe('email');
      expect(roleOf(e, 'email'), action).toBe('reportOnly');
    }
  });
});
