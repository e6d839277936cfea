// E-mail interception reports in the formats of seed 000 (CommuniGate Pro "Report Message
// Formats"): Login, Signal, Mailbox, Access and Partial Access are text/plain; New Message and
// Deleted Message are multipart/mixed (text/plain + message/rfc822); Sent Message is
// multipart/mixed (text/plain + application/x-envelope + message/rfc822). Pure: MatchedEvent in,
// RFC 5322 bytes out, the same bytes for the same input (boundaries derive from the event).

import { createHash } from 'node:crypto';
import { unreachable } from '@li/core';
import type { EventCategory, MatchedEvent, NormalizedEvent } from '@li/schemas';
import type { EncErrorCode } from '../errors.ts';
import { endsSession } from './classify.ts';

export const REPORT_TYPES = [
  'Login',
  'Signal',
  'New Message',
  'Mailbox',
  'Access',
  'Partial Access',
  'Sent Message',
  'Deleted Message',
] as const;
export type ReportType = (typeof REPORT_TYPES)[number];

const TYPE_OF: Record<EventCategory, ReportType | null> = {
  LOGIN: 'Login',
  SIGNALS: 'Signal',
  NEW_MAIL: 'New Message',
  MAILBOX: 'Mailbox',
  ACCESS: 'Access',
  PARTIAL: 'Partial Access',
  SENT_MAIL: 'Sent Message',
  DELETED_MAIL: 'Deleted Message',
  MEDIA: null, // seed 000 reports media only over PacketCable, not by e-mail
  ACCOUNT: null,
};

type ReportErrorCode = Extract<EncErrorCode, 'ENC_ERR_NO_REPORT_FORMAT' | 'ENC_ERR_REPORT_ADDRESS'>;

interface ReportOptions {
  /** Sender of the report messages (the mediation's reporting mailbox). */
  from: string;
  /** The LEMF's report addresses ("Send Reports to" on the Intercept page). */
  to: readonly string[];
  /** Court Case ID ordering the interception (warrant.courtCaseId). */
  courtCaseId?: string | null;
  /** Domain part of generated Message-IDs. */
  messageIdDomain?: string;
}

type ReportResult =
  | { ok: true; type: ReportType; bytes: Buffer }
  | { ok: false; code: ReportErrorCode; reason: string };

/** The report an event gives; null for none. Seed 000 reports logins, not the end of a session. */
export function reportTypeOf(e: Pick<NormalizedEvent, 'category' | 'action'>): ReportType | null {
  if (e.category === 'LOGIN' && endsSession(e.action)) return null;
  return TYPE_OF[e.category] ?? null;
}

/** Composes the report for one matched event. Never throws: unsupported input comes back as an error. */
export function composeReport(m: MatchedEvent, opts: ReportOptions): ReportResult {
  const type = reportTypeOf(m.event);
  if (!type) return { ok: false, code: 'ENC_ERR_NO_REPORT_FORMAT', reason: m.event.category };
  if (!safeAddress(opts.from) || opts.to.length === 0 || !opts.to.every(safeAddress)) {
    return { ok: false, code: 'ENC_ERR_REPORT_ADDRESS', reason: 'from/to' };
  }
  const e = m.event;
  const info = infoLines(type, m, opts);
  const seedHash = createHash('sha256').update(`${m.liid}\u0000${e.eventId}\u0000${type}`).digest('hex');
  const headers = [
    `From: ${opts.from}`,
    `To: ${opts.to.join(', ')}`,
    `Subject: ${encodeHeader(`${type} Report`)}`,
    `Date: ${rfc5322Date(e.occurredAtMicros)}`,
    `Message-ID: <${seedHash.slice(0, 32)}@${opts.messageIdDomain ?? 'li-mediation.invalid'}>`,
    `X-Report-Type: ${type}`,
    'MIME-Version: 1.0',
  ];
  const text = textPart(info.join('\r\n') + '\r\n');
  const content = e.content ? Buffer.from(e.content) : null;
  let body: { headers: string[]; body: Buffer };
  switch (type) {
    case 'New Message':
    case 'Deleted Message':
      body = multipart(seedHash, [text, ...(content ? [messagePart(content)] : [])]);
      break;
    case 'Sent Message':
      body = multipart(seedHash, [text, envelopePart(e), ...(content ? [messagePart(content)] : [])]);
      break;
    case 'Login':
    case 'Signal':
    case 'Mailbox':
    case 'Access':
    case 'Partial Access':
      body = text;
      break;
    default:
      return unreachable(type, 'report type');
  }
  const head = [...headers, ...body.headers].join('\r\n');
  return { ok: true, type, bytes: Buffer.concat([Buffer.from(`${head}\r\n\r\n`, 'utf8'), body.body]) };
}

// ---------- report text (one "Field: value" line per item seed 000 lists) ----------

function infoLines(type: ReportType, m: MatchedEvent, opts: ReportOptions): string[] {
  const e = m.event;
  const a = e.attributes;
  const account = accountOf(m);
  const lines: string[] = [`Report: ${type}`, `Account: ${account}`];
  const push = (k: string, v: string | null | undefined) => {
    if (v !== null && v !== undefined && v !== '') lines.push(`${k}: ${oneLine(v)}`);
  };
  // protocols named as seed 000 names them (IMAP, SIP): capture writes them in lower case
  const protocol = e.protocol ? e.protocol.toUpperCase() : e.protocol;
  const where = () => {
    push('Protocol', protocol);
    push('IP Address', e.network?.srcAddress);
    push('Port', e.network ? String(e.network.srcPort) : null);
  };
  switch (type) {
    case 'Login':
      push('Action', a.result === 'failure' ? 'login failed' : 'login');
      where();
      break;
    case 'Signal':
      push('Object', signalObject(e));
      push('IP Address', e.network?.srcAddress);
      push('Port', e.network ? String(e.network.srcPort) : null);
      push('Protocol', protocol);
      break;
    case 'New Message':
      push('Action', 'attached message stored');
      where();
      push('Mailbox', a.mailbox);
      push('UID', a.uid ?? a.copyUid ?? a.messages);
      push('Time Stamp', isoTime(e.occurredAtMicros));
      push('Source', a.source ?? sourceOf(e));
      break;
    case 'Mailbox':
      push('Action', mailboxAction(e.action));
      where();
      push('Mailbox', a.mailbox);
      push('New Mailbox', a.newMailbox);
      break;
    case 'Access':
    case 'Partial Access':
      // seed 000 names two Access actions: "message read" and "messages deleted" (ingest's *.deleted)
      push('Action', type === 'Access' && isDeletion(e.action) ? 'messages deleted' : 'message read');
      where();
      push('Mailbox', a.mailbox);
      push('UID', uidsOf(a));
      if (type === 'Partial Access') push('Portion', a.section ?? a.portion ?? 'unspecified');
      break;
    case 'Sent Message':
      push('Action', 'message sent');
      where();
      push('Authenticated User', authUser(a.authUser, account));
      break;
    case 'Deleted Message':
      push('Action', e.content ? 'attached message deleted' : 'message deleted');
      where();
      push('Mailbox', a.mailbox);
      push('UID', uidsOf(a));
      push('Time Stamp', a.messageTime ?? isoTime(e.occurredAtMicros));
      break;
    default:
      return unreachable(type, 'report type');
  }
  if (type !== 'New Message' && type !== 'Deleted Message') push('Time Stamp', isoTime(e.occurredAtMicros));
  push('Court Case ID', opts.courtCaseId);
  push('LIID', m.liid);
  if (type === 'Signal') {
    lines.push('', 'Data:');
    lines.push(...(e.content ? Buffer.from(e.content).toString('utf8').split(/\r?\n/) : ['(none)']));
  }
  return lines;
}

function accountOf(m: MatchedEvent): string {
  const parties = m.event.parties;
  const acc = parties.find((p) => p.role === 'ACCOUNT') ?? parties.find((p) => m.matchedRoles.includes(p.role));
  const value = acc?.value ?? parties[0]?.value ?? 'unknown';
  // a SIP account is named like a mail one (seed 000: "the Account (User) name"), without the scheme
  return acc?.type === 'SIP_URI' ? value.replace(/^sips?:/i, '') : value;
}

function signalObject(e: NormalizedEvent): string {
  const a = e.attributes;
  if (a.objectType === 'Request' || a.objectType === 'Response') return a.objectType;
  if (a.statusCode || /response|reply/i.test(e.action)) return 'Response';
  return 'Request';
}

function sourceOf(e: NormalizedEvent): string {
  if (/copy/i.test(e.action)) return 'copied from other Mailbox';
  if (/move/i.test(e.action)) return 'moved from other Mailbox';
  if (/append/i.test(e.action)) return 'appended';
  return 'incoming mail';
}

function mailboxAction(action: string): string {
  if (/creat/i.test(action)) return 'Mailbox created';
  if (/renam/i.test(action)) return 'Mailbox renamed';
  if (/remov|delet/i.test(action)) return 'Mailbox removed';
  return action;
}

function isDeletion(action: string): boolean {
  return action.toLowerCase().endsWith('.deleted');
}

function uidsOf(a: Record<string, string>): string | null {
  return a.uid ?? a.uidSet ?? a.expunged ?? a.marked ?? (a.msgNumber ? `message number ${a.msgNumber}` : null);
}

function authUser(user: string | undefined, account: string): string {
  if (!user) return '(none)';
  return user.toLowerCase() === account.toLowerCase() ? '(self)' : user;
}

// ---------- MIME ----------

type Part = { headers: string[]; body: Buffer };

function textPart(text: string): Part {
  const bytes = Buffer.from(text, 'utf8');
  if (sevenBitSafe(bytes)) {
    return { headers: ['Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 7bit'], body: bytes };
  }
  return {
    headers: ['Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: base64'],
    body: Buffer.from(base64Lines(bytes)),
  };
}

function envelopePart(e: NormalizedEvent): Part {
  const from = e.parties.find((p) => p.role === 'SENDER')?.value ?? '';
  const rcpts = e.parties.filter((p) => p.role === 'RECIPIENT').map((p) => p.value);
  const lines = [`MAIL FROM:<${oneLine(from)}>`, ...rcpts.map((r) => `RCPT TO:<${oneLine(r)}>`)];
  return {
    headers: ['Content-Type: application/x-envelope', 'Content-Transfer-Encoding: 8bit'],
    body: Buffer.from(`${lines.join('\r\n')}\r\n`, 'utf8'),
  };
}

/** RFC 2046 5.2.1: message/rfc822 allows only 7bit/8bit/binary, so the copy travels as is. */
function messagePart(msg: Buffer): Part {
  if (eightBitSafe(msg)) {
    return {
      headers: ['Content-Type: message/rfc822', `Content-Transfer-Encoding: ${sevenBitSafe(msg) ? '7bit' : '8bit'}`],
      body: msg,
    };
  }
  // NULs or over-long lines would not survive SMTP: carry the copy base64-encoded instead
  return {
    headers: [
      'Content-Type: application/octet-stream; name="message.eml"',
      'Content-Disposition: attachment; filename="message.eml"',
      'Content-Transfer-Encoding: base64',
    ],
    body: Buffer.from(base64Lines(msg)),
  };
}

function multipart(seed: string, parts: Part[]): Part {
  let boundary = `=_LI_${seed.slice(0, 40)}`;
  // the boundary must not occur inside any part
  while (parts.some((p) => p.body.includes(`--${boundary}`))) boundary += '_';
  const chunks: Buffer[] = [Buffer.from('This is a multi-part message in MIME format.\r\n')];
  for (const p of parts) {
    chunks.push(Buffer.from(`--${boundary}\r\n${p.headers.join('\r\n')}\r\n\r\n`));
    // the CRLF before a delimiter belongs to the delimiter (RFC 2046 5.1.1): the part keeps its own last CRLF
    chunks.push(p.body, Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { headers: [`Content-Type: multipart/mixed; boundary="${boundary}"`], body: Buffer.concat(chunks) };
}

function sevenBitSafe(b: Buffer): boolean {
  return b.every((c) => c < 0x80 && c !== 0) && maxLine(b) <= 998;
}

function eightBitSafe(b: Buffer): boolean {
  return !b.includes(0) && maxLine(b) <= 998;
}

function maxLine(b: Buffer): number {
  let max = 0;
  let start = 0;
  for (let i = b.indexOf(0x0a); i !== -1; i = b.indexOf(0x0a, i + 1)) {
    max = Math.max(max, i - start);
    start = i + 1;
  }
  return Math.max(max, b.length - start);
}

function base64Lines(b: Buffer): string {
  return `${(b.toString('base64').match(/.{1,76}/g) ?? []).join('\r\n')}\r\n`;
}

/** RFC 2047 encoded-word when a header value is not plain ASCII. */
function encodeHeader(v: string): string {
  const clean = oneLine(v);
  return /^[\x20-\x7e]*$/.test(clean) ? clean : `=?utf-8?B?${Buffer.from(clean, 'utf8').toString('base64')}?=`;
}

function oneLine(v: string): string {
  return v.replace(/[\r\n]+/g, ' ');
}

function safeAddress(a: string): boolean {
  return /^[^\s<>@,;"]+@[^\s<>@,;"]+$/.test(a) || /^[^<>\r\n,]*<[^\s<>@,;"]+@[^\s<>@,;"]+>$/.test(a);
}

function isoTime(micros: number): string {
  const ms = Math.floor(micros / 1000);
  const frac = String(((micros % 1_000_000) + 1_000_000) % 1_000_000).padStart(6, '0');
  return `${new Date(ms).toISOString().slice(0, 19)}.${frac}Z`;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function rfc5322Date(micros: number): string {
  const d = new Date(Math.floor(micros / 1000));
  const p = (n: number) => String(n).padStart(2, '0');
  return (
    `${DAYS[d.getUTCDay()]}, ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ` +
    `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`
  );
}
