// Which IRI record an event gives, from its protocol and action (HI2-HI3-delivery.md §4,
// MAIL.md §4): the event's role, resolved against the communication's phase.
import type { NormalizedEvent } from '@li/schemas';
import type { CommunicationEntry } from './state.ts';

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

export type ServiceKind = 'sip' | 'email' | 'ip';

export type IriRecordType = 'BEGIN' | 'CONTINUE' | 'END' | 'REPORT';

const SIP_STANDALONE = new Set(['REGISTER', 'OPTIONS', 'MESSAGE', 'PUBLISH', 'SUBSCRIBE', 'NOTIFY']);
const MAIL_PROTOCOLS = new Set(['SMTP', 'POP3', 'IMAP', 'LMTP', 'SUBMISSION', 'WEBMAIL', 'MAIL']);
const MAIL_CATEGORIES = new Set(['LOGIN', 'NEW_MAIL', 'SENT_MAIL', 'ACCESS', 'PARTIAL', 'MAILBOX', 'DELETED_MAIL']);
const LOGOUT = /\.(logout|logoff|quit|signout|disconnect|closed|session\.end)$/;

export function serviceOf(e: NormalizedEvent): ServiceKind {
  const p = e.protocol.toUpperCase();
  if (p === 'SIP' || e.action.startsWith('sip.')) return 'sip';
  if (p === 'MSNP') return 'ip';
  if (MAIL_PROTOCOLS.has(p) || (MAIL_CATEGORIES.has(e.category) && p !== 'X2' && p !== 'X3')) return 'email';
  return 'ip';
}

export function roleOf(e: NormalizedEvent, service: ServiceKind): EventRole {
  if (e.category === 'ACCOUNT') return 'ignore';
  if (e.category === 'MEDIA') return 'ccOnly';
  if (service === 'sip') return sipRole(e);
  if (service === 'email') return mailRole(e);
  const a = e.action.toLowerCase();
  if (/(signin|login)\.failed$/.test(a)) return 'report';
  if (/\.(signin|login)$/.test(a)) return 'open';
  if (LOGOUT.test(a)) return 'close';
  return 'inside';
}

function sipRole(e: NormalizedEvent): EventRole {
  const method = (e.attributes.method ?? e.action.slice(4)).toUpperCase();
  if (e.action !== 'sip.response') {
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
  if (LOGOUT.test(a)) return 'close';
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
      return 'report';
    case 'MAILBOX':
    case 'DELETED_MAIL':
      // TS 102 232-2 eMailEvent has send, receive, download, logon(-attempt/-failure), logoff,
      // partial-download and upload: nothing for creating, renaming or removing a mailbox, or for
      // deleting or expunging messages (MAIL.md §6). A logout among them is a logoff (above).
      return 'reportOnly';
    default:
      return 'ignore'; // SIGNALS (STARTTLS, COMPRESS): no EmailIRI event type, no report either
  }
}

/**
 * The IRI type for a role in the communication's current phase, and the phase after it.
 */
export function resolve(
  role: EventRole,
  comm: CommunicationEntry,
): { type: IriRecordType; phase: CommunicationEntry['phase'] } | undefined {
  const open = comm.phase === 'open';
  switch (role) {
    case 'open':
      return open ? { type: 'CONTINUE', phase: 'open' } : { type: 'BEGIN', phase: 'open' };
    case 'inside':
    case 'answer':
      if (open) return { type: 'CONTINUE', phase: 'open' };
      return comm.phase === 'ended' ? { type: 'REPORT', phase: 'ended' } : { type: 'BEGIN', phase: 'open' };
    case 'insideOrReport':
      return open ? { type: 'CONTINUE', phase: 'open' } : { type: 'REPORT', phase: comm.phase };
    case 'inviteFailure':
      if (comm.answered) return resolve('inside', comm);
      return open ? { type: 'END', phase: 'ended' } : { type: 'REPORT', phase: comm.phase };
    case 'close':
      return open ? { type: 'END', phase: 'ended' } : { type: 'REPORT', phase: comm.phase };
    case 'report':
      return { type: 'REPORT', phase: comm.phase };
    default:
      return undefined;
  }
}
