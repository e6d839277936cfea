import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { collector, flow, replay, type Step } from '../../testing/decoder-kit.ts';
import { fetchKind, imapDecoderFactory } from './imap.ts';
import { tokenize } from './imap-syntax.ts';

const msg = 'Message-ID: <a1@example.org>\r\nSubject: hi\r\n\r\nhello world\r\n';
const appended = 'From: alice@example.org\r\nMessage-ID: <draft7@example.org>\r\n\r\ndraft body\r\n';
const hdr = 'Message-ID: <a1@example.org>\r\nSubject: hi\r\n\r\n';

const session: Step[] = [
  ['S', '* OK [CAPABILITY IMAP4rev1 LITERAL+ SASL-IR AUTH=PLAIN] ready\r\n'],
  ['C', 'a1 LOGIN {17}\r\n'],
  ['S', '+ OK\r\n'],
  ['C', 'alice@example.org {7+}\r\npa$$w0r\r\n'],
  ['S', 'a1 OK [CAPABILITY IMAP4rev1] Logged in\r\n'],
  ['C', 'a2 CREATE "Work/Project &AMQ-"\r\n'],
  ['S', 'a2 OK Create completed.\r\n'],
  ['C', 'a3 RENAME "Work/Project &AMQ-" Archive\r\n'],
  ['S', 'a3 OK Rename completed.\r\n'],
  ['C', 'a4 DELETE Archive\r\n'],
  ['S', 'a4 OK Delete completed.\r\n'],
  ['C', `a5 APPEND Drafts (\\Draft) {${appended.length}+}\r\n${appended}\r\n`],
  ['S', 'a5 OK [APPENDUID 1795298528 9] Append completed.\r\n'],
  ['C', 'a6 SELECT INBOX\r\n'],
  ['S', '* 2 EXISTS\r\n* OK [UIDVALIDITY 1795298528] UIDs valid\r\na6 OK [READ-WRITE] Select completed.\r\n'],
  ['C', 'a7 UID FETCH 41 (UID FLAGS BODY.PEEK[])\r\n'],
  ['S', `* 1 FETCH (UID 41 FLAGS (\\Seen) BODY[] {${msg.length}}\r\n${msg})\r\na7 OK Fetch completed.\r\n`],
  ['C', 'a8 FETCH 1:2 (BODY.PEEK[HEADER.FIELDS (SUBJECT FROM)] BODY[1]<0.5> ENVELOPE)\r\n'],
  [
    'S',
    `* 1 FETCH (UID 41 BODY[HEADER.FIELDS (SUBJECT FROM)] {${hdr.length}}\r\n${hdr} BODY[1]<0> "hello" ENVELOPE (NIL "hi" NIL NIL NIL NIL NIL NIL NIL NIL))\r\na8 OK Fetch completed.\r\n`,
  ],
  ['C', 'a9 FETCH 2 (FLAGS)\r\n'],
  ['S', '* 2 FETCH (FLAGS ())\r\na9 OK done\r\n'],
  ['C', 'a10 UID STORE 41 +FLAGS.SILENT (\\Deleted)\r\n'],
  ['S', 'a10 OK Store completed.\r\n'],
  ['C', 'a11 EXPUNGE\r\n'],
  ['S', '* 1 EXPUNGE\r\n* 1 EXISTS\r\na11 OK Expunge completed.\r\n'],
  ['C', 'a12 COPY 1 Saved\r\n'],
  ['S', 'a12 OK [COPYUID 1795298528 42 3] Copy completed.\r\n'],
  ['C', 'a13 LOGOUT\r\n'],
  ['S', '* BYE Logging out\r\na13 OK Logout completed.\r\n'],
];

describe('IMAP decoder', () => {
  it('ends a logged-in session once at LOGOUT, and a session without login not at all', () => {
    const loggedIn = replay(imapDecoderFactory(), 143, [
      ['C', 'a1 LOGIN bob pw\r\n'],
      ['S', 'a1 OK done\r\n'],
      ['C', 'a2 LOGOUT\r\n'],
      ['S', '* BYE bye\r\na2 OK done\r\n'],
    ]).events;
    expect(loggedIn.map((e) => `${e.category}:${e.action}:${e.parties[0]?.value}`)).toEqual([
      'LOGIN:imap.login:bob',
      'LOGIN:imap.logout:bob',
    ]);
    const refused = replay(imapDecoderFactory(), 143, [
      ['C', 'a1 LOGIN bob wrong\r\n'],
      ['S', 'a1 NO [AUTHENTICATIONFAILED] no\r\n'],
      ['C', 'a2 LOGOUT\r\n'],
      ['S', '* BYE bye\r\na2 OK done\r\n'],
    ]).events;
    expect(refused.map((e) => e.action)).toEqual(['imap.login.failed']);
  });

  it('maps a full session to LOGIN, MAILBOX, NEW_MAIL, ACCESS, PARTIAL, DELETED_MAIL', () => {
    const { events, problems } = replay(imapDecoderFactory(), 143, session);
    expect(problems).toEqual([]);
    expect(events.map((e) => `${e.category}:${e.action}`)).toEqual([
      'LOGIN:imap.login',
      'MAILBOX:imap.mailbox.created',
      'MAILBOX:imap.mailbox.renamed',
      'MAILBOX:imap.mailbox.removed',
      'NEW_MAIL:imap.append',
      'ACCESS:imap.fetch',
      'PARTIAL:imap.fetch.partial',
      'PARTIAL:imap.fetch.partial',
      'DELETED_MAIL:imap.expunge',
      'ACCESS:imap.deleted', // the Access report's "messages deleted"
      'NEW_MAIL:imap.copy',
      'LOGIN:imap.logout', // the session's end: the encoder's IRI-END (logoff)
    ]);
    expect(JSON.stringify(events)).not.toContain('pa$$w0r');
    for (const e of events)
      expect(e.parties).toEqual([{ role: 'ACCOUNT', type: 'MAIL_ACCOUNT', value: 'alice@example.org' }]);
    const byAction = (a: string) => events.filter((e) => e.action === a);
    expect(byAction('imap.mailbox.created')[0]?.attributes.mailbox).toBe('Work/Project Ä');
    expect(byAction('imap.mailbox.renamed')[0]?.attributes).toMatchObject({
      mailbox: 'Work/Project Ä',
      newMailbox: 'Archive',
    });
    const append = byAction('imap.append')[0];
    expect(append?.content?.toString()).toBe(appended);
    expect(append?.attributes).toMatchObject({ mailbox: 'Drafts', uid: '9', messageId: '<draft7@example.org>' });
    const fetch = byAction('imap.fetch')[0];
    expect(fetch?.content?.toString()).toBe(msg);
    expect(fetch?.attributes).toMatchObject({ mailbox: 'INBOX', uid: '41', messageId: '<a1@example.org>' });
    const [p1, p2] = byAction('imap.fetch.partial');
    expect(p1?.attributes.section).toBe('BODY[HEADER.FIELDS (SUBJECT FROM)]');
    expect(p1?.content?.toString()).toBe(hdr);
    expect(p2?.attributes.section).toBe('BODY[1]<0>');
    expect(p2?.content?.toString()).toBe('hello');
    expect(byAction('imap.expunge')[0]?.attributes).toMatchObject({
      mailbox: 'INBOX',
      expunged: '1',
      marked: 'uid:41',
    });
    expect(byAction('imap.deleted')[0]?.attributes).toEqual(byAction('imap.expunge')[0]?.attributes);
    expect(byAction('imap.copy')[0]?.attributes).toMatchObject({ mailbox: 'Saved', sourceMailbox: 'INBOX' });
  });

  it('recovers when the server refuses a command before its synchronising literal', () => {
    const { events, problems } = replay(imapDecoderFactory(), 143, [
      ['C', 'a1 LOGIN bob pw\r\n'],
      ['S', 'a1 OK done\r\n'],
      ['C', 'a2 APPEND Sent {19}\r\n'],
      ['S', 'a2 NO [TRYCREATE] Mailbox does not exist\r\n'],
      ['C', 'a3 CREATE Sent\r\n'],
      ['S', 'a3 OK created\r\n'],
      ['C', 'a4 APPEND Sent {19}\r\n'],
      ['S', '+ OK\r\n'],
      ['C', 'Subject: x\r\n\r\nbody!\r\n'],
      ['S', 'a4 OK [APPENDUID 7 1] done\r\n'],
    ]);
    // No LOGOUT: the end of the connection ends the session.
    expect(events.map((e) => e.action)).toEqual(['imap.login', 'imap.mailbox.created', 'imap.append', 'imap.closed']);
    expect(events[2]?.content?.toString()).toBe('Subject: x\r\n\r\nbody!');
    expect(problems.map((p) => p.code)).toEqual(['ING_ERR_PROTOCOL']);
  });

  it('reports a capture gap inside a literal and keeps decoding after it', () => {
    const sink = collector();
    const d = imapDecoderFactory()(flow(143), sink);
    if (!d) throw new Error('no decoder');
    d.data('toServer', Buffer.from('a1 LOGIN bob pw\r\na2 FETCH 1 BODY[]\r\n'), 1);
    d.data('toClient', Buffer.from('a1 OK done\r\n* 1 FETCH (BODY[] {30}\r\n0123456789'), 2);
    d.gap('toClient', 10, 3);
    d.data('toClient', Buffer.from('0123456789)\r\na2 OK done\r\n'), 4);
    d.data('toServer', Buffer.from('a3 CREATE X\r\n'), 5);
    d.data('toClient', Buffer.from('a3 OK done\r\n'), 6);
    expect(sink.events.map((e) => e.action)).toEqual(['imap.login', 'imap.fetch', 'imap.mailbox.created']);
    expect(sink.events[1]?.attributes.size).toBe('30');
    expect(sink.problems.map((p) => p.code)).toEqual(['ING_ERR_STREAM_GAP']);
  });

  it('handles AUTHENTICATE PLAIN with a continuation and STARTTLS', () => {
    const { events } = replay(imapDecoderFactory(), 143, [
      ['C', 'x1 AUTHENTICATE PLAIN\r\n'],
      ['S', '+ \r\n'],
      ['C', `${Buffer.from('\0bob@example.org\0pw').toString('base64')}\r\n`],
      ['S', 'x1 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n'],
      ['C', 'x2 STARTTLS\r\n'],
      ['S', 'x2 OK Begin TLS negotiation now.\r\n'],
      ['C', Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00])],
    ]);
    expect(events.map((e) => e.action)).toEqual(['imap.login.failed', 'imap.starttls']);
    expect(events[0]?.parties[0]?.value).toBe('bob@example.org');
  });

  it('classifies FETCH items and tokenizes sections with spaces', () => {
    expect(fetchKind('BODY[]')).toBe('full');
    expect(fetchKind('RFC822')).toBe('full');
    expect(fetchKind('BODY[]<0>')).toBe('partial');
    expect(fetchKind('BODY[TEXT]')).toBe('partial');
    expect(fetchKind('RFC822.HEADER')).toBe('partial');
    expect(fetchKind('FLAGS')).toBeNull();
    expect(tokenize('* 1 FETCH (BODY[HEADER.FIELDS (A B)] NIL)')).toEqual([
      '*',
      '1',
      'FETCH',
      ['BODY[HEADER.FIELDS (A B)]', 'NIL'],
    ]);
  });

  it('is independent of segmentation', () => {
    const whole = replay(imapDecoderFactory(), 143, session).events.map((e) => [e.action, e.content?.toString('hex')]);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 200 }), { maxLength: 8 }), (cuts) => {
        const got = replay(imapDecoderFactory(), 143, session, () => cuts).events;
        expect(got.map((e) => [e.action, e.content?.toString('hex')])).toEqual(whole);
      }),
      { numRuns: 100 },
    );
  });

  it('survives random and mutated input, including huge literal counts', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.boolean(),
            fc.oneof(
              fc.uint8Array({ maxLength: 200 }),
              fc
                .constantFrom(
                  '* 1 FETCH (BODY[] {99999999999}\r\n',
                  'a1 APPEND x {4294967296+}\r\n',
                  '((((((((',
                  '"\\',
                  '{3}\r\nab',
                )
                .map((s) => Buffer.from(s)),
            ),
          ),
          { maxLength: 25 },
        ),
        fc.array(fc.tuple(fc.nat(session.length - 1), fc.nat(300), fc.integer({ min: 0, max: 255 })), {
          maxLength: 10,
        }),
        (noise, mutations) => {
          const steps: Step[] = session.map(([s, t]) => [s, Buffer.from(t)] as const);
          for (const [i, at, v] of mutations) {
            const b = steps[i]?.[1] as Buffer;
            if (b.length > 0) b[at % b.length] = v;
          }
          for (const [c, b] of noise) steps.push([c ? 'C' : 'S', Buffer.from(b)]);
          const { events } = replay(
            imapDecoderFactory({ limits: { maxLineBytes: 256, maxMessageBytes: 1024 } }),
            143,
            steps,
          );
          for (const e of events) expect(e.content?.length ?? 0).toBeLessThanOrEqual(1024);
        },
      ),
      { numRuns: 300 },
    );
  });
});
