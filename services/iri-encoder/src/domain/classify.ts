// Step 1 of apply(): what an event is, from its protocol and action (HI2-HI3-delivery.md §4,
// MAIL.md §4): its service and its role in a communication. The role is resolved against the
// communication's phase when the CIN is allocated (state.ts).
import { unreachable } from '@li/core';
import type { MatchedEvent, NormalizedEvent } from '@li/schemas';

/**
 * open: starts a communication (INVITE, login).  inside: part of one (begins it when first
 * seen).  insideOrReport: part of an open one, else stand-alone.  answer: a 2xx to INVITE.
 * inviteFailure: a final failure to INVITE: ends an unanswered call, else a failed re-INVITE.
 * close: ends it.  report: always stand-alone.  ccOnly: media, no IRI.  reportOnly: activity the
 * standard has no IRI for, which goes out as a seed 000 report only.  ignore: nothing to send.
 * Neither reportOnly nor ignore is an error: such events never reach the DLQ.
 */
export type EventRole =
  | 'open'
  | 'inside'
  | 'insideOrReport'
  | 'answer'
  | 'inviteFailure'
  | 'close'
  | 'report'
  | 'ccOnly'
  | 'reportOnly'
  | 'ignore';

/** The roles that give records (reportOnly and ignore give none). */
export type EncodedRole = Exclude<EventRole, 'reportOnly' | 'ignore'>;
/** The roles that give an IRI. */
export type IriRole = Exclude<EncodedRole, 'ccOnly'>;

export type ServiceKind = 'sip' | 'email' | 'ip';

export type IriRecordType = 'BEGIN' | 'CONTINUE' | 'END' | 'REPORT';

const SIP_STANDALONE = new Set(['REGISTER', 'OPTIONS', 'MESSAGE', 'PUBLISH', 'SUBSCRIBE', 'NOTIFY']);
const MAIL_PROTOCOLS = new Set(['SMTP', 'POP3', 'IMAP', 'LMTP', 'SUBMISSION', 'WEBMAIL', 'MAIL']);
const MAIL_CATEGORIES = new Set(['LOGIN', 'NEW_MAIL', 'SENT_MAIL', 'ACCESS', 'PARTIAL', 'MAILBOX', 'DELETED_MAIL']);
const LOGOUT = /\.(logout|logoff|quit|signout|disconnect|closed|session\.end)$/;

/** The action ends a session (ingest's mail decoders: smtp/imap/pop3 .logout, or .closed without one). */
export const endsSession = (action: string): boolean => LOGOUT.test(action.toLowerCase());

export interface Classification {
  service: ServiceKind;
  role: EncodedRole;
}

/**
 * The event's service and role; undefined when it gives no record. Activity without an IRI
 * event is normal operation, not a failure: nothing is skipped, so the service writes no DLQ
 * record (reports for e-mail/PIPE LEMFs are composed apart).
 */
export function classify(m: MatchedEvent): Classification | undefined {
  const service = serviceOf(m.event);
  const role = roleOf(m.event, service);
  if (role === 'reportOnly' || role === 'ignore') return undefined;
  if (role === 'ccOnly' && m.deliver !== 'IRI_AND_CC') return undefined;
  return { service, role };
}

export function serviceOf(e: NormalizedEvent): ServiceKind {
  const p = e.protocol.toUpperCase();
  if (p === 'SIP' || e.action.startsWith('sip.') || isX2Sip(e)) return 'sip';
  if (p === 'MSNP') return 'ip';
  if (MAIL_PROTOCOLS.has(p) || (MAIL_CATEGORIES.has(e.category) && p !== 'X2' && p !== 'X3')) return 'email';
  return 'ip';
}

export function roleOf(e: NormalizedEvent, service: ServiceKind): EventRole {
  if (e.category === 'ACCOUNT') return 'ignore';
  if (e.category === 'MEDIA') return 'ccOnly';
  // A registration as a login (ingest's sip.login) is for seed 000's Login report; the ETSI side
  // already has the REGISTER and its answer as SIP IRIs.
  if (service === 'sip' && e.category === 'LOGIN') return 'reportOnly';
  if (service === 'sip') return sipRole(e);
  if (service === 'email') return mailRole(e);
  const a = e.action.toLowerCase();
  if (/(signin|login)\.failed$/.test(a)) return 'report';
  if (/\.(signin|login)$/.test(a)) return 'open';
  if (endsSession(a)) return 'close';
  return 'inside';
}

/** A SIP message a POI sent over X2 (TS 103 221-2 payload format 9): IP multimedia like mirrored SIP. */
function isX2Sip(e: NormalizedEvent): boolean {
  return e.protocol.toUpperCase() === 'X2' && e.attributes.payloadFormat === '9';
}

function sipRole(e: NormalizedEvent): EventRole {
  // Mirrored SIP names the method in its action; X2 SIP only in the attributes ingest parsed.
  const x2 = isX2Sip(e);
  const method = (e.attributes.method ?? (x2 ? '' : e.action.slice(4))).toUpperCase();
  const response = x2 ? e.attributes.status !== undefined : e.action === 'sip.response';
  if (!response) {
    if (method === 'INVITE') return 'open';
    if (SIP_STANDALONE.has(method)) return 'insideOrReport';
    return 'inside';
  }
  const status = Number(e.attributes.status ?? 0);
  if (method === 'INVITE') {
    if (status >= 200 && status < 300) return 'answer';
    if (status >= 300) return 'inviteFailure';
    return 'inside';
  }
  if ((method === 'BYE' || method === 'CANCEL') && status >= 200 && status < 300) return 'close';
  if (SIP_STANDALONE.has(method)) return 'insideOrReport';
  return 'inside';
}

function mailRole(e: NormalizedEvent): EventRole {
  const a = e.action.toLowerCase();
  if (endsSession(a)) return 'close';
  switch (e.category) {
    case 'LOGIN':
      return a.endsWith('.failed') || e.attributes.result === 'failure' ? 'report' : 'open';
    case 'SENT_MAIL':
      return 'insideOrReport';
    case 'NEW_MAIL':
      if (a.endsWith('.append')) return 'report'; // upload
      if (a.endsWith('.copy') || a.endsWith('.move')) return 'reportOnly'; // no EmailIRI event type
      return 'insideOrReport'; // delivery to the mailbox: receive
    case 'ACCESS':
    case 'PARTIAL':
      // Messages deleted (imap/pop3 .deleted) are no download: reports only, like DELETED_MAIL.
      return a.endsWith('.deleted') ? 'reportOnly' : 'report';
    case 'MAILBOX':
    case 'DELETED_MAIL':
      // TS 102 232-2 eMailEvent has send, receive, download, logon(-attempt/-failure), logoff,
      // partial-download and upload: nothing for creating, renaming or removing a mailbox, or for
      // deleting or expunging messages (MAIL.md §6). A logout among them is a logoff (above).
      return 'reportOnly';
    case 'SIGNALS': // STARTTLS, COMPRESS: no EmailIRI event type, no report either
    case 'MEDIA':
    case 'ACCOUNT':
      return 'ignore';
    default:
      return unreachable(e.category, 'event category');
  }
}
