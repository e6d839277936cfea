import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { replay, type Step } from '../../testing/decoder-kit.ts';
import { pop3DecoderFactory } from './pop3.ts';

const msg1 = 'Message-ID: <m1@example.org>\r\nSubject: one\r\n\r\nfirst\r\n..dot line\r\n';
const stuffed = (m: string) => m.replace(/^\./gm, '..');

const session: Step[] = [
  ['S', '+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>\r\n'],
  ['C', 'CAPA\r\n'],
  ['S', '+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nUSER\r\n.\r\n'],
  ['C', 'USER alice@example.org\r\n'],
  ['S', '+OK\r\n'],
  ['C', 'PASS hunter2\r\n'],
  ['S', '+OK Logged in.\r\n'],
  ['C', 'UIDL\r\n'],
  ['S', '+OK\r\n1 000000014b0a6d2f\r\n2 000000024b0a6d2f\r\n.\r\n'],
  ['C', 'RETR 1\r\n'],
  ['S', `+OK 60 octets\r\n${stuffed(msg1)}.\r\n`],
  ['C', 'TOP 2 0\r\n'],
  ['S', '+OK\r\nSubject: two\r\n\r\n.\r\n'],
  ['C', 'DELE 1\r\n'],
  ['S', '+OK Marked to be deleted.\r\n'],
  ['C', 'DELE 9\r\n'],
  ['S', '-ERR There is no message 9.\r\n'],
  ['C', 'QUIT\r\n'],
  ['S', '+OK Logging out, messages deleted.\r\n'],
];

describe('POP3 decoder', () => {
  it('maps USER/PASS, RETR, TOP and committed DELE to seed-000 reports', () => {
    const { events, problems } = replay(pop3DecoderFactory(), 110, session);
    expect(problems).toEqual([]);
    expect(events.map((e) => `${e.category}:${e.action}`)).toEqual([
      'LOGIN:pop3.login',
      'ACCESS:pop3.retr',
      'PARTIAL:pop3.top',
      'DELETED_MAIL:pop3.dele',
      'ACCESS:pop3.deleted', // the Access report's "messages deleted"
      'LOGIN:pop3.logout', // after the deletions QUIT commits
    ]);
    expect(JSON.stringify(events)).not.toContain('hunter2');
    for (const e of events)
      expect(e.parties).toEqual([{ role: 'ACCOUNT', type: 'MAIL_ACCOUNT', value: 'alice@example.org' }]);
    expect(events[1]?.content?.toString()).toBe(msg1);
    expect(events[1]?.attributes).toMatchObject({
      msgNumber: '1',
      uid: '000000014b0a6d2f',
      messageId: '<m1@example.org>',
    });
    expect(events[2]?.content?.toString()).toBe('Subject: two\r\n\r\n');
    expect(events[3]?.attributes).toMatchObject({ msgNumber: '1', uid: '000000014b0a6d2f' });
    expect(events[4]?.attributes).toEqual({ mailbox: 'INBOX', msgNumber: '1', uid: '000000014b0a6d2f' });
  });

  it('drops DELE marks on RSET and reports APOP / failed logins', () => {
    const { events } = replay(pop3DecoderFactory(), 110, [
      ['S', '+OK ready <1.2@x>\r\n'],
      ['C', 'APOP bob c4c9334bac560ecc979e58001b3e22fb\r\n'],
      ['S', '-ERR authentication failed\r\n'],
      ['C', `AUTH PLAIN ${Buffer.from('\0bob\0pw').toString('base64')}\r\n`],
      ['S', '+OK\r\n'],
      ['C', 'DELE 1\r\nRSET\r\nQUIT\r\n'],
      ['S', '+OK\r\n+OK\r\n+OK\r\n'],
    ]);
    expect(events.map((e) => e.action)).toEqual(['pop3.login.failed', 'pop3.login', 'pop3.logout']);
    expect(events[1]?.attributes.method).toBe('AUTH PLAIN');
    expect(events[1]?.parties[0]?.value).toBe('bob');
  });

  it('is independent of segmentation', () => {
    const whole = replay(pop3DecoderFactory(), 110, session).events.map((e) => [e.action, e.content?.toString('hex')]);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 120 }), { maxLength: 8 }), (cuts) => {
        const got = replay(pop3DecoderFactory(), 110, session, () => cuts).events;
        expect(got.map((e) => [e.action, e.content?.toString('hex')])).toEqual(whole);
      }),
      { numRuns: 100 },
    );
  });

  it('survives random and mutated input', () => {
    const transcript = session.map(([, t]) => Buffer.from(t));
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.uint8Array({ maxLength: 200 })), { maxLength: 20 }),
        fc.array(fc.tuple(fc.nat(transcript.length - 1), fc.nat(200), fc.integer({ min: 0, max: 255 })), {
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
            pop3DecoderFactory({ limits: { maxLineBytes: 256, maxMessageBytes: 1024 } }),
            110,
            steps,
          );
          for (const e of events) expect(e.content?.length ?? 0).toBeLessThanOrEqual(1024);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('takes a bare AUTH (mechanism query) answered -ERR or a list for no login', () => {
    const { events, problems } = replay(pop3DecoderFactory(), 110, [
      ['S', '+OK ready\r\n'],
      ['C', 'AUTH\r\n'],
      ['S', '-ERR unknown command\r\n'],
      ['C', 'AUTH\r\n'],
      ['S', '+OK\r\nPLAIN\r\n.\r\n'],
      ['C', 'AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n'],
      ['S', '+OK logged in\r\n'],
    ]);
    expect(problems).toEqual([]);
    expect(events.filter((e) => e.category === 'LOGIN').map((e) => `${e.action}:${e.attributes?.result}`)).toEqual([
      'pop3.login:success',
      'pop3.closed:success',
    ]);
    expect(events[0]?.parties).toEqual([{ role: 'ACCOUNT', type: 'MAIL_ACCOUNT', value: 'alice' }]);
  });
});
