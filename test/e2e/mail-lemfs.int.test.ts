// Issue 17 item 1, no dead letters in normal operation: one mail warrant delivered to an ETSI
// TCP LEMF and to an e-mail-report LEMF (seed 000) at once, with real SMTP and IMAP traffic
// captured by tcpdump, including Mailbox (create, rename, delete) and Deleted (expunge)
// activity. Each LEMF gets what its transport carries (ETSI: PS-PDUs, e-mail: reports), and
// the tenant's dead-letter topic stays empty. Issue 22 (seed 000): the expunge also gives an
// Access report "messages deleted", and a SIPp registration of a SIP target a Login report over SIP.
import type { AddressInfo } from 'node:net';
import { type Bus, createBus, readTopic, topicName } from '@li/bus';
import { memoryLogger, testInfra, uniqueTenant, waitFor } from '@li/testing';
import { RecordingClient } from '@li/testing/peers';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LemfReceiver } from '../pipeline/lemf.ts';
import { addEtsiLemf, addWarrant, type Pipeline, startPipeline } from '../pipeline/pipeline.ts';
import { MAIL_PASSWORD, MAIL_USER, type Peers, sipRegister, smtpSession, startPeers } from '../pipeline/traffic.ts';

/** The e-mail LEMF: an SMTP server that keeps every report it is handed. */
async function reportInbox() {
  const got: Buffer[] = [];
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS', 'AUTH'],
    authOptional: true,
    logger: false,
    onData(stream, _session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        got.push(Buffer.concat(chunks));
        cb();
      });
    },
  });
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.server.address() as AddressInfo).port;
  return { got, port, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** The target works in its mailbox: folders created, renamed and removed, a message expunged. */
async function imapMailboxWork(port: number): Promise<void> {
  const msg = `From: ${MAIL_USER}\r\nSubject: to be deleted\r\nMessage-ID: <del-${Date.now()}@example.org>\r\n\r\nbye\r\n`;
  const c = await RecordingClient.connect(port);
  await c.expect(/\* OK .*\r\n/);
  await c.exchange(`b1 LOGIN ${MAIL_USER} ${MAIL_PASSWORD}\r\n`, /b1 OK .*\r\n/);
  await c.exchange('b2 CREATE Projects\r\n', /b2 OK .*\r\n/);
  await c.exchange('b3 RENAME Projects Archive\r\n', /b3 OK .*\r\n/);
  await c.exchange(`b4 APPEND Archive {${msg.length}+}\r\n${msg}\r\n`, /b4 OK .*\r\n/);
  await c.exchange('b5 SELECT Archive\r\n', /b5 OK .*\r\n/);
  await c.exchange('b6 STORE 1 +FLAGS (\\Deleted)\r\n', /b6 OK .*\r\n/);
  await c.exchange('b7 EXPUNGE\r\n', /b7 OK .*\r\n/);
  await c.exchange('b8 CLOSE\r\n', /b8 OK .*\r\n/);
  await c.exchange('b9 DELETE Archive\r\n', /b9 OK .*\r\n/);
  await c.exchange('b10 LOGOUT\r\n', /b10 OK .*\r\n/);
  await c.close();
}

let peers: Peers;
let pipeline: Pipeline;
let inbox: Awaited<ReturnType<typeof reportInbox>>;
let bus: Bus;
const etsi = new LemfReceiver({ name: 'ETSI mail LEMF' });

beforeAll(async () => {
  peers = await startPeers();
  inbox = await reportInbox();
  await etsi.start();
  bus = await createBus({ ...testInfra(), clientId: 'e2e-mail-lemfs' }, memoryLogger().log);
  pipeline = await startPipeline({
    tenant: uniqueTenant('e2em'),
    capture: { interface: 'lo', smtpPorts: [peers.smtpPort], imapPorts: [peers.imapPort], msnpPorts: [] },
  });
  await addEtsiLemf(pipeline, 'lemf-etsi', etsi);
  const r = await pipeline.call(pipeline.tokens.admin, 'PUT', `/tenants/${pipeline.tenant}/lemfs/lemf-reports`, {
    name: 'e-mail report LEMF',
    transport: 'EMAIL',
    address: { host: '127.0.0.1', port: inbox.port },
    email: {
      from: 'li-reports@mdf.example',
      to: ['lemf@procura.example'],
      username: null,
      credentialRef: null,
      startTls: false,
    },
    allowInsecure: true, // the local SMTP server has no TLS
  });
  if (r.status !== 200 && r.status !== 201) throw new Error(`e-mail LEMF not stored: ${JSON.stringify(r.json)}`);
  await addWarrant(pipeline, {
    liid: 'MAILBOTH',
    kind: 'EMAIL',
    target: { type: 'MAIL_ACCOUNT', value: MAIL_USER },
    lemfIds: ['lemf-etsi', 'lemf-reports'],
  });
  // A SIP account whose registrations the e-mail LEMF gets as Login reports (seed 000).
  for (const [liid, user] of [
    ['SIPREG', 'bobreg'],
    ['SIPREF', 'bobrefused'],
  ] as const) {
    await addWarrant(pipeline, {
      liid,
      kind: 'VOICE',
      target: { type: 'SIP_URI', value: `sip:${user}@example.com` },
      lemfIds: ['lemf-reports'],
    });
  }
  // target-match follows the warrants topic: give it a moment before traffic starts.
  await new Promise((r) => setTimeout(r, 1500));
}, 120_000);

afterAll(async () => {
  await pipeline?.stop();
  await etsi.stop();
  await inbox?.close();
  await peers?.stop();
  await bus?.close();
});

/** The text/plain part of every report the e-mail LEMF got. */
async function reportTexts(): Promise<string[]> {
  return Promise.all(inbox.got.map(async (b) => (await simpleParser(b)).text ?? ''));
}

/** Waits until check holds and then the count stays the same for quietMs. */
async function settled(count: () => number, what: string, quietMs = 4000): Promise<void> {
  let seen = -1;
  let since = Date.now();
  await waitFor(
    () => {
      if (count() !== seen) {
        seen = count();
        since = Date.now();
      }
      return seen > 0 && Date.now() - since >= quietMs;
    },
    { timeoutMs: 90_000, intervalMs: 200, what },
  );
}

describe('a mail warrant with an ETSI TCP LEMF and an e-mail-report LEMF', () => {
  it('gives each LEMF what its transport carries, Mailbox/Deleted activity as reports, and no dead letters', async () => {
    await smtpSession(peers.smtpPort);
    await imapMailboxWork(peers.imapPort);
    expect(peers.smtpReceived()).toBe(1);

    const reportTypes = async () =>
      Promise.all(inbox.got.map(async (b) => String((await simpleParser(b)).headers.get('x-report-type') ?? '')));
    await waitFor(
      async () => {
        const types = await reportTypes();
        return types.includes('Mailbox') && types.includes('Deleted Message');
      },
      { timeoutMs: 90_000, intervalMs: 500, what: 'the Mailbox and Deleted Message reports' },
    );
    await settled(() => etsi.records.length, 'records at the ETSI LEMF');
    await settled(() => inbox.got.length, 'reports at the e-mail LEMF');

    // The ETSI LEMF: PS-PDUs of its warrant, e-mail IRI and CC.
    const records = etsi.of('MAILBOTH');
    expect(records.length).toBe(etsi.records.length);
    expect(records.every((r) => r.format === 'TS102232')).toBe(true);
    const types = records.map((r) => r.type);
    console.log('ETSI LEMF:', types.join(', '));
    console.log('e-mail LEMF:', (await reportTypes()).join(', '));
    expect(types[0]).toBe('HI1 liActivated');
    expect(types).toContain('IRI-BEGIN emailIRI');
    expect(types).toContain('IRI-REPORT emailIRI'); // the APPEND: upload
    expect(types).toContain('CC emailCC');
    // The e-mail LEMF: reports only, including the Mailbox and Deleted Message ones.
    const reports = await reportTypes();
    expect(reports.every((t) => t !== '')).toBe(true);
    expect(reports.filter((t) => t === 'Mailbox').length).toBeGreaterThanOrEqual(3); // create, rename, delete
    expect(reports).toContain('Deleted Message');
    expect(reports).toContain('Login');
    // Seed 000's Access report names two actions: the expunge is "messages deleted", with its UIDs.
    const texts = await reportTexts();
    const access = texts.filter((t) => t.includes('Report: Access'));
    console.log(
      'Access reports:',
      JSON.stringify(access.map((t) => t.split('\n').filter((l) => l.startsWith('Action')))),
    );
    const deleted = access.find((t) => t.includes('Action: messages deleted'));
    expect(deleted, 'an Access report "messages deleted"').toBeDefined();
    expect(deleted).toContain('Protocol: IMAP');
    expect(deleted).toContain('Mailbox: Archive');
    expect(deleted).toMatch(/^UID: \S+/m);
    expect(deleted).toContain(`Account: ${MAIL_USER}`);

    // Normal operation: nothing was dead-lettered, by the encoder or by either LEMF's delivery.
    const dlq = await readTopic(bus.kafka, topicName(pipeline.tenant, 'dlq'));
    expect(dlq.map((d) => `${d.headers['li.dlq.code'] ?? '?'}: ${d.headers['li.dlq.reason'] ?? ''}`)).toEqual([]);
  }, 240_000);

  it('reports a SIP registration as a Login report with protocol SIP, and a refused one not', async () => {
    const before = inbox.got.length;
    expect((await sipRegister(pipeline.sipUdpPort, 'bobrefused', false)).ok).toBe(true);
    expect((await sipRegister(pipeline.sipUdpPort, 'bobreg', true)).ok).toBe(true);
    const since = async () => (await reportTexts()).slice(before);
    const loginsOver = async () =>
      (await since()).filter((t) => t.includes('Report: Login') && t.includes('Protocol: SIP'));
    const signalOf = (t: string, liid: string, status: string) =>
      t.includes('Report: Signal') && t.includes(`LIID: ${liid}`) && t.includes(status);
    // Both registrations are Signal reports (REGISTER and its answer); wait for the refused one's
    // answer too, so a Login report it gave would be in by now.
    await waitFor(
      async () => {
        const texts = await since();
        return (
          (await loginsOver()).length > 0 &&
          texts.some((t) => signalOf(t, 'SIPREF', '403 Forbidden')) &&
          texts.some((t) => signalOf(t, 'SIPREG', '200 OK'))
        );
      },
      {
        timeoutMs: 90_000,
        intervalMs: 500,
        what: 'the Login report over SIP and both registrations as Signal reports',
      },
    );
    await settled(() => inbox.got.length - before, 'reports of the registrations');
    const logins = await loginsOver();
    console.log('SIP Login reports:', JSON.stringify(logins));
    expect(logins).toHaveLength(1);
    const login = logins[0] as string;
    expect(login).toContain('Account: bobreg@example.com');
    expect(login).toContain('Action: login');
    expect(login).toContain('IP Address: 127.0.0.1');
    expect(login).toMatch(/^Port: \d+/m);
    expect(login).toContain('LIID: SIPREG');
  }, 180_000);
});
