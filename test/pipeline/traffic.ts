// Real traffic for the pipeline: SIPp calls mirrored to ingest's SIP listener (as an SBC would),
// an SMTP submission to a real SMTP server, an IMAP session with a real Dovecot, and an MSN
// Messenger conversation on loopback. The mail and MSN sessions reach ingest through tcpdump.
import type net from 'node:net';
import { type Dovecot, startDovecot } from '@li/testing/dovecot';
import { scriptedServer } from '@li/testing/msnp';
import { freePort, RecordingClient } from '@li/testing/peers';
import { type Relay, runSipp, udpRelay } from '@li/testing/sip';
import { SMTPServer } from 'smtp-server';

export const MAIL_USER = 'alice@example.org';
export const MAIL_PASSWORD = 'demo-password-1';
export const SIP_SERVICE = '+390612345678';
export const MSN_ACCOUNT = 'alice@hotmail.com';

export interface Peers {
  smtpPort: number;
  imapPort: number;
  msnPort: number;
  /** Messages the SMTP server accepted. */
  smtpReceived(): number;
  stop(): Promise<void>;
}

/** Starts the SMTP server, Dovecot and the MSN server, on fixed ports when given. */
export async function startPeers(ports: { smtp?: number; imap?: number; msn?: number } = {}): Promise<Peers> {
  let received = 0;
  const smtp = new SMTPServer({
    allowInsecureAuth: true,
    authMethods: ['PLAIN', 'LOGIN'],
    logger: false,
    onAuth(auth, _session, cb) {
      if (auth.username === MAIL_USER && auth.password === MAIL_PASSWORD) cb(null, { user: auth.username });
      else cb(new Error('Invalid username or password'));
    },
    onData(stream, _session, cb) {
      stream.on('data', () => undefined);
      stream.on('end', () => {
        received++;
        cb();
      });
    },
  });
  smtp.on('error', () => undefined);
  const smtpPort = ports.smtp ?? (await freePort());
  await new Promise<void>((resolve) => smtp.listen(smtpPort, '127.0.0.1', () => resolve()));
  let dovecot: Dovecot | null = null;
  let msn: net.Server | null = null;
  try {
    dovecot = await startDovecot({
      user: MAIL_USER,
      password: MAIL_PASSWORD,
      ...(ports.imap ? { imapPort: ports.imap } : {}),
    });
    msn = scriptedServer();
    const msnPort = ports.msn ?? (await freePort());
    await new Promise<void>((resolve) => msn!.listen(msnPort, '127.0.0.1', () => resolve()));
    const d = dovecot;
    const m = msn;
    return {
      smtpPort,
      imapPort: d.imapPort,
      msnPort,
      smtpReceived: () => received,
      async stop() {
        await new Promise<void>((r) => m.close(() => r()));
        await d.stop();
        await new Promise<void>((r) => smtp.close(() => r()));
      },
    };
  } catch (err) {
    msn?.close();
    await dovecot?.stop();
    smtp.close();
    throw err;
  }
}

let mailCounter = 0;

/** An authenticated SMTP submission from the target to a correspondent. */
export async function smtpSession(port: number): Promise<void> {
  const n = ++mailCounter;
  const c = await RecordingClient.connect(port);
  await c.expect(/^220 .*\r\n/m);
  await c.exchange('EHLO client.example.org\r\n', /250 [^\r\n]*\r\n(?![\s\S])/);
  const auth = Buffer.from(`\0${MAIL_USER}\0${MAIL_PASSWORD}`).toString('base64');
  await c.exchange(`AUTH PLAIN ${auth}\r\n`, /235 .*\r\n/);
  await c.exchange(`MAIL FROM:<${MAIL_USER}>\r\n`, /250 .*\r\n/);
  await c.exchange('RCPT TO:<bob@example.net>\r\n', /250 .*\r\n/);
  await c.exchange('DATA\r\n', /354 .*\r\n/);
  await c.exchange(
    `From: ${MAIL_USER}\r\nTo: bob@example.net\r\nSubject: meeting ${n}\r\nMessage-ID: <m${n}-${Date.now()}@example.org>\r\n\r\nSee you at nine.\r\n.\r\n`,
    /250 .*\r\n/,
  );
  await c.exchange('QUIT\r\n', /221 .*\r\n/);
  await c.close();
}

/** The target logs in to IMAP, stores a draft, reads it back and logs out. */
export async function imapSession(port: number): Promise<void> {
  const n = ++mailCounter;
  const msg = `From: ${MAIL_USER}\r\nSubject: draft ${n}\r\nMessage-ID: <d${n}-${Date.now()}@example.org>\r\n\r\nDraft text\r\n`;
  const c = await RecordingClient.connect(port);
  await c.expect(/\* OK .*\r\n/);
  await c.exchange(`a1 LOGIN ${MAIL_USER} ${MAIL_PASSWORD}\r\n`, /a1 OK .*\r\n/);
  await c.exchange(`a2 APPEND INBOX {${msg.length}+}\r\n${msg}\r\n`, /a2 OK .*\r\n/);
  await c.exchange('a3 SELECT INBOX\r\n', /a3 OK .*\r\n/);
  await c.exchange('a4 FETCH 1 (BODY.PEEK[])\r\n', /a4 OK .*\r\n/);
  await c.exchange('a5 LOGOUT\r\n', /a5 OK .*\r\n/);
  await c.close();
}

export interface SipCall {
  done: Promise<{ ok: boolean; output: string }>;
}

/**
 * One SIPp call to SIP_SERVICE through a relay that mirrors every datagram to ingest's SIP
 * listener. pauseMs is the talk time between ACK and BYE.
 */
export async function sipCall(ingestSipPort: number, pauseMs = 500): Promise<SipCall> {
  const uasPort = await freePort();
  const uas = runSipp(['-sn', 'uas', '-i', '127.0.0.1', '-p', String(uasPort), '-m', '1'], 30_000);
  await new Promise((r) => setTimeout(r, 200));
  const relay: Relay = await udpRelay(uasPort, ingestSipPort);
  const uacPort = await freePort();
  const uac = runSipp(
    [
      '-sn',
      'uac',
      `127.0.0.1:${relay.port}`,
      '-i',
      '127.0.0.1',
      '-p',
      String(uacPort),
      '-s',
      SIP_SERVICE,
      '-m',
      '1',
      '-d',
      String(pauseMs),
    ],
    30_000,
  );
  return {
    done: (async () => {
      const r = await uac.done;
      await uas.done;
      await relay.close();
      return { ok: /Successful call\s+\|\s+\d+\s+\|\s+1\b/.test(r.output), output: r.output };
    })(),
  };
}

/**
 * One SIPp registration of sip:<user>@example.com through a relay that mirrors every datagram to
 * ingest's SIP listener; the registrar accepts it (200 OK, bound for 600 s) or refuses it (403).
 */
export async function sipRegister(ingestSipPort: number, user: string, accept: boolean): Promise<{ ok: boolean }> {
  const dir = new URL('./sipp/', import.meta.url).pathname;
  const uasPort = await freePort();
  const uas = runSipp(
    [
      '-sf',
      `${dir}${accept ? 'register-uas.xml' : 'register-uas-refuse.xml'}`,
      '-i',
      '127.0.0.1',
      '-p',
      String(uasPort),
      '-m',
      '1',
    ],
    30_000,
  );
  await new Promise((r) => setTimeout(r, 200));
  const relay: Relay = await udpRelay(uasPort, ingestSipPort);
  const uacPort = await freePort();
  const uac = runSipp(
    [
      '-sf',
      `${dir}register-uac.xml`,
      `127.0.0.1:${relay.port}`,
      '-i',
      '127.0.0.1',
      '-p',
      String(uacPort),
      '-s',
      user,
      '-m',
      '1',
    ],
    30_000,
  );
  const r = await uac.done;
  await uas.done;
  await relay.close();
  return { ok: /Successful call\s+\|\s+\d+\s+\|\s+1\b/.test(r.output) };
}
