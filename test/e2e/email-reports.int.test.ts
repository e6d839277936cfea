// E-mail reports over SMTP to a real smtp-server on 127.0.0.1: every report type of seed 000,
// composed by the iri-encoder's composer, delivered by cc-delivery's SMTP transport, arrives
// byte-equal and parses with mailparser.
import type { AddressInfo } from 'node:net';
import { record, testDeliveries, waitFor } from '@li/cc-delivery/testing';
import { composeReport } from '@li/iri-encoder/testing';
import type { LemfDestination } from '@li/schemas';
import { sampleEvent, sampleLemf, sampleMatched } from '@li/schemas/testing';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { afterEach, describe, expect, it } from 'vitest';

interface Received {
  from: string;
  to: string[];
  data: Buffer;
}

async function smtp(opts: { auth?: boolean; rejectAbove?: number } = {}) {
  const got: Received[] = [];
  const server = new SMTPServer({
    secure: false,
    disabledCommands: opts.auth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    authOptional: !opts.auth,
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, _s, cb) {
      if (auth.username === 'mdf' && auth.password === 'right') cb(null, { user: 'mdf' });
      else cb(new Error('Invalid username or password'));
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const data = Buffer.concat(chunks);
        if (opts.rejectAbove !== undefined && data.length > opts.rejectAbove) {
          const err = new Error('message too big') as Error & { responseCode: number };
          err.responseCode = 552;
          return cb(err);
        }
        got.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          data,
        });
        cb();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.server.address() as AddressInfo).port;
  return { got, port, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const reportOpts = { from: 'li-reports@mdf.example', to: ['lemf@procura.example'], courtCaseId: 'RG-2026-0042' };
const net = { transport: 'tcp', srcAddress: '198.51.100.7', srcPort: 51234, dstAddress: '192.0.2.1', dstPort: 143 };
const account = { role: 'ACCOUNT' as const, type: 'MAIL_ACCOUNT' as const, value: 'alice@example.com' };
const msg = Buffer.from(
  'From: alice@example.com\r\nTo: bob@example.org\r\nSubject: hi\r\n\r\n.leading dot line\r\nbye\r\n',
);
const events = [
  sampleMatched({ event: sampleEvent({ category: 'LOGIN', protocol: 'IMAP', network: net, parties: [account] }) }),
  sampleMatched({ event: sampleEvent({ category: 'SIGNALS' }) }),
  sampleMatched({
    event: sampleEvent({
      category: 'NEW_MAIL',
      protocol: 'IMAP',
      network: net,
      parties: [account],
      attributes: { mailbox: 'INBOX', uid: '5' },
      content: msg,
    }),
  }),
  sampleMatched({
    event: sampleEvent({
      category: 'MAILBOX',
      action: 'imap.mailbox.created',
      protocol: 'IMAP',
      network: net,
      parties: [account],
      attributes: { mailbox: 'X' },
    }),
  }),
  sampleMatched({
    event: sampleEvent({
      category: 'ACCESS',
      protocol: 'IMAP',
      network: net,
      parties: [account],
      attributes: { mailbox: 'INBOX', uid: '5' },
    }),
  }),
  sampleMatched({
    event: sampleEvent({
      category: 'PARTIAL',
      protocol: 'IMAP',
      network: net,
      parties: [account],
      attributes: { mailbox: 'INBOX', uid: '5', section: 'BODY[1]' },
    }),
  }),
  sampleMatched({
    event: sampleEvent({
      category: 'SENT_MAIL',
      protocol: 'SMTP',
      network: net,
      parties: [
        account,
        { role: 'SENDER', type: 'EMAIL', value: 'alice@example.com' },
        { role: 'RECIPIENT', type: 'EMAIL', value: 'bob@example.org' },
      ],
      attributes: { authUser: 'alice@example.com' },
      content: msg,
    }),
  }),
  sampleMatched({
    event: sampleEvent({
      category: 'DELETED_MAIL',
      protocol: 'IMAP',
      network: net,
      parties: [account],
      attributes: { mailbox: 'INBOX', uid: '5' },
      content: msg,
    }),
  }),
];

function emailLemf(id: string, port: number, extra: Partial<LemfDestination['email'] & object> = {}) {
  return sampleLemf({
    allowInsecure: true,
    id,
    transport: 'EMAIL',
    address: { host: '127.0.0.1', port },
    ccAddress: null,
    email: { from: reportOpts.from, to: reportOpts.to, username: null, credentialRef: null, startTls: false, ...extra },
  });
}

describe('e-mail reports over SMTP', () => {
  it('delivers every report type byte-equal; each parses and carries its fields', async () => {
    const server = await smtp();
    cleanup.push(server.close);
    const { deliveries, commits } = testDeliveries();
    cleanup.push(() => deliveries.stop());
    await deliveries.applyLemf(emailLemf('mail', server.port));
    const reports = events.map((m, i) => {
      const r = composeReport(m, reportOpts);
      if (!r.ok) throw new Error(r.code);
      return { type: r.type, rec: record('mail', m.liid, i, 'REPORT', r.bytes) };
    });
    deliveries.offer(
      'mail',
      reports.map((r) => r.rec),
    );
    await deliveries.delivery('mail')!.drained();
    expect(server.got).toHaveLength(8);
    for (const [i, got] of server.got.entries()) {
      expect(got.data.equals(Buffer.from(reports[i]!.rec.bytes))).toBe(true);
      expect(got.from).toBe(reportOpts.from);
      expect(got.to).toEqual(reportOpts.to);
      const parsed = await simpleParser(got.data);
      expect(parsed.headers.get('x-report-type')).toBe(reports[i]!.type);
      expect(parsed.text).toContain('Court Case ID: RG-2026-0042');
    }
    const sentReport = await simpleParser(server.got[6]!.data);
    expect(sentReport.attachments.map((a) => a.contentType)).toEqual(['application/x-envelope', 'message/rfc822']);
    expect(sentReport.attachments[1]!.content.equals(msg)).toBe(true);
    expect(commits.at(-1)?.offset).toBe(reports.at(-1)!.rec.source.offset + 1);
  });

  it('authenticates; wrong credentials are a clear status error and nothing is committed', async () => {
    const server = await smtp({ auth: true });
    cleanup.push(server.close);
    const secrets = (_tenant: string, ref: string) =>
      ref === 'good' ? Buffer.from('right') : ref === 'bad' ? Buffer.from('wrong') : null;
    const { deliveries, commits } = testDeliveries({ secrets });
    cleanup.push(() => deliveries.stop());
    await deliveries.applyLemf(emailLemf('good', server.port, { username: 'mdf', credentialRef: 'good' }));
    await deliveries.applyLemf(emailLemf('bad', server.port, { username: 'mdf', credentialRef: 'bad' }));
    const r = composeReport(events[0]!, reportOpts);
    if (!r.ok) throw new Error(r.code);
    deliveries.offer('good', [record('good', 'LIID0001', 0, 'REPORT', r.bytes)]);
    deliveries.offer('bad', [record('bad', 'LIID0001', 0, 'REPORT', r.bytes)]);
    await deliveries.delivery('good')!.drained();
    await waitFor(
      () => deliveries.status().find((s) => s.lemfId === 'bad')?.lastErrorCode === 'DLV_ERR_AUTH',
      'auth error',
    );
    expect(server.got).toHaveLength(1);
    expect(commits.filter((c) => c.lemf === 'bad')).toEqual([]);
    expect(deliveries.delivery('bad')!.pending()).toBe(1);
  });

  it('a report the server refuses for good (552) is dead-lettered, the next one goes through', async () => {
    const server = await smtp({ rejectAbove: 2000 });
    cleanup.push(server.close);
    const { deliveries, dead } = testDeliveries();
    cleanup.push(() => deliveries.stop());
    await deliveries.applyLemf(emailLemf('m552', server.port));
    const big = composeReport(events[2]!, reportOpts);
    const small = composeReport(events[0]!, reportOpts);
    if (!big.ok || !small.ok) throw new Error('compose');
    const bigBytes = Buffer.concat([big.bytes, Buffer.from(`${'x'.repeat(70)}\r\n`.repeat(40))]);
    deliveries.offer('m552', [
      record('m552', 'L', 0, 'REPORT', bigBytes),
      record('m552', 'L', 1, 'REPORT', small.bytes),
    ]);
    await deliveries.delivery('m552')!.drained();
    expect(dead.map((d) => d.error.code)).toEqual(['DLV_ERR_SMTP']);
    expect(server.got).toHaveLength(1);
  });
});
