// Mail-server event feeds → DecodedEvent. Two inputs: Dovecot 2.3's event exporter (format json,
// MAIL.md §7; 2.4 field spellings accepted too) and our generic JSON for other servers
// (documented in GENERIC_MAIL_EVENT_DOC). Pure mapping: the HTTP adapter validates the shape
// with TypeBox first; here only the per-event rules are checked.
import type { Party } from '@li/schemas';
import type { DecodedEvent } from '../stream.ts';

export interface DovecotEvent {
  event: string;
  hostname?: string;
  start_time?: string | number;
  end_time?: string | number;
  categories?: string[];
  fields?: Record<string, unknown>;
}

export const GENERIC_EVENT_TYPES = [
  'login',
  'mailbox.created',
  'mailbox.renamed',
  'mailbox.removed',
  'message.stored',
  'message.read',
  'message.partial',
  'message.deleted',
  'message.sent',
  'account.renamed',
  'account.removed',
  'im.message',
] as const;
type GenericEventType = (typeof GENERIC_EVENT_TYPES)[number];

export interface GenericMailEvent {
  type: GenericEventType;
  account: string;
  time: string | number;
  protocol?: string;
  session?: string;
  clientAddress?: string;
  clientPort?: number;
  serverAddress?: string;
  serverPort?: number;
  result?: 'success' | 'failure';
  mailbox?: string;
  newMailbox?: string;
  uid?: string;
  messageId?: string;
  section?: string;
  source?: string;
  sender?: string;
  recipients?: string[];
  newAccount?: string;
  /** The message (RFC 5322) in base64, when the server can share it. */
  message?: string;
}

export const GENERIC_MAIL_EVENT_DOC = `Generic mail-server event (POST /ingest/mail-events, application/json).
type: ${GENERIC_EVENT_TYPES.join(' | ')}.
account (the mailbox owner's login name) and time (RFC 3339 string or Unix seconds) are always required.
mailbox.*, message.stored/read/partial/deleted need mailbox; mailbox.renamed needs newMailbox;
account.renamed needs newAccount; im.message (an instant message, e.g. XMPP: protocol "xmpp") takes
sender, recipients and message (the body, UTF-8 in base64); message.partial should carry section (e.g. "HEADER", "1.2", "<0.1024>").
protocol (imap, pop3, smtp, webmail, ...), clientAddress/clientPort and serverAddress/serverPort describe
the session; message carries the RFC 5322 message in base64 when available.
Every POST carries Authorization: Bearer <token> (or Basic with the token as password), a mailserver
token of this ingest's tenant; the tenant is the token's, and a body tenant, if any, must equal it.`;

export type MapOutcome = { ok: true; events: DecodedEvent[] } | { ok: false; field: string; reason: string };

/** RFC 3339 text (fraction kept to the microsecond) or Unix seconds as a number. */
function timeToMicros(t: string | number | undefined): number | null {
  if (t === undefined) return null;
  if (typeof t === 'number') return Number.isFinite(t) && t >= 0 ? Math.round(t * 1_000_000) : null;
  if (/^\d+(\.\d+)?$/.test(t)) return Math.round(Number(t) * 1_000_000);
  const m = /^(.*T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})$/i.exec(t.trim());
  if (!m) return null;
  const ms = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(ms)) return null;
  const frac = (m[2] ?? '').padEnd(6, '0').slice(0, 6);
  return ms * 1000 + Number(frac);
}

function str(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return null;
}

function num(v: unknown): number {
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isInteger(n) && n >= 0 && n <= 65535 ? n : 0;
}

function compact(attrs: Record<string, string | null | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined && v !== '') out[k] = v;
  return out;
}

/** "Name <a@b>" → "a@b". */
function addressOf(v: string | null): string | null {
  if (!v) return null;
  const m = /<([^>]+)>/.exec(v);
  return (m ? m[1] : v)?.trim() || null;
}

function account(user: string | null): Party[] {
  return user ? [{ role: 'ACCOUNT', type: 'MAIL_ACCOUNT', value: user }] : [];
}

/** Full vs partial fetch from an IMAP FETCH argument list (RFC 3501 6.4.5). */
function fetchScope(args: string): 'full' | 'partial' | null {
  const items = args.toUpperCase();
  if (/(^|[\s(])(RFC822|BODY(\.PEEK)?\[\]|BINARY(\.PEEK)?\[\])(?![.<\w])/.test(items)) return 'full';
  if (/(BODY(\.PEEK)?\[|BINARY(\.PEEK)?\[|RFC822\.(HEADER|TEXT))/.test(items)) return 'partial';
  return null;
}

// No ACCOUNT events from Dovecot: it keeps no accounts of its own (the passdb/userdb it only looks
// up), and neither its event list nor doveadm has a user created, renamed or removed. Where
// Dovecot serves the mail, the provisioning system posts account.renamed / account.removed as
// generic events (mapGenericEvent); docs/ARCHITECTURE.md ("Account events") has the request.
export function mapDovecotEvent(e: DovecotEvent): MapOutcome {
  const f = e.fields ?? {};
  const ts = timeToMicros(e.end_time ?? e.start_time);
  if (ts === null)
    return { ok: false, field: 'end_time', reason: 'end_time/start_time missing or not RFC 3339 / Unix time' };
  const user = str(f.user) ?? str(f.original_user);
  const service =
    str(f.service) ?? (e.categories?.includes('imap') ? 'imap' : e.categories?.includes('pop3') ? 'pop3' : null);
  const remoteIp = str(f.remote_ip) ?? str(f.real_remote_ip);
  const localIp = str(f.local_ip) ?? str(f.real_local_ip);
  const network =
    remoteIp && localIp
      ? {
          transport: 'tcp',
          srcAddress: remoteIp,
          srcPort: num(f.remote_port),
          dstAddress: localIp,
          dstPort: num(f.local_port),
        }
      : null;
  const session = str(f.session);
  const base = (protocol: string) => ({
    occurredAtMicros: ts,
    protocol,
    communicationId: session
      ? `dovecot:${e.hostname ?? ''}:${session}`
      : `dovecot:${e.hostname ?? ''}:${user ?? ''}:${ts}`,
    network,
    content: null,
    contentType: null,
  });
  const common = { hostname: e.hostname, session, dovecotEvent: e.event };
  switch (e.event) {
    case 'auth_request_finished': {
      const ok = str(f.success) === 'yes';
      const proto = service ?? 'mail';
      return {
        ok: true,
        events: [
          {
            ...base(proto),
            category: 'LOGIN',
            action: ok ? `${proto}.login` : `${proto}.login.failed`,
            parties: account(user),
            attributes: compact({
              ...common,
              result: ok ? 'success' : 'failure',
              mechanism: str(f.mechanism),
              transport: str(f.transport),
              error: str(f.error),
            }),
          },
        ],
      };
    }
    case 'imap_command_finished':
    case 'pop3_command_finished': {
      const proto = e.event.startsWith('imap') ? 'imap' : 'pop3';
      if (str(f.tagged_reply_state) !== null && str(f.tagged_reply_state) !== 'OK') return { ok: true, events: [] };
      const name = (str(f.cmd_name) ?? '').toUpperCase().replace(/^UID /, '');
      const args = str(f.cmd_args) ?? '';
      const mailbox = str(f.mailbox) ?? (proto === 'pop3' ? 'INBOX' : null);
      const ev = (category: DecodedEvent['category'], action: string, attrs: Record<string, string | null>) => ({
        ok: true as const,
        events: [
          { ...base(proto), category, action, parties: account(user), attributes: compact({ ...common, ...attrs }) },
        ],
      });
      // Messages removed: the Deleted Message report's event and the Access report's "messages deleted".
      const removed = (action: string, attrs: Record<string, string | null>) => {
        const r = ev('DELETED_MAIL', action, attrs);
        const [del] = r.events;
        if (del)
          r.events.push({ ...del, category: 'ACCESS', action: `${proto}.deleted`, attributes: { ...del.attributes } });
        return r;
      };
      const reply = str(f.tagged_reply) ?? '';
      switch (name) {
        case 'CREATE':
          return ev('MAILBOX', 'imap.mailbox.created', { mailbox: mailbox ?? args });
        case 'DELETE':
          return ev('MAILBOX', 'imap.mailbox.removed', { mailbox: mailbox ?? args });
        case 'RENAME':
          return ev('MAILBOX', 'imap.mailbox.renamed', {
            mailbox: str(f.old_mailbox) ?? args.split(' ')[0] ?? null,
            newMailbox: str(f.new_mailbox) ?? args.split(' ')[1] ?? null,
          });
        case 'FETCH': {
          const scope = fetchScope(args);
          if (scope === null) return { ok: true, events: [] };
          return ev(scope === 'full' ? 'ACCESS' : 'PARTIAL', scope === 'full' ? 'imap.fetch' : 'imap.fetch.partial', {
            mailbox,
            messages: args.split(' ')[0] ?? null,
            fetchItems: args.slice((args.split(' ')[0] ?? '').length).trim(),
            uidCommand: /^UID /i.test(str(f.cmd_name) ?? '') ? 'true' : null,
          });
        }
        case 'APPEND': {
          const m = /\[APPENDUID (\d+) ([\d,:]+)\]/i.exec(reply);
          return ev('NEW_MAIL', 'imap.append', {
            mailbox,
            uidValidity: m?.[1] ?? null,
            uid: m?.[2] ?? null,
            source: 'appended',
          });
        }
        case 'COPY':
        case 'MOVE':
          return ev('NEW_MAIL', name === 'COPY' ? 'imap.copy' : 'imap.move', {
            mailbox: args.split(' ').slice(1).join(' ') || null,
            sourceMailbox: mailbox,
            messages: args.split(' ')[0] ?? null,
            source: name === 'COPY' ? 'copied from other mailbox' : 'moved from other mailbox',
          });
        case 'EXPUNGE':
          return removed('imap.expunge', { mailbox, uidSet: args || null });
        case 'RETR':
          return ev('ACCESS', 'pop3.retr', { mailbox, msgNumber: args });
        case 'TOP':
          return ev('PARTIAL', 'pop3.top', { mailbox, msgNumber: args.split(' ')[0] ?? null, portion: args });
        case 'DELE':
          return removed('pop3.dele', { mailbox, msgNumber: args });
        case 'LOGOUT':
        case 'QUIT':
          // The session's end (MAIL.md §7.1: LOGOUT → logoff): the encoder's IRI-END.
          return ev('LOGIN', `${proto}.logout`, { result: 'success' });
        default:
          return { ok: true, events: [] };
      }
    }
    case 'mail_delivery_finished': {
      const rcpt = str(f.rcpt_to) ?? user;
      const sender = addressOf(str(f.message_from));
      const parties: Party[] = [];
      if (sender) parties.push({ role: 'SENDER', type: 'EMAIL', value: sender });
      if (rcpt) parties.push({ role: 'RECIPIENT', type: 'EMAIL', value: rcpt });
      if (user) parties.push(...account(user));
      return {
        ok: true,
        events: [
          {
            ...base(service ?? 'lmtp'),
            category: 'NEW_MAIL',
            action: 'mail.delivered',
            parties,
            attributes: compact({
              ...common,
              mailbox: str(f.mailbox) ?? 'INBOX',
              messageId: str(f.message_id),
              size: str(f.message_size),
              source: 'incoming mail',
              result: str(f.error) ? 'failure' : 'success',
            }),
          },
        ],
      };
    }
    case 'smtp_server_transaction_finished': {
      if (num(f.status_code) !== 0 && num(f.status_code) >= 400) return { ok: true, events: [] };
      const from = addressOf(str(f.mail_from));
      const parties: Party[] = [...(from ? [{ role: 'SENDER' as const, type: 'EMAIL' as const, value: from }] : [])];
      parties.push(...account(user));
      return {
        ok: true,
        events: [
          {
            ...base(service ?? 'submission'),
            category: 'SENT_MAIL',
            action: 'submission.send',
            parties,
            attributes: compact({
              ...common,
              transactionId: str(f.transaction_id),
              recipientCount: str(f.recipients_succeeded) ?? str(f.recipients),
              size: str(f.data_size),
            }),
          },
        ],
      };
    }
    default:
      return { ok: true, events: [] };
  }
}

/** The report category of each generic event type (CommuniGate's report selection). */
const GENERIC_CATEGORY = {
  login: 'LOGIN',
  'mailbox.created': 'MAILBOX',
  'mailbox.removed': 'MAILBOX',
  'mailbox.renamed': 'MAILBOX',
  'message.stored': 'NEW_MAIL',
  'message.read': 'ACCESS',
  'message.partial': 'PARTIAL',
  'message.deleted': 'DELETED_MAIL',
  'message.sent': 'SENT_MAIL',
  'account.renamed': 'ACCOUNT',
  'account.removed': 'ACCOUNT',
  'im.message': 'SIGNALS',
} as const satisfies Record<GenericEventType, DecodedEvent['category']>;

const NEEDS_MAILBOX = new Set<GenericEventType>([
  'mailbox.created',
  'mailbox.renamed',
  'mailbox.removed',
  'message.stored',
  'message.read',
  'message.partial',
  'message.deleted',
]);

export function mapGenericEvent(e: GenericMailEvent): MapOutcome {
  const ts = timeToMicros(e.time);
  if (ts === null) return { ok: false, field: 'time', reason: 'time must be RFC 3339 or Unix seconds' };
  if (NEEDS_MAILBOX.has(e.type) && !e.mailbox)
    return { ok: false, field: 'mailbox', reason: `${e.type} needs mailbox` };
  if (e.type === 'mailbox.renamed' && !e.newMailbox) {
    return { ok: false, field: 'newMailbox', reason: 'mailbox.renamed needs newMailbox' };
  }
  if (e.type === 'account.renamed' && !e.newAccount) {
    return { ok: false, field: 'newAccount', reason: 'account.renamed needs newAccount' };
  }
  let content: Buffer | null = null;
  if (e.message !== undefined) {
    if (!/^[A-Za-z0-9+/\r\n]*={0,2}\s*$/.test(e.message)) {
      return { ok: false, field: 'message', reason: 'message must be base64' };
    }
    content = Buffer.from(e.message, 'base64');
  }
  const protocol = e.protocol ?? 'mail';
  const network =
    e.clientAddress && e.serverAddress
      ? {
          transport: 'tcp',
          srcAddress: e.clientAddress,
          srcPort: e.clientPort ?? 0,
          dstAddress: e.serverAddress,
          dstPort: e.serverPort ?? 0,
        }
      : null;
  const parties: Party[] = account(e.account);
  const attributes: Record<string, string | null | undefined> = {
    session: e.session,
    mailbox: e.mailbox,
    uid: e.uid,
    messageId: e.messageId,
    result: e.result,
  };
  const category = GENERIC_CATEGORY[e.type];
  let action: string = e.type;
  switch (e.type) {
    case 'login':
      action = e.result === 'failure' ? `${protocol}.login.failed` : `${protocol}.login`;
      break;
    case 'mailbox.created':
    case 'mailbox.removed':
    case 'mailbox.renamed':
      attributes.newMailbox = e.newMailbox;
      break;
    case 'message.stored':
      attributes.source = e.source;
      break;
    case 'message.partial':
      attributes.section = e.section;
      break;
    case 'message.sent':
      if (e.sender) parties.push({ role: 'SENDER', type: 'EMAIL', value: e.sender });
      for (const r of e.recipients ?? []) parties.push({ role: 'RECIPIENT', type: 'EMAIL', value: r });
      attributes.recipientCount = e.recipients ? `${e.recipients.length}` : null;
      break;
    case 'account.renamed':
      attributes.old = e.account;
      attributes.new = e.newAccount;
      parties.push({ role: 'OTHER', type: 'MAIL_ACCOUNT', value: e.newAccount ?? '' });
      break;
    case 'account.removed':
      attributes.account = e.account;
      break;
    case 'im.message':
      // The account sent or received it; sender and recipients are the chat addresses (JIDs).
      action = protocol.toLowerCase() === 'xmpp' ? 'xmpp.message' : 'im.message';
      if (e.sender) parties.push({ role: 'SENDER', type: 'EMAIL', value: e.sender });
      for (const r of e.recipients ?? []) parties.push({ role: 'RECIPIENT', type: 'EMAIL', value: r });
      break;
    case 'message.read':
    case 'message.deleted':
      break;
    default:
      e.type satisfies never;
  }
  return {
    ok: true,
    events: [
      {
        category,
        action,
        occurredAtMicros: ts,
        protocol,
        communicationId: e.session ? `mail:${e.session}` : `mail:${e.account}:${ts}`,
        parties,
        network,
        attributes: compact(attributes),
        content,
        contentType: content ? (e.type === 'im.message' ? 'text/plain; charset=utf-8' : 'message/rfc822') : null,
      },
    ],
  };
}
