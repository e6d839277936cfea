import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DecodedEvent, DecodeProblem } from '../domain/stream.ts';
import { buildMailEventsApp } from './mail-events-http.ts';

// A Dovecot 2.3.19 imap_command_finished body as its http-post exporter sends it.
const dovecotRename = {
  event: 'imap_command_finished',
  hostname: 'mx1',
  start_time: '2026-11-21T22:02:09.129997Z',
  end_time: '2026-11-21T22:02:09.130824Z',
  categories: ['service:imap', 'imap'],
  fields: {
    user: 'alice@example.org',
    local_ip: '127.0.0.1',
    local_port: 31143,
    remote_ip: '127.0.0.1',
    remote_port: 54290,
    session: 'qI7zgtBgEtR/AAAB',
    cmd_tag: 'a9',
    cmd_name: 'RENAME',
    cmd_args: 'Foo Bar',
    tagged_reply_state: 'OK',
    tagged_reply: 'OK Rename completed.',
    old_mailbox: 'Foo',
    new_mailbox: 'Bar',
  },
};

describe('mail events HTTP adapter', () => {
  const events: DecodedEvent[] = [];
  const problems: DecodeProblem[] = [];
  let app: Awaited<ReturnType<typeof buildMailEventsApp>>;
  beforeAll(async () => {
    app = await buildMailEventsApp({ onEvent: (e) => events.push(e), onProblem: (p) => problems.push(p) });
  });
  afterAll(() => app.close());

  it('maps a Dovecot event', async () => {
    events.length = 0;
    const res = await app.inject({ method: 'POST', url: '/ingest/dovecot', payload: dovecotRename });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ accepted: 1 });
    expect(events[0]).toMatchObject({
      category: 'MAILBOX',
      action: 'imap.mailbox.renamed',
      occurredAtMicros: Date.parse('2026-11-21T22:02:09Z') * 1000 + 130824,
      parties: [{ role: 'ACCOUNT', type: 'MAIL_ACCOUNT', value: 'alice@example.org' }],
      attributes: { mailbox: 'Foo', newMailbox: 'Bar', session: 'qI7zgtBgEtR/AAAB' },
      network: { srcAddress: '127.0.0.1', srcPort: 54290, dstPort: 31143 },
    });
  });

  it('maps every generic event type', async () => {
    events.length = 0;
    const base = {
      account: 'bob@example.net',
      time: '2026-01-02T03:04:05.5Z',
      protocol: 'webmail',
      clientAddress: '192.0.2.7',
      clientPort: 4000,
      serverAddress: '198.51.100.1',
      serverPort: 443,
    };
    const bodies = [
      { type: 'login', result: 'failure' },
      { type: 'mailbox.created', mailbox: 'A' },
      { type: 'mailbox.renamed', mailbox: 'A', newMailbox: 'B' },
      { type: 'mailbox.removed', mailbox: 'B' },
      {
        type: 'message.stored',
        mailbox: 'INBOX',
        uid: '5',
        message: Buffer.from('Subject: s\r\n\r\nx').toString('base64'),
      },
      { type: 'message.read', mailbox: 'INBOX', uid: '5' },
      { type: 'message.partial', mailbox: 'INBOX', uid: '5', section: 'HEADER' },
      { type: 'message.deleted', mailbox: 'INBOX', uid: '5' },
      { type: 'message.sent', sender: 'bob@example.net', recipients: ['x@y.org', 'z@y.org'] },
      { type: 'account.renamed', newAccount: 'robert@example.net' },
      { type: 'account.removed' },
    ];
    for (const b of bodies) {
      const res = await app.inject({ method: 'POST', url: '/ingest/mail-events', payload: { ...base, ...b } });
      expect(res.statusCode, res.body).toBe(200);
    }
    expect(events.map((e) => `${e.category}:${e.action}`)).toEqual([
      'LOGIN:webmail.login.failed',
      'MAILBOX:mailbox.created',
      'MAILBOX:mailbox.renamed',
      'MAILBOX:mailbox.removed',
      'NEW_MAIL:message.stored',
      'ACCESS:message.read',
      'PARTIAL:message.partial',
      'DELETED_MAIL:message.deleted',
      'SENT_MAIL:message.sent',
      'ACCOUNT:account.renamed',
      'ACCOUNT:account.removed',
    ]);
    expect(events[4]?.content?.toString()).toBe('Subject: s\r\n\r\nx');
    expect(events[8]?.parties.map((p) => p.role)).toEqual(['ACCOUNT', 'SENDER', 'RECIPIENT', 'RECIPIENT']);
    expect(events[9]?.attributes).toMatchObject({ old: 'bob@example.net', new: 'robert@example.net' });
    expect(events[0]?.occurredAtMicros).toBe(Date.parse('2026-01-02T03:04:05Z') * 1000 + 500000);
  });

  it('answers 400 naming the field for bad input', async () => {
    const cases: Array<[string, unknown, RegExp]> = [
      ['/ingest/mail-events', { type: 'login', time: 1 }, /account/],
      ['/ingest/mail-events', { type: 'teleport', account: 'a', time: 1 }, /type/],
      ['/ingest/mail-events', { type: 'login', account: 'a', time: 1, clientPort: 70000 }, /clientPort/],
      ['/ingest/mail-events', { type: 'mailbox.renamed', account: 'a', time: 1, mailbox: 'x' }, /newMailbox/],
      ['/ingest/mail-events', { type: 'login', account: 'a', time: 'yesterday' }, /time/],
      ['/ingest/mail-events', { type: 'login', account: 'a', time: 1, extra: 1 }, /extra|additional/],
      ['/ingest/dovecot', { hostname: 'x' }, /event/],
      ['/ingest/dovecot', { event: 'auth_request_finished', fields: [] }, /fields/],
    ];
    for (const [url, payload, field] of cases) {
      problems.length = 0;
      const res = await app.inject({ method: 'POST', url, payload: payload as object });
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().reason).toMatch(field);
      expect(problems[0]?.code).toBe('ING_ERR_BAD_MAIL_EVENT');
    }
    const broken = await app.inject({
      method: 'POST',
      url: '/ingest/dovecot',
      payload: '{"event":',
      headers: { 'content-type': 'application/json' },
    });
    expect(broken.statusCode).toBe(400);
  });

  it('never answers 5xx to arbitrary JSON', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.jsonValue(),
          fc.record({ type: fc.string(), account: fc.string(), time: fc.oneof(fc.string(), fc.double()) }),
        ),
        async (body) => {
          for (const url of ['/ingest/dovecot', '/ingest/mail-events']) {
            const res = await app.inject({
              method: 'POST',
              url,
              payload: JSON.stringify(body),
              headers: { 'content-type': 'application/json' },
            });
            expect(res.statusCode).toBeLessThan(500);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('publishes an OpenAPI document', async () => {
    const res = await app.inject({ method: 'GET', url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    expect(Object.keys(res.json().paths)).toEqual(expect.arrayContaining(['/ingest/dovecot', '/ingest/mail-events']));
  });
});
