import type { MatchedEvent, NormalizedEvent } from '@li/schemas';
import { sampleEvent, sampleMatched } from '@li/schemas/testing';
import { type ParsedMail, simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { composeReport, REPORT_TYPES, type ReportType, reportTypeOf } from './report.ts';

const opts = { from: 'li-reports@mdf.example', to: ['lemf@procura.example'], courtCaseId: 'RG-2026-0042' };
const original = Buffer.from(
  'From: alice@example.com\r\nTo: bob@example.org\r\nSubject: ciao\r\nMessage-ID: <m1@example.com>\r\n\r\nHello Bob, ci vediamo alle 8.\r\n',
);
const net = { transport: 'tcp', srcAddress: '198.51.100.7', srcPort: 51234, dstAddress: '192.0.2.1', dstPort: 143 };
const account = { role: 'ACCOUNT' as const, type: 'MAIL_ACCOUNT' as const, value: 'alice@example.com' };

function mail(overrides: Partial<NormalizedEvent>): MatchedEvent {
  return sampleMatched({
    matchedRoles: ['ACCOUNT'],
    event: sampleEvent({
      protocol: 'IMAP',
      network: net,
      parties: [account],
      content: null,
      contentType: null,
      ...overrides,
    }),
  });
}

const cases: { type: ReportType; event: MatchedEvent; expect: string[]; parts: string[] }[] = [
  {
    type: 'Login',
    event: mail({ category: 'LOGIN', action: 'imap.login', attributes: { result: 'success' } }),
    expect: ['Account: alice@example.com', 'Protocol: IMAP', 'IP Address: 198.51.100.7', 'Port: 51234'],
    parts: [],
  },
  {
    type: 'Signal',
    event: sampleMatched({ event: sampleEvent({ category: 'SIGNALS' }) }),
    expect: [
      'Account: +390612345678',
      'Object: Request',
      'IP Address: 192.0.2.10',
      'INVITE sip:+390612345678@example.com SIP/2.0',
    ],
    parts: [],
  },
  {
    type: 'New Message',
    event: mail({
      category: 'NEW_MAIL',
      action: 'imap.append',
      attributes: { mailbox: 'Sent', uid: '4711', source: 'appended' },
      content: original,
      contentType: 'message/rfc822',
    }),
    expect: [
      'Account: alice@example.com',
      'Action: attached message stored',
      'Protocol: IMAP',
      'IP Address: 198.51.100.7',
      'Port: 51234',
      'Mailbox: Sent',
      'UID: 4711',
      'Time Stamp: 2026-11-21T',
      'Source: appended',
    ],
    parts: ['message/rfc822'],
  },
  {
    type: 'Mailbox',
    event: mail({
      category: 'MAILBOX',
      action: 'imap.mailbox.renamed',
      attributes: { mailbox: 'Old', newMailbox: 'Nuovo' },
    }),
    expect: [
      'Account: alice@example.com',
      'Action: Mailbox renamed',
      'Protocol: IMAP',
      'IP Address: 198.51.100.7',
      'Port: 51234',
      'Mailbox: Old',
      'New Mailbox: Nuovo',
    ],
    parts: [],
  },
  {
    type: 'Access',
    event: mail({ category: 'ACCESS', action: 'imap.fetch', attributes: { mailbox: 'INBOX', uid: '12' } }),
    expect: [
      'Account: alice@example.com',
      'Action: message read',
      'Protocol: IMAP',
      'IP Address: 198.51.100.7',
      'Port: 51234',
      'Mailbox: INBOX',
      'UID: 12',
    ],
    parts: [],
  },
  {
    type: 'Partial Access',
    event: mail({
      category: 'PARTIAL',
      action: 'imap.fetch.partial',
      attributes: { mailbox: 'INBOX', uid: '13', section: 'BODY[HEADER]' },
    }),
    expect: ['Action: message read', 'Mailbox: INBOX', 'UID: 13', 'Portion: BODY[HEADER]', 'Port: 51234'],
    parts: [],
  },
  {
    type: 'Sent Message',
    event: mail({
      category: 'SENT_MAIL',
      action: 'smtp.send',
      protocol: 'SMTP',
      parties: [
        { role: 'SENDER', type: 'EMAIL', value: 'alice@example.com' },
        { role: 'RECIPIENT', type: 'EMAIL', value: 'bob@example.org' },
        { role: 'RECIPIENT', type: 'EMAIL', value: 'carol@example.net' },
        account,
      ],
      attributes: { authUser: 'alice@example.com' },
      content: original,
      contentType: 'message/rfc822',
    }),
    expect: [
      'Account: alice@example.com',
      'Action: message sent',
      'Protocol: SMTP',
      'IP Address: 198.51.100.7',
      'Port: 51234',
      'Authenticated User: (self)',
    ],
    parts: ['application/x-envelope', 'message/rfc822'],
  },
  {
    type: 'Deleted Message',
    event: mail({
      category: 'DELETED_MAIL',
      action: 'imap.expunge',
      attributes: { mailbox: 'INBOX', uid: '99', messageTime: '2026-11-20T10:00:00Z' },
      content: original,
      contentType: 'message/rfc822',
    }),
    expect: [
      'Account: alice@example.com',
      'Action: attached message deleted',
      'Protocol: IMAP',
      'IP Address: 198.51.100.7',
      'Port: 51234',
      'Mailbox: INBOX',
      'UID: 99',
      'Time Stamp: 2026-11-20T10:00:00Z',
    ],
    parts: ['message/rfc822'],
  },
];

async function parse(bytes: Buffer): Promise<ParsedMail> {
  return simpleParser(bytes, { skipTextToHtml: true, keepCidLinks: true });
}

describe('composeReport', () => {
  it('covers every report type of seed 000', () => {
    expect(cases.map((c) => c.type).sort()).toEqual([...REPORT_TYPES].sort());
  });

  for (const c of cases) {
    it(`${c.type}: parses with mailparser and carries every field`, async () => {
      const r = composeReport(c.event, opts);
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      expect(r.type).toBe(c.type);
      const raw = r.bytes.toString('utf8');
      const top = /^Content-Type: ([^;\r\n]+)/m.exec(raw)?.[1];
      expect(top).toBe(c.parts.length ? 'multipart/mixed' : 'text/plain');
      const parsed = await parse(r.bytes);
      expect(parsed.subject).toBe(`${c.type} Report`);
      expect(parsed.headers.get('x-report-type')).toBe(c.type);
      const text = parsed.text ?? '';
      for (const line of [...c.expect, 'Court Case ID: RG-2026-0042', `Report: ${c.type}`])
        expect(text).toContain(line);
      // part order of seed 000: text/plain first, then the listed parts
      const order = [...raw.matchAll(/^Content-Type: ([^;\r\n]+)/gm)].map((m) => m[1]).slice(1);
      if (c.parts.length) expect(order).toEqual(['text/plain', ...c.parts]);
      expect(parsed.attachments.map((a) => a.contentType)).toEqual(c.parts);
      const msg = parsed.attachments.find((a) => a.contentType === 'message/rfc822');
      if (msg) expect(Buffer.compare(msg.content, original)).toBe(0);
      const env = parsed.attachments.find((a) => a.contentType === 'application/x-envelope');
      if (env) {
        expect(env.content.toString()).toBe(
          'MAIL FROM:<alice@example.com>\r\nRCPT TO:<bob@example.org>\r\nRCPT TO:<carol@example.net>\r\n',
        );
      }
    });
  }

  it('is deterministic and refuses categories without an e-mail format', () => {
    const a = composeReport(cases[2]!.event, opts);
    const b = composeReport(cases[2]!.event, opts);
    expect(a.ok && b.ok && a.bytes.equals(b.bytes)).toBe(true);
    const media = composeReport(sampleMatched({ event: sampleEvent({ category: 'MEDIA' }) }), opts);
    expect(media).toEqual({ ok: false, code: 'ENC_ERR_NO_REPORT_FORMAT', reason: 'MEDIA' });
    const badTo = composeReport(cases[0]!.event, { ...opts, to: ['x\r\nBcc: evil@example.com'] });
    expect(badTo.ok).toBe(false);
  });

  it('gives a Login report for a login and none for the end of a session (seed 000 has no logout report)', () => {
    expect(reportTypeOf({ category: 'LOGIN', action: 'imap.login' })).toBe('Login');
    expect(reportTypeOf({ category: 'LOGIN', action: 'imap.login.failed' })).toBe('Login');
    for (const action of ['smtp.logout', 'imap.logout', 'pop3.logout', 'smtp.closed', 'imap.closed', 'pop3.closed']) {
      expect(reportTypeOf({ category: 'LOGIN', action }), action).toBeNull();
      const r = composeReport(mail({ category: 'LOGIN', action, protocol: action.split('.')[0]!.toUpperCase() }), opts);
      expect(r, action).toMatchObject({ ok: false, code: 'ENC_ERR_NO_REPORT_FORMAT' });
    }
  });

  it('names another authenticated user and encodes non-ASCII text safely', async () => {
    const ev = mail({
      category: 'SENT_MAIL',
      action: 'smtp.send',
      protocol: 'SMTP',
      parties: [account, { role: 'SENDER', type: 'EMAIL', value: 'alice@example.com' }],
      attributes: { authUser: 'assistant@example.com' },
      content: null,
    });
    const r = composeReport(ev, opts);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect((await parse(r.bytes)).text).toContain('Authenticated User: assistant@example.com');
    const utf = composeReport(
      mail({ category: 'MAILBOX', action: 'imap.mailbox.created', attributes: { mailbox: 'Città' } }),
      opts,
    );
    expect(utf.ok && /Content-Transfer-Encoding: base64/.test(utf.bytes.toString())).toBe(true);
    if (utf.ok) expect((await parse(utf.bytes)).text).toContain('Mailbox: Città');
  });
});

describe('seed 000 report variants', () => {
  const textOf = async (m: MatchedEvent) => {
    const r = composeReport(m, opts);
    expect(r.ok).toBe(true);
    if (!r.ok) return '';
    return (await parse(r.bytes)).text ?? '';
  };

  it('Access: removed messages give "messages deleted" with their UIDs, reads keep "message read"', async () => {
    const imap = await textOf(
      mail({ category: 'ACCESS', action: 'imap.deleted', attributes: { mailbox: 'Archive', marked: '1:3' } }),
    );
    expect(imap).toContain('Report: Access');
    expect(imap).toContain('Action: messages deleted');
    expect(imap).not.toContain('message read');
    expect(imap).toContain('Mailbox: Archive');
    expect(imap).toContain('UID: 1:3');
    const pop = await textOf(
      mail({
        category: 'ACCESS',
        action: 'pop3.deleted',
        protocol: 'POP3',
        attributes: { mailbox: 'INBOX', uid: 'u1,u2' },
      }),
    );
    expect(pop).toContain('Action: messages deleted');
    expect(pop).toContain('Protocol: POP3');
    expect(pop).toContain('UID: u1,u2');
    const read = await textOf(
      mail({ category: 'ACCESS', action: 'pop3.retr', protocol: 'pop3', attributes: { uid: 'u1' } }),
    );
    expect(read).toContain('Protocol: POP3'); // as seed 000 names protocols, whatever case capture wrote
    expect(read).toContain('Action: message read');
    const part = await textOf(mail({ category: 'PARTIAL', action: 'pop3.top', attributes: { msgNumber: '1' } }));
    expect(part).toContain('Action: message read');
  });

  it('Login over SIP: a registration gives a Login report with protocol SIP and the device address', async () => {
    const text = await textOf(
      mail({
        category: 'LOGIN',
        action: 'sip.login',
        protocol: 'SIP',
        parties: [{ role: 'ACCOUNT', type: 'SIP_URI', value: 'sip:alice@example.com' }],
        network: {
          transport: 'udp',
          srcAddress: '198.51.100.9',
          srcPort: 5062,
          dstAddress: '192.0.2.1',
          dstPort: 5060,
        },
        attributes: { method: 'REGISTER', result: 'success', status: '200' },
      }),
    );
    expect(text).toContain('Report: Login');
    expect(text).toContain('Account: alice@example.com');
    expect(text).toContain('Action: login');
    expect(text).toContain('Protocol: SIP');
    expect(text).toContain('IP Address: 198.51.100.9');
    expect(text).toContain('Port: 5062');
  });
});
