import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { replay, type Step } from '../../testing/decoder-kit.ts';
import { smtpDecoderFactory } from './smtp.ts';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

const message = [
  'From: Alice <alice@example.org>',
  'To: bob@example.net',
  'Subject: plans',
  'Message-ID: <20261121.1@example.org>',
  '',
  'Hi Bob,',
  '..a line that starts with a dot',
  'bye',
  '',
].join('\r\n');

const session: Step[] = [
  ['S', '220 mx.example.org ESMTP Postfix\r\n'],
  ['C', 'EHLO laptop.example.org\r\n'],
  ['S', '250-mx.example.org\r\n250-PIPELINING\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n'],
  ['C', `AUTH PLAIN ${b64('\0alice@example.org\0s3cret-pw')}\r\n`],
  ['S', '235 2.7.0 Authentication successful\r\n'],
  [
    'C',
    'MAIL FROM:<alice@example.org> SIZE=300\r\nRCPT TO:<bob@example.net>\r\nRCPT TO:<nobody@example.net>\r\nDATA\r\n',
  ],
  [
    'S',
    '250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n550 5.1.1 <nobody@example.net>: Recipient address rejected\r\n354 End data with <CR><LF>.<CR><LF>\r\n',
  ],
  ['C', `${message}.\r\n`],
  ['S', '250 2.0.0 Ok: queued as 4F2B1\r\n'],
  ['C', 'QUIT\r\n'],
  ['S', '221 2.0.0 Bye\r\n'],
];

describe('SMTP decoder', () => {
  it('ends only authenticated sessions: an MX delivery without AUTH gives no logout', () => {
    const mx = session.filter(([, text]) => !/^(AUTH PLAIN|235) /.test(String(text)));
    const { events, problems } = replay(smtpDecoderFactory(), 25, mx);
    expect(problems).toEqual([]);
    expect(events.map((e) => e.action)).toEqual(['smtp.send']);
  });

  it('reports AUTH PLAIN as LOGIN (username only) and the accepted message as SENT_MAIL', () => {
    const { events, problems } = replay(smtpDecoderFactory(), 587, session);
    expect(problems).toEqual([]);
    expect(events.map((e) => e.action)).toEqual(['smtp.login', 'smtp.send', 'smtp.logout']);
    const [login, sent, logout] = events;
    // QUIT ends the authenticated session once (not again when the connection closes).
    expect(logout).toMatchObject({ category: 'LOGIN', parties: login?.parties, attributes: { result: 'success' } });
    expect(login?.parties).toEqual([{ role: 'ACCOUNT', type: 'MAIL_ACCOUNT', value: 'alice@example.org' }]);
    expect(JSON.stringify(events)).not.toContain('s3cret');
    expect(sent?.action).toBe('smtp.send');
    expect(sent?.parties).toEqual([
      { role: 'SENDER', type: 'EMAIL', value: 'alice@example.org' },
      { role: 'RECIPIENT', type: 'EMAIL', value: 'bob@example.net' },
      { role: 'ACCOUNT', type: 'MAIL_ACCOUNT', value: 'alice@example.org' },
    ]);
    expect(sent?.contentType).toBe('message/rfc822');
    // Dot-unstuffing: the doubled dot is restored to one.
    expect(sent?.content?.toString()).toBe(message.replace('..a line', '.a line'));
    expect(sent?.attributes.messageId).toBe('<20261121.1@example.org>');
    expect(sent?.attributes.recipientCount).toBe('1');
    expect(sent?.network).toMatchObject({ srcAddress: '192.0.2.10', dstPort: 587 });
  });

  it('gives the same events however the stream is cut into segments', () => {
    const whole = replay(smtpDecoderFactory(), 587, session).events;
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 400 }), { maxLength: 6 }), (cuts) => {
        const got = replay(smtpDecoderFactory(), 587, session, () => cuts).events;
        expect(got.map((e) => [e.category, e.content?.toString('hex')])).toEqual(
          whole.map((e) => [e.category, e.content?.toString('hex')]),
        );
      }),
      { numRuns: 100 },
    );
  });

  it('decodes AUTH LOGIN across challenges, failed AUTH, and replays commands after a rejected DATA', () => {
    const { events } = replay(smtpDecoderFactory(), 25, [
      ['S', '220 ready\r\n'],
      ['C', 'EHLO x\r\n'],
      ['S', '250 ok\r\n'],
      ['C', 'AUTH LOGIN\r\n'],
      ['S', '334 VXNlcm5hbWU6\r\n'],
      ['C', `${b64('mallory')}\r\n`],
      ['S', '334 UGFzc3dvcmQ6\r\n'],
      ['C', `${b64('nope')}\r\n`],
      ['S', '535 5.7.8 Error: authentication failed\r\n'],
      ['C', 'AUTH LOGIN\r\n'],
      ['S', '334 VXNlcm5hbWU6\r\n'],
      ['C', `${b64('carol@example.org')}\r\n`],
      ['S', '334 UGFzc3dvcmQ6\r\n'],
      ['C', `${b64('pw')}\r\n`],
      ['S', '235 ok\r\n'],
      ['C', 'MAIL FROM:<carol@example.org>\r\nRCPT TO:<dave@example.com>\r\nDATA\r\n'],
      ['S', '250 ok\r\n250 ok\r\n'],
      ['C', 'RSET\r\n'],
      ['S', '554 5.5.1 Error: no valid recipients\r\n250 reset\r\n'],
      ['C', 'MAIL FROM:<carol@example.org>\r\nRCPT TO:<erin@example.com>\r\nDATA\r\n'],
      ['S', '250 ok\r\n250 ok\r\n354 go\r\n'],
      ['C', 'Subject: x\r\n\r\nbody\r\n.\r\n'],
      ['S', '250 queued\r\n'],
    ]);
    // No QUIT: the end of the connection ends the authenticated session.
    expect(events.map((e) => e.action)).toEqual(['smtp.login.failed', 'smtp.login', 'smtp.send', 'smtp.closed']);
    expect(events[0]?.parties[0]?.value).toBe('mallory');
    expect(events[1]?.parties[0]?.value).toBe('carol@example.org');
    expect(events[2]?.parties.filter((p) => p.role === 'RECIPIENT').map((p) => p.value)).toEqual(['erin@example.com']);
    expect(events[2]?.content?.toString()).toBe('Subject: x\r\n\r\nbody\r\n');
  });

  it('assembles BDAT chunks (CHUNKING) into one message', () => {
    const { events } = replay(smtpDecoderFactory(), 25, [
      ['C', 'EHLO x\r\nMAIL FROM:<a@x.org>\r\nRCPT TO:<b@y.org>\r\n'],
      ['S', '250 ok\r\n250 ok\r\n250 ok\r\n'],
      ['C', 'BDAT 14\r\nSubject: a\r\n\r\nBDAT 7 LAST\r\n.body\r\n'],
      ['S', '250 14 octets\r\n250 message ok\r\n'],
    ]);
    expect(events).toHaveLength(1);
    expect(events[0]?.content?.toString()).toBe('Subject: a\r\n\r\n.body\r\n');
  });

  it('stops decoding after STARTTLS and says so', () => {
    const { events } = replay(smtpDecoderFactory(), 25, [
      ['C', 'EHLO x\r\nSTARTTLS\r\n'],
      ['S', '250 ok\r\n220 2.0.0 Ready to start TLS\r\n'],
      ['C', Buffer.from([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01])],
      ['S', Buffer.from([0x16, 0x03, 0x03, 0x00, 0x5a])],
    ]);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ category: 'SIGNALS', action: 'smtp.starttls', attributes: { tls: 'true' } });
  });

  it('keeps at most maxMessageBytes of a message and flags truncation', () => {
    const big = `Subject: big\r\n\r\n${'x'.repeat(5000)}\r\n`;
    const { events } = replay(smtpDecoderFactory({ limits: { maxLineBytes: 1024, maxMessageBytes: 100 } }), 25, [
      ['C', 'MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n'],
      ['S', '250 ok\r\n250 ok\r\n354 go\r\n'],
      ['C', `${big}.\r\n`],
      ['S', '250 ok\r\n'],
    ]);
    expect(events[0]?.content?.length).toBeLessThanOrEqual(100);
    expect(events[0]?.attributes.truncated).toBe('true');
  });

  it('survives random and mutated input without throwing, with bounded output', () => {
    const transcript = Buffer.concat(session.map(([, t]) => Buffer.from(t)));
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.uint8Array({ maxLength: 300 })), { maxLength: 30 }),
        fc.array(fc.tuple(fc.nat(transcript.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 20 }),
        (chunks, mutations) => {
          const mutated = Buffer.from(transcript);
          for (const [at, v] of mutations) mutated[at] = v;
          const steps: Step[] = [
            ...chunks.map(([c, b]) => [c ? 'C' : 'S', Buffer.from(b)] as const),
            ['C', mutated],
            ['S', mutated],
          ];
          const { events } = replay(
            smtpDecoderFactory({ limits: { maxLineBytes: 512, maxMessageBytes: 2048 } }),
            25,
            steps,
          );
          for (const e of events) expect(e.content?.length ?? 0).toBeLessThanOrEqual(2048);
        },
      ),
      { numRuns: 300 },
    );
  });
});
