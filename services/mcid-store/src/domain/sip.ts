// What the MCID service reads from a SIP NormalizedEvent. The raw message (event.content) is
// preferred because it keeps every header instance in order (seed 003 §2.2 captures "Contact
// headers", "History-Info headers"); the ingest attributes are the fallback.
import type { NormalizedEvent } from '@li/schemas';

/**
 * The fields of a NormalizedEvent mcid-store reads: the events consumer decodes only these (the
 * others, e.g. parties and network, are skipped in the bytes), so the domain takes this type.
 */
export const MCID_EVENT_FIELDS = [
  'tenant',
  'category',
  'action',
  'occurredAtMicros',
  'protocol',
  'communicationId',
  'attributes',
  'content',
  'contentType',
] as const satisfies readonly (keyof NormalizedEvent)[];

export type McidEvent = Pick<NormalizedEvent, (typeof MCID_EVENT_FIELDS)[number]>;

/** Compact header forms (RFC 3261 §7.3.3, RFC 3892 for Referred-By). */
const COMPACT: Record<string, string> = {
  f: 'from',
  t: 'to',
  m: 'contact',
  i: 'call-id',
  b: 'referred-by',
  l: 'content-length',
  c: 'content-type',
};

/** Attribute names ingest uses for the headers, keyed by lower-case header name. */
const ATTRIBUTE_OF: Record<string, string> = {
  'p-asserted-identity': 'pai',
};

interface SipView {
  kind: 'request' | 'response';
  method: string;
  status: number;
  requestUri: string;
  /** Header name (lower case) → values in message order, one per header line. */
  headers: Map<string, string[]>;
  body: string;
}

const CR = 13;
const SP = 32;
const HTAB = 9;
const DQUOTE = 34;
const BACKSLASH = 92;
const LT = 60;
const GT = 62;
const COMMA = 44;
/** 'i', the compact form of Call-ID. */
const I_LOWER = 105;

/** Header names as written → their lower-case long form; bounded, as names come from the network. */
const NAMES = new Map<string, string>();

function headerName(written: string): string {
  let name = NAMES.get(written);
  if (name === undefined) {
    const lower = written.trim().toLowerCase();
    name = COMPACT[lower] ?? lower;
    if (NAMES.size < 512) NAMES.set(written, name);
  }
  return name;
}

/** A SIP message's start line; its headers (from `headersAt` of `text`) not yet read. */
interface SipStart {
  kind: 'request' | 'response';
  method: string;
  status: number;
  requestUri: string;
  text: string;
  /** Where the first header line starts; -1 when the text is the start line alone. */
  headersAt: number;
}

const isDigit = (c: number) => c >= 48 && c <= 57;
const isLetter = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);

/** The start line of raw SIP text; null when it is not SIP. No header is read. */
function parseSipStart(text: string): SipStart | null {
  const nl = text.indexOf('\n');
  let end = nl < 0 ? text.length : nl;
  // A line followed by \n lost only the \n: drop the \r of its \r\n.
  if (nl >= 0 && end > 0 && text.charCodeAt(end - 1) === CR) end--;
  const start = text.slice(0, end);
  const headersAt = nl < 0 ? -1 : nl + 1;
  // The usual forms read in place; anything else (other spacing, case) by the regexes.
  if (
    start.startsWith('SIP/2.0 ') &&
    isDigit(start.charCodeAt(8)) &&
    isDigit(start.charCodeAt(9)) &&
    isDigit(start.charCodeAt(10))
  ) {
    const status = (start.charCodeAt(8) - 48) * 100 + (start.charCodeAt(9) - 48) * 10 + (start.charCodeAt(10) - 48);
    return { kind: 'response', method: '', status, requestUri: '', text, headersAt };
  }
  const sp1 = start.indexOf(' ');
  const sp2 = sp1 > 0 ? start.indexOf(' ', sp1 + 1) : -1;
  if (sp2 > sp1 + 1 && start.startsWith('SIP/2.0', sp2 + 1)) {
    let plain = true;
    for (let i = 0; i < sp1 && plain; i++) plain = isLetter(start.charCodeAt(i));
    for (let i = sp1 + 1; i < sp2 && plain; i++) {
      const c = start.charCodeAt(i);
      plain = c > SP && c < 127;
    }
    if (plain) {
      const method = start.slice(0, sp1).toUpperCase();
      return { kind: 'request', method, status: 0, requestUri: start.slice(sp1 + 1, sp2), text, headersAt };
    }
  }
  const resp = /^SIP\/2\.0\s+(\d{3})/i.exec(start);
  if (resp) return { kind: 'response', method: '', status: Number(resp[1]), requestUri: '', text, headersAt };
  const req = /^([A-Z]+)\s+(\S+)\s+SIP\/2\.0/i.exec(start);
  if (!req) return null;
  return { kind: 'request', method: req[1]!.toUpperCase(), status: 0, requestUri: req[2]!, text, headersAt };
}

/**
 * The header lines from `from` up to the first empty line, unfolded, by lower-case long name,
 * and where the body starts (-1 without an empty line: no body).
 */
function parseHeaders(text: string, from: number): { headers: Map<string, string[]>; bodyAt: number } {
  const headers = new Map<string, string[]>();
  let last: string[] | null = null;
  if (from < 0) return { headers, bodyAt: -1 };
  // Line by line by index, no array of lines.
  while (from <= text.length) {
    const nl = text.indexOf('\n', from);
    let end = nl < 0 ? text.length : nl;
    const next = nl < 0 ? text.length + 1 : nl + 1;
    if (nl >= 0 && end > from && text.charCodeAt(end - 1) === CR) end--;
    if (end === from && nl >= 0) return { headers, bodyAt: next }; // the empty line
    const lineFrom = from;
    from = next;
    const c0 = text.charCodeAt(lineFrom);
    if ((c0 === SP || c0 === HTAB) && last !== null && last.length > 0) {
      // Header folding (RFC 3261 §7.3.1): continuation of the previous value.
      last[last.length - 1] = `${last[last.length - 1]} ${text.slice(lineFrom, end).trim()}`;
      continue;
    }
    const colon = text.indexOf(':', lineFrom);
    if (colon <= lineFrom || colon >= end) continue;
    const name = headerName(text.slice(lineFrom, colon));
    const value = text.slice(colon + 1, end).trim();
    let list = headers.get(name);
    if (list === undefined) {
      list = [];
      headers.set(name, list);
    }
    list.push(value);
    last = list;
  }
  return { headers, bodyAt: -1 };
}

/**
 * Whether head[from, to) is the header name `name` (lower-case long form) or its compact form,
 * as headerName() would say: plain ASCII names are compared in place, anything else (spaces
 * around, other characters) goes through headerName.
 */
function isHeaderName(head: string, from: number, to: number, name: string, compact: number): boolean {
  const n = to - from;
  let plain = true;
  for (let i = from; i < to; i++) {
    const c = head.charCodeAt(i);
    if (c <= SP || c > 127) {
      plain = false;
      break;
    }
  }
  if (!plain) return headerName(head.slice(from, to)) === name;
  if (n === 1) return (head.charCodeAt(from) | 0x20) === compact;
  if (n !== name.length) return false;
  for (let i = 0; i < n; i++) {
    let c = head.charCodeAt(from + i);
    if (c >= 65 && c <= 90) c |= 0x20;
    if (c !== name.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * The first value of one header, as parseHeaders() gives it (unfolded, trimmed), without
 * reading the other headers; null when there is no such header line.
 * `compact` is the char code of the header's compact form, 0 for none.
 */
function firstHeaderValue(text: string, from: number, name: string, compact: number): string | null {
  if (from < 0) return null;
  let value: string | null = null;
  let seenHeader = false;
  while (from <= text.length) {
    const nl = text.indexOf('\n', from);
    let end = nl < 0 ? text.length : nl;
    const next = nl < 0 ? text.length + 1 : nl + 1;
    if (nl >= 0 && end > from && text.charCodeAt(end - 1) === CR) end--;
    if (end === from && nl >= 0) break; // the empty line: the body follows
    const lineFrom = from;
    from = next;
    const c0 = text.charCodeAt(lineFrom);
    if ((c0 === SP || c0 === HTAB) && seenHeader) {
      if (value !== null) value = `${value} ${text.slice(lineFrom, end).trim()}`;
      continue;
    }
    const colon = text.indexOf(':', lineFrom);
    if (colon <= lineFrom || colon >= end) continue;
    // The next header line ends the value found (no more folding onto it).
    if (value !== null) return value;
    seenHeader = true;
    if (isHeaderName(text, lineFrom, colon, name, compact)) value = text.slice(colon + 1, end).trim();
  }
  return value;
}

/** Splits raw SIP text into start line, headers (unfolded) and body; null when it is not SIP. */
export function parseSipText(text: string): SipView | null {
  // Plain string scans instead of regex splits and replaces: this runs for every SIP event.
  const s = parseSipStart(text);
  if (s === null) return null;
  const h = parseHeaders(text, s.headersAt);
  return {
    kind: s.kind,
    method: s.method,
    status: s.status,
    requestUri: s.requestUri,
    headers: h.headers,
    body: h.bodyAt < 0 ? '' : text.slice(h.bodyAt),
  };
}

/** Splits one header line holding several comma-separated values, ignoring commas in <> and quotes. */
export function splitHeaderList(value: string): string[] {
  // Slices between the separating commas (no string built a character at a time); most
  // header lines hold one value and no comma at all.
  if (!value.includes(',')) {
    const only = value.trim();
    return only ? [only] : [];
  }
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let from = 0;
  for (let i = 0; i < value.length; i++) {
    const ch = value.charCodeAt(i);
    if (ch === DQUOTE && value.charCodeAt(i - 1) !== BACKSLASH) quoted = !quoted;
    else if (!quoted && ch === LT) depth++;
    else if (!quoted && ch === GT) depth = Math.max(0, depth - 1);
    else if (ch === COMMA && depth === 0 && !quoted) {
      const part = value.slice(from, i).trim();
      if (part) out.push(part);
      from = i + 1;
    }
  }
  const last = value.slice(from).trim();
  if (last) out.push(last);
  return out;
}

/**
 * Event-level accessor over a SIP NormalizedEvent. The raw message's headers are read when
 * first asked for: the Call-ID and CSeq alone (all a response or an in-dialog request needs,
 * most of the traffic) are found in place without reading the others.
 */
export class SipEvent {
  readonly event: McidEvent;
  /** The raw message, its headers unread; null without SIP text (the attributes are used). */
  private readonly msg: SipStart | null;
  /** The raw message's headers once read (parseHeaders), and where its body starts. */
  private lines: Map<string, string[]> | undefined;
  private bodyAt = -1;
  /** header('call-id') and header('cseq') found in place, before the headers were read. */
  private callIdValue: string | null | undefined;
  private cseqValue: string | null | undefined;
  /** headers() per lower-case name: the engine asks for the same headers several times per event. */
  private read: Map<string, string[]> | undefined;

  constructor(event: McidEvent) {
    this.event = event;
    let msg: SipStart | null = null;
    if (event.content && event.content.length > 0) {
      msg = parseSipStart(event.content.toString('utf8'));
    }
    this.msg = msg;
  }

  get callId(): string {
    return this.header('call-id') ?? this.event.communicationId;
  }

  /** Method of a request, or the method a response answers (from CSeq). */
  get method(): string {
    if (this.msg?.kind === 'request') return this.msg.method;
    const attr = this.event.attributes.method;
    if (attr) return attr.toUpperCase();
    const cseq = this.header('cseq');
    if (cseq) return (cseq.split(/\s+/)[1] ?? '').toUpperCase();
    return this.event.action.replace(/^sip\./, '').toUpperCase();
  }

  get isResponse(): boolean {
    if (this.msg) return this.msg.kind === 'response';
    return this.event.action === 'sip.response';
  }

  get status(): number {
    if (this.msg?.kind === 'response') return this.msg.status;
    const n = Number(this.event.attributes.status);
    return Number.isInteger(n) ? n : 0;
  }

  get cseqMethod(): string {
    const cseq = this.header('cseq');
    return (cseq?.split(/\s+/)[1] ?? this.event.attributes.method ?? '').toUpperCase();
  }

  get requestUri(): string {
    if (this.msg?.kind === 'request') return this.msg.requestUri;
    return this.event.attributes['request-uri'] ?? '';
  }

  get body(): string {
    const m = this.msg;
    if (m === null) return '';
    this.readLines();
    return this.bodyAt < 0 ? '' : m.text.slice(this.bodyAt);
  }

  /** First value of a header. */
  header(name: string): string | null {
    const key = name.toLowerCase();
    if (this.lines === undefined && this.msg !== null) {
      // Found in place; when the message has no such line, the full read falls back to the attributes.
      if (key === 'call-id') {
        if (this.callIdValue === undefined)
          this.callIdValue = firstHeaderValue(this.msg.text, this.msg.headersAt, key, I_LOWER);
        if (this.callIdValue !== null) return this.callIdValue;
      } else if (key === 'cseq') {
        if (this.cseqValue === undefined) this.cseqValue = firstHeaderValue(this.msg.text, this.msg.headersAt, key, 0);
        if (this.cseqValue !== null) return this.cseqValue;
      }
    }
    return this.headers(key)[0] ?? null;
  }

  /**
   * Every value of a header, one per header instance and per comma-separated entry. The same
   * array for every call with that name: callers must not change it (state values keep it).
   */
  headers(name: string): string[] {
    const key = name.toLowerCase();
    // Made on first use: a response needs none (its Call-ID and CSeq are found in place).
    this.read ??= new Map();
    let values = this.read.get(key);
    if (values === undefined) {
      values = this.readHeaders(key);
      this.read.set(key, values);
    }
    return values;
  }

  private readLines(): void {
    if (this.lines !== undefined || this.msg === null) return;
    const h = parseHeaders(this.msg.text, this.msg.headersAt);
    this.lines = h.headers;
    this.bodyAt = h.bodyAt;
  }

  private readHeaders(key: string): string[] {
    this.readLines();
    const lines = this.lines?.get(key);
    const single = key === 'to' || key === 'from' || key === 'call-id' || key === 'cseq' || key === 'referred-by';
    if (lines && lines.length > 0) {
      if (single) return lines;
      // Most headers come once: no flatMap and its arrays for one line.
      return lines.length === 1 ? splitHeaderList(lines[0]!) : lines.flatMap(splitHeaderList);
    }
    const attr = this.event.attributes[ATTRIBUTE_OF[key] ?? key];
    if (attr === undefined || attr === '') return [];
    const parts = attr.includes('\n') ? attr.split(/\r?\n/).filter((s) => s.trim() !== '') : [attr];
    return single ? parts : parts.flatMap(splitHeaderList);
  }
}

/** The URI inside a name-addr (`"x" <sip:a@b>;tag=1`) or addr-spec (`sip:a@b;tag=1`). */
export function uriOf(value: string): string {
  const lt = value.indexOf('<');
  if (lt >= 0) {
    const gt = value.indexOf('>', lt);
    return value.slice(lt + 1, gt < 0 ? undefined : gt).trim();
  }
  // addr-spec form: header parameters follow the first ';' after the URI (RFC 3261 §20.10).
  return upTo(value, ';').trim();
}

/** Header parameters after the name-addr (e.g. `tag`, `purpose`, `index`). */
export function headerParams(value: string): Map<string, string> {
  const gt = value.lastIndexOf('>');
  const tail = gt >= 0 ? value.slice(gt + 1) : value.slice(value.indexOf(';') < 0 ? value.length : value.indexOf(';'));
  return parseParams(tail);
}

/** URI parameters (`;user=phone;cause=302`) of a SIP URI, excluding the header part. */
export function uriParams(uri: string): Map<string, string> {
  const q = uri.indexOf('?');
  const noHeaders = q >= 0 ? uri.slice(0, q) : uri;
  const semi = noHeaders.indexOf(';');
  return semi < 0 ? new Map() : parseParams(noHeaders.slice(semi));
}

/** URI headers (`?Reason=SIP%3Bcause%3D302`) decoded. */
function uriHeaders(uri: string): Map<string, string> {
  const out = new Map<string, string>();
  const q = uri.indexOf('?');
  if (q < 0) return out;
  for (const pair of uri.slice(q + 1).split('&')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    out.set(pair.slice(0, eq).toLowerCase(), safeDecode(pair.slice(eq + 1)));
  }
  return out;
}

function parseParams(s: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of s.split(';')) {
    const p = part.trim();
    if (!p) continue;
    const eq = p.indexOf('=');
    if (eq < 0) out.set(p.toLowerCase(), '');
    else
      out.set(
        p.slice(0, eq).trim().toLowerCase(),
        p
          .slice(eq + 1)
          .trim()
          .replace(/^"|"$/g, ''),
      );
  }
  return out;
}

function safeDecode(s: string): string {
  if (!s.includes('%')) return s; // nothing to decode: most URIs, and decodeURIComponent is not cheap
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * The user part of a SIP/tel URI, percent-decoded, without user parameters
 * (`tel:*57;phone-context=x` → `*57`, `sip:%2A57@d;user=dialstring` → `*57`).
 */
export function dialString(uri: string): string {
  const u = uriOf(uri);
  const m = /^(sips?|tel):(.*)$/i.exec(u);
  if (!m) return '';
  const rest = m[2]!;
  const at = rest.indexOf('@');
  const userPart = m[1]!.toLowerCase() === 'tel' ? rest : at >= 0 ? rest.slice(0, at) : '';
  return safeDecode(userPart.split(';')[0] ?? '');
}

/**
 * A comparable identity for a SIP or tel URI: telephone numbers (tel URIs, or SIP user parts
 * that are numbers) become `tel:<digits>` so `sip:+4930123@d;user=phone` equals
 * `tel:+49-30-123`; other SIP URIs become `sip:user@host` lower-cased.
 * Returns '' when the value holds no usable URI.
 */
export function identityKey(value: string): string {
  // Remembered: the same request URIs and callers recur (a subscriber's calls), and keying one
  // takes regexes and several strings. Bounded: cleared when full.
  let k = IDENTITY_KEYS.get(value);
  if (k === undefined) {
    k = keyIdentity(value);
    if (IDENTITY_KEYS.size >= IDENTITY_KEYS_MAX) IDENTITY_KEYS.clear();
    IDENTITY_KEYS.set(value, k);
  }
  return k;
}

const IDENTITY_KEYS = new Map<string, string>();
const IDENTITY_KEYS_MAX = 4096;

function keyIdentity(value: string): string {
  const u = uriOf(value);
  const m = /^(sips?|tel):([^?]*)/i.exec(u);
  if (!m) return '';
  const scheme = m[1]!.toLowerCase();
  const rest = m[2]!;
  if (scheme === 'tel') {
    const num = withoutVisualSeparators(safeDecode(upTo(rest, ';')));
    return num ? `tel:${num}` : '';
  }
  const at = rest.indexOf('@');
  const user = at >= 0 ? safeDecode(upTo(upTo(rest.slice(0, at), ';'), ':')) : '';
  const hostPart = at >= 0 ? rest.slice(at + 1) : rest;
  const host = upTo(upTo(hostPart, ';'), ':').toLowerCase();
  const digits = withoutVisualSeparators(user);
  if (/^\+?\d{3,}$/.test(digits)) return `tel:${digits}`;
  if (!host) return '';
  return user ? `sip:${user}@${host}` : `sip:${host}`;
}

/** The text before the first `ch` (all of it without one): a split's first part, without the array. */
function upTo(s: string, ch: string): string {
  const i = s.indexOf(ch);
  return i < 0 ? s : s.slice(0, i);
}

const VISUAL_SEPARATOR = /[-.()\s]/;
const VISUAL_SEPARATORS = /[-.()\s]/g;

/** A number without its visual separators (RFC 3966); most numbers have none. */
function withoutVisualSeparators(s: string): string {
  return VISUAL_SEPARATOR.test(s) ? s.replace(VISUAL_SEPARATORS, '') : s;
}

interface HistoryEntry {
  uri: string;
  index: string;
  /** RFC 4458 `cause` URI parameter: why the request was retargeted to this entry. */
  cause: number | null;
  /** RFC 7044 Reason in the URI headers of the entry that was retargeted away from. */
  reasonCause: number | null;
}

export function parseHistoryInfo(values: string[]): HistoryEntry[] {
  return values.map((v) => {
    const uri = uriOf(v);
    const cause = Number(uriParams(uri).get('cause'));
    const reason = uriHeaders(uri).get('reason') ?? '';
    const rc = /cause=(\d+)/i.exec(reason);
    return {
      uri,
      index: headerParams(v).get('index') ?? '',
      cause: Number.isInteger(cause) && cause > 0 ? cause : null,
      reasonCause: rc ? Number(rc[1]) : null,
    };
  });
}

/** Communication diversion services (TS 24.604) as distinguished by the RFC 4458 cause values. */
export type DiversionService = 'CFU' | 'CFB' | 'CFNR' | 'CFNL' | 'CD' | 'CFNRc';

export function diversionOfCause(cause: number | null): DiversionService | null {
  switch (cause) {
    case 302:
      return 'CFU';
    case 486:
      return 'CFB';
    case 408:
      return 'CFNR';
    case 404:
      return 'CFNL';
    case 480: // deflection, immediate response
    case 487: // deflection during alerting
      return 'CD';
    case 503:
      return 'CFNRc';
    default:
      return null;
  }
}
