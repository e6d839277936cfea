// SMTP against a real server (npm smtp-server) on loopback: what the server received is the
// oracle for our DATA decoding (dot-unstuffing, envelope), tcpdump the oracle for the bytes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { smtpDecoderFactory } from '../src/domain/mail/smtp.ts';
import { replay } from '../src/testing/decoder-kit.ts';
import { decodePcap, RecordingClient, startTcpdump, summary } from './mail-kit.ts';

interface Received {
  from: string;
  to: string[];
  user: string | undefined;
  message: Buffer;
}

let server: SMTPServer;
let port: number;
let dir: string;
const received: Received[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'li-smtp-'));
  server = new SMTPServer({
    allowInsecureAuth: true,
    authMethods: ['PLAIN', 'LOGIN'],
    logger: false,
    onAuth(auth, _session, cb) {
      if (auth.password === 'right-pass') cb(null, { user: auth.username });
      else cb(new Error('Invalid username or password'));
    },
    onRcptTo(address, _session, cb) {
      if (address.address.endsWith('@blocked.example')) cb(new Error('relay denied'));
      else cb();
    },
    onData(stream, session, cb) {
      const parts: Buffer[] = [];
      stream.on('data', (d: Buffer) => parts.push(d));
      stream.on('end', () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          user: session.user as string | undefined,
          message: Buffer.concat(parts),
        });
        cb();
      });
    },
  });
  // The STARTTLS test sends a truncated ClientHello on purpose: the server's TLS error is expected.
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  port = (server.server.address() as { port: number }).port;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('SMTP against smtp-server', () => {
  it('decodes AUTH and two pipelined transactions exactly as the server received them', async () => {
    const pcap = join(dir, 'smtp.pcap');
    const dump = await startTcpdump(pcap, `tcp port ${port}`);
    const c = await RecordingClient.connect(port);
    await c.expect(/^220 .*\r\n/m);
    await c.exchange('EHLO client.example.org\r\n', /^250 .*\r\n/m);
    await c.exchange(`AUTH PLAIN ${b64('\0mallory\0wrong')}\r\n`, /^535 .*\r\n/m);
    await c.exchange('AUTH LOGIN\r\n', /^334 .*\r\n/m);
    await c.exchange(`${b64('alice@example.org')}\r\n`, /^334 .*\r\n/m);
    await c.exchange(`${b64('right-pass')}\r\n`, /^235 .*\r\n/m);
    const body1 =
      'From: alice@example.org\r\nTo: bob@example.net\r\nSubject: one\r\nMessage-ID: <m1@example.org>\r\n\r\n' +
      '..leading dot (stuffed)\r\n...two dots\r\nend\r\n';
    c.send('MAIL FROM:<alice@example.org>\r\nRCPT TO:<bob@example.net>\r\nRCPT TO:<x@blocked.example>\r\nDATA\r\n');
    await c.expect(/^354 .*\r\n/m);
    await c.exchange(`${body1}.\r\n`, /^250 .*\r\n/m);
    const body2 = 'Subject: two\r\nMessage-ID: <m2@example.org>\r\n\r\nsecond message\r\n';
    c.send('RSET\r\nMAIL FROM:<alice@example.org>\r\nRCPT TO:<carol@example.com>\r\nDATA\r\n');
    await c.expect(/^354 .*\r\n/m);
    await c.exchange(`${body2}.\r\n`, /^250 .*\r\n/m);
    await c.exchange('QUIT\r\n', /^221 .*\r\n/m);
    await c.close();
    await dump.stop();

    const fromWire = await decodePcap(pcap, [smtpDecoderFactory({ ports: [port] })]);
    const observed = replay(smtpDecoderFactory({ ports: [port] }), port, c.steps);
    expect(fromWire.problems).toEqual([]);
    expect(summary(fromWire.events)).toEqual(summary(observed.events));
    const events = fromWire.events;
    expect(events.map((e) => e.action)).toEqual([
      'smtp.login.failed',
      'smtp.login',
      'smtp.send',
      'smtp.send',
      'smtp.logout',
    ]);
    expect(JSON.stringify(events)).not.toContain('right-pass');
    expect(events[0]?.parties[0]?.value).toBe('mallory');

    // The server is the oracle: same messages, same envelope, same authenticated user.
    expect(received).toHaveLength(2);
    const sends = events.filter((e) => e.action === 'smtp.send');
    sends.forEach((e, i) => {
      const r = received[i] as Received;
      expect(e.content).toEqual(r.message);
      expect(e.parties.find((p) => p.role === 'SENDER')?.value).toBe(r.from);
      expect(e.parties.filter((p) => p.role === 'RECIPIENT').map((p) => p.value)).toEqual(r.to);
      expect(e.parties.find((p) => p.role === 'ACCOUNT')?.value).toBe(r.user);
    });
    expect(sends[0]?.attributes.messageId).toBe('<m1@example.org>');
  });

  it('reports STARTTLS and decodes nothing after it', async () => {
    const c = await RecordingClient.connect(port);
    await c.expect(/^220 .*\r\n/m);
    await c.exchange('EHLO client.example.org\r\n', /^250 .*\r\n/m);
    await c.exchange('STARTTLS\r\n', /^220 .*\r\n/m);
    c.send(Buffer.from('16030100050100000100', 'hex')); // first bytes of a TLS ClientHello
    await c.close();
    const { events } = replay(smtpDecoderFactory({ ports: [port] }), port, c.steps);
    expect(events.map((e) => e.action)).toEqual(['smtp.starttls']);
  });
});
