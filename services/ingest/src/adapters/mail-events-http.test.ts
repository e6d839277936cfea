import { connect } from 'node:net';
import { TokenAuthenticator } from '@li/auth';
import { waitFor } from '@li/testing';
import fc from 'fast-check';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DecodedEvent, DecodeProblem } from '../domain/stream.ts';
import { buildMailEventsApp, jsonDepthExceeds } from './mail-events-http.ts';

const MAIL = 'acme-mailserver-token-0001';
const T = {
  mail: MAIL,
  otherTenantMail: 'beta-mailserver-token-0001',
  admin: 'acme-admin-token-ingest-01',
  operator: 'operator-admin-token-ingest',
};
const tokens = TokenAuthenticator.fromTable({
  [T.mail]: { subject: 'mx1', tenant: 'acme', role: 'mailserver' },
  [T.otherTenantMail]: { subject: 'mx-beta', tenant: 'beta', role: 'mailserver' },
  [T.admin]: { subject: 'admin', tenant: 'acme', role: 'admin' },
  [T.operator]: { subject: 'op', tenant: '*', role: 'admin' },
});
if (!tokens.ok) throw new Error(tokens.error.message);
const authenticator = tokens.value;
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

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
    app = await buildMailEventsApp({
      onEvent: (e) => events.push(e),
      onProblem: (p) => problems.push(p),
      tenant: 'acme',
      authenticator,
    });
  });
  afterAll(() => app.close());
  /** inject() with the mail server's token. */
  const inject = (o: InjectOptions) => app.inject({ ...o, headers: { ...o.headers, ...bearer(MAIL) } });

  it('maps a Dovecot event', async () => {
    events.length = 0;
    const res = await inject({ method: 'POST', url: '/ingest/dovecot', payload: dovecotRename });
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

  it("maps Dovecot's LOGOUT and QUIT to the session's logout", async () => {
    events.length = 0;
    const logout = { ...dovecotRename.fields, cmd_tag: 'a10', cmd_name: 'LOGOUT', cmd_args: '' };
    for (const [event, fields] of [
      ['imap_command_finished', logout],
      ['pop3_command_finished', { ...logout, cmd_name: 'QUIT', tagged_reply_state: undefined }],
    ] as const) {
      const res = await inject({
        method: 'POST',
        url: '/ingest/dovecot',
        payload: { ...dovecotRename, event, fields },
      });
      expect(res.statusCode).toBe(200);
    }
    expect(events.map((e) => `${e.category}:${e.action}:${e.communicationId}`)).toEqual([
      'LOGIN:imap.logout:dovecot:mx1:qI7zgtBgEtR/AAAB',
      'LOGIN:pop3.logout:dovecot:mx1:qI7zgtBgEtR/AAAB',
    ]);
  });

  it("maps Dovecot's EXPUNGE and DELE to DELETED_MAIL and the Access report's messages deleted", async () => {
    events.length = 0;
    const expunge = { ...dovecotRename.fields, cmd_tag: 'a11', cmd_name: 'EXPUNGE', cmd_args: '', mailbox: 'INBOX' };
    for (const [event, fields] of [
      ['imap_command_finished', expunge],
      ['pop3_command_finished', { ...expunge, cmd_name: 'DELE', cmd_args: '2', tagged_reply_state: undefined }],
    ] as const) {
      const res = await inject({
        method: 'POST',
        url: '/ingest/dovecot',
        payload: { ...dovecotRename, event, fields },
      });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ accepted: 2 });
    }
    expect(events.map((e) => `${e.category}:${e.action}`)).toEqual([
      'DELETED_MAIL:imap.expunge',
      'ACCESS:imap.deleted',
      'DELETED_MAIL:pop3.dele',
      'ACCESS:pop3.deleted',
    ]);
    expect(events[3]?.attributes).toMatchObject({ mailbox: 'INBOX', msgNumber: '2' });
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
      const res = await inject({ method: 'POST', url: '/ingest/mail-events', payload: { ...base, ...b } });
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

  it('takes logins over XMPP from the server feed (seed 000 Login report, protocol XMPP)', async () => {
    events.length = 0;
    const login = { type: 'login', account: 'juliet@example.org', time: 1_767_225_600, protocol: 'xmpp' };
    for (const b of [login, { ...login, result: 'failure' }]) {
      const res = await inject({ method: 'POST', url: '/ingest/mail-events', payload: b });
      expect(res.statusCode, res.body).toBe(200);
    }
    expect(events.map((e) => `${e.category}:${e.action}:${e.protocol}`)).toEqual([
      'LOGIN:xmpp.login:xmpp',
      'LOGIN:xmpp.login.failed:xmpp',
    ]);
    expect(events[0]?.parties).toEqual([{ role: 'ACCOUNT', type: 'MAIL_ACCOUNT', value: 'juliet@example.org' }]);
    events.length = 0;
    const res = await inject({
      method: 'POST',
      url: '/ingest/mail-events',
      payload: {
        ...login,
        type: 'im.message',
        sender: 'juliet@example.org',
        recipients: ['romeo@example.net'],
        message: Buffer.from('Wherefore art thou? ☀').toString('base64'),
      },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(events.map((e) => `${e.category}:${e.action}`)).toEqual(['SIGNALS:xmpp.message']);
    expect(events[0]?.parties.map((p) => `${p.role}:${p.value}`)).toEqual([
      'ACCOUNT:juliet@example.org',
      'SENDER:juliet@example.org',
      'RECIPIENT:romeo@example.net',
    ]);
    expect(events[0]?.content?.toString('utf8')).toBe('Wherefore art thou? ☀');
    expect(events[0]?.contentType).toBe('text/plain; charset=utf-8');
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
      const res = await inject({ method: 'POST', url, payload: payload as object });
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().reason).toMatch(field);
      expect(problems[0]?.code).toBe('ING_ERR_BAD_MAIL_EVENT');
    }
    const broken = await inject({
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
            const res = await inject({
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
    const res = await inject({ method: 'GET', url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    expect(Object.keys(res.json().paths)).toEqual(expect.arrayContaining(['/ingest/dovecot', '/ingest/mail-events']));
  });
});

describe('mail events HTTP adapter > credential and limits, on a real listener', () => {
  const events: DecodedEvent[] = [];
  const problems: DecodeProblem[] = [];
  const refused: string[] = [];
  let app: Awaited<ReturnType<typeof buildMailEventsApp>>;
  let base = '';
  let port = 0;
  beforeAll(async () => {
    app = await buildMailEventsApp({
      onEvent: (e) => events.push(e),
      onProblem: (p) => problems.push(p),
      onRefused: (code) => refused.push(code),
      tenant: 'acme',
      authenticator,
      maxDepth: 8,
      requestTimeoutMs: 400,
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as { port: number }).port;
    base = `http://127.0.0.1:${port}`;
  });
  afterAll(() => app.close());

  const removal = { type: 'account.removed', account: 'carol@example.org', time: '2026-01-02T03:04:05Z' };
  const post = (body: unknown, headers: Record<string, string>, path = '/ingest/mail-events') =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const reset = () => {
    events.length = 0;
    problems.length = 0;
    refused.length = 0;
  };

  it('answers 401 without a known credential, before reading the body, and passes nothing on', async () => {
    reset();
    for (const headers of [{}, bearer('not-a-token-in-the-table'), { authorization: 'Basic Zm9vOmJhcg==' }]) {
      const res = await post(removal, headers);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      expect(await res.json()).toMatchObject({ code: 'ING_ERR_UNAUTHENTICATED' });
    }
    expect((await post(removal, {}, '/ingest/dovecot')).status).toBe(401);
    expect(events).toEqual([]);
    expect(problems).toEqual([]);
    expect(refused).toEqual(Array(4).fill('ING_ERR_UNAUTHENTICATED'));
  });

  it('answers 403 to a token of another role or another tenant, and takes the tenant from the credential', async () => {
    reset();
    for (const token of [T.admin, T.operator, T.otherTenantMail]) {
      const res = await post(removal, bearer(token));
      expect(res.status, token).toBe(403);
      expect(await res.json()).toMatchObject({ code: 'ING_ERR_FORBIDDEN' });
    }
    // A body that names another tenant is refused; one naming the credential's tenant is taken.
    const other = await post({ ...removal, tenant: 'beta' }, bearer(MAIL));
    expect(other.status).toBe(403);
    expect((await post({ ...dovecotRename, tenant: 'beta' }, bearer(MAIL), '/ingest/dovecot')).status).toBe(403);
    expect(events).toEqual([]);
    expect((await post({ ...removal, tenant: 'acme' }, bearer(MAIL))).status).toBe(200);
    expect(events.map((e) => e.action)).toEqual(['account.removed']);
    // Dovecot's exporter can only carry a credential in its URL: Basic, the token as password.
    const basic = { authorization: `Basic ${Buffer.from(`mx1:${MAIL}`).toString('base64')}` };
    expect((await post(dovecotRename, basic, '/ingest/dovecot')).status).toBe(200);
    expect(events).toHaveLength(2);
  });

  it('answers 413 to a body over the limit (1 MiB by default)', async () => {
    reset();
    const message = 'A'.repeat(1024 * 1024);
    const big = { ...removal, type: 'message.stored', mailbox: 'INBOX', message };
    const res = await post(big, bearer(MAIL));
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ code: 'ING_ERR_BAD_MAIL_EVENT' });
    expect(events).toEqual([]);
  });

  it('answers 400 to JSON nested deeper than the limit, however deep', async () => {
    reset();
    const nested = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
    const deep = `{"event":"x","fields":{"a":${nested(7)}}}`;
    for (const body of [deep, `{"event":"x","fields":{"a":${nested(4000)}}}`]) {
      const res = await post(body, bearer(MAIL), '/ingest/dovecot');
      expect(res.status).toBe(400);
      expect(((await res.json()) as { reason: string }).reason).toMatch(/nests deeper than 8 levels/);
    }
    // Brackets inside strings do not count.
    expect(jsonDepthExceeds(`{"a":"${'['.repeat(50)}\\"["}`, 8)).toBe(false);
    expect(jsonDepthExceeds(nested(8), 8)).toBe(false);
    expect(jsonDepthExceeds(nested(9), 8)).toBe(true);
    expect(events).toEqual([]);
  });

  it('answers 408 and closes a connection whose request does not arrive in time', async () => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      answer += d;
    });
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.write(
      `POST /ingest/mail-events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${MAIL}\r\n` +
        'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"type":',
    );
    const started = Date.now();
    await closed;
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(Date.now() - started).toBeLessThan(3000);
  });
});

describe('mail events HTTP adapter while the spool is nearly full', () => {
  it('answers 503 with Retry-After and takes no event, then accepts again', async () => {
    const events: DecodedEvent[] = [];
    const refused: string[] = [];
    let accepting = false;
    const app = await buildMailEventsApp({
      onEvent: (e) => events.push(e),
      onProblem: () => {},
      onRefused: (code) => refused.push(code),
      tenant: 'acme',
      authenticator,
      accepting: () => accepting,
    });
    try {
      const post = () =>
        app.inject({ method: 'POST', url: '/ingest/dovecot', payload: dovecotRename, headers: bearer(MAIL) });
      const res = await post();
      expect(res.statusCode).toBe(503);
      expect(res.headers['retry-after']).toBe('5');
      expect(res.json()).toMatchObject({ code: 'ING_ERR_SPOOL_FULL' });
      expect(events).toEqual([]);
      expect(refused).toEqual(['ING_ERR_SPOOL_FULL']);
      accepting = true;
      expect((await post()).statusCode).toBe(200);
      expect(events).toHaveLength(1);
    } finally {
      await app.close();
    }
  });
});

describe('mail events HTTP adapter under spool fsync always', () => {
  it('answers 200 only once the events are kept, and 503 ING_ERR_SPOOL_IO when they were not', async () => {
    const events: DecodedEvent[] = [];
    const refused: string[] = [];
    let settle: { resolve(): void; reject(e: Error): void } | undefined;
    const app = await buildMailEventsApp({
      onEvent: (e) => events.push(e),
      onProblem: () => {},
      onRefused: (code) => refused.push(code),
      tenant: 'acme',
      authenticator,
      durable: () =>
        new Promise<void>((resolve, reject) => {
          settle = { resolve, reject };
        }),
    });
    try {
      const post = () =>
        app.inject({ method: 'POST', url: '/ingest/dovecot', payload: dovecotRename, headers: bearer(MAIL) });
      let answered = false;
      const first = post().then((r) => {
        answered = true;
        return r;
      });
      await waitFor(() => settle !== undefined, { what: 'the adapter to wait for durability' });
      expect(events).toHaveLength(1);
      expect(answered).toBe(false);
      settle!.resolve();
      expect((await first).statusCode).toBe(200);

      settle = undefined;
      const second = post();
      await waitFor(() => settle !== undefined, { what: 'the second request to wait' });
      settle!.reject(new Error('records dropped or not synced by the spool'));
      const res = await second;
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ code: 'ING_ERR_SPOOL_IO' });
      expect(refused).toEqual(['ING_ERR_SPOOL_IO']);
    } finally {
      await app.close();
    }
  });
});
