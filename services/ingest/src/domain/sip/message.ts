// Tolerant SIP message parser (RFC 3261 §7). A passive probe must not drop odd but usable
// traffic, so only what is needed to frame and identify a message is required: a start line
// and a header section. Header names are canonicalised (compact forms expanded, §7.3.3).
import type { IngestErrorCode } from '../../errors.ts';

export interface SipHeader {
  /** Lowercase full name (compact forms expanded). */
  name: string;
  value: string;
}

export type SipStartLine =
  | { kind: 'request'; method: string; uri: string; version: string }
  | { kind: 'response'; status: number; reason: string; version: string };

export interface SipMessage {
  start: SipStartLine;
  headers: SipHeader[];
  body: Buffer;
  /** The whole message as seen on the wire. */
  raw: Buffer;
}

export type SipParseResult = { ok: true; message: SipMessage } | { ok: false; code: IngestErrorCode; reason: string };

/** RFC 3261 §7.3.3 and later RFCs' compact forms (IANA SIP parameters registry). */
const COMPACT_FORMS: Readonly<Record<string, string>> = {
  a: 'accept-contact',
  b: 'referred-by',
  c: 'content-type',
  d: 'request-disposition',
  e: 'content-encoding',
  f: 'from',
  i: 'call-id',
  j: 'reject-contact',
  k: 'supported',
  l: 'content-length',
  m: 'contact',
  n: 'identity-info',
  o: 'event',
  r: 'refer-to',
  s: 'subject',
  t: 'to',
  u: 'allow-events',
  v: 'via',
  x: 'session-expires',
  y: 'identity',
};

export const MAX_HEADER_BYTES = 64 * 1024;
/** SIP bodies (SDP, multipart with ISUP, MESSAGE text) are small; larger ones are skipped, not buffered. */
export const MAX_BODY_BYTES = 1024 * 1024;
const MAX_HEADERS = 512;

const TOKEN = /^[A-Za-z0-9\-.!%*_+`'~]+$/;
const STATUS_LINE = /^SIP\/(\d+\.\d+)[ \t]+(\d{3})(?:[ \t]+(.*))?$/i;
const REQUEST_LINE = /^([A-Za-z0-9\-.!%*_+`'~]+)[ \t]+(\S+)[ \t]+SIP\/(\d+\.\d+)$/i;

function canonicalName(name: string): string {
  const n = name.toLowerCase();
  return COMPACT_FORMS[n] ?? n;
}

export function parseStartLine(line: string): SipStartLine | null {
  const s = line.trim();
  const st = STATUS_LINE.exec(s);
  if (st) return { kind: 'response', version: st[1] as string, status: Number(st[2]), reason: st[3] ?? '' };
  const rq = REQUEST_LINE.exec(s);
  if (rq)
    return { kind: 'request', method: (rq[1] as string).toUpperCase(), uri: rq[2] as string, version: rq[3] as string };
  return null;
}

/** Index just past the blank line ending the header section, or -1. Accepts bare LF line ends. */
export function findHeaderEnd(b: Buffer, from = 0): number {
  for (let i = b.indexOf(10, from); i >= 0; i = b.indexOf(10, i + 1)) {
    const n = b[i + 1];
    if (n === 10) return i + 2;
    if (n === 13 && b[i + 2] === 10) return i + 3;
  }
  return -1;
}

/** Parses the header section text (start line excluded); unfolds continuation lines (§7.3.1). */
function parseHeaders(text: string): SipHeader[] | null {
  const lines = text.split(/\r?\n/);
  const out: SipHeader[] = [];
  for (const line of lines) {
    if (line === '') continue;
    if (line[0] === ' ' || line[0] === '\t') {
      const last = out[out.length - 1];
      if (last) last.value = `${last.value} ${line.trim()}`.trim();
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue; // a line without a name is noise, not a reason to drop the message
    const name = line.slice(0, colon).trim();
    if (!TOKEN.test(name)) continue;
    out.push({ name: canonicalName(name), value: line.slice(colon + 1).trim() });
    if (out.length > MAX_HEADERS) return null;
  }
  return out;
}

export function header(m: SipMessage, name: string): string | undefined {
  for (const h of m.headers) if (h.name === name) return h.value;
  return undefined;
}

export function headerAll(m: SipMessage, name: string): string[] {
  const out: string[] = [];
  for (const h of m.headers) if (h.name === name) out.push(h.value);
  return out;
}

/** Splits a header value on commas outside quotes and angle brackets (§7.3.1 multiple values). */
export function splitValues(v: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < v.length; i++) {
    const ch = v[i];
    if (quoted) {
      if (ch === '\\') i++;
      else if (ch === '"') quoted = false;
    } else if (ch === '"') quoted = true;
    else if (ch === '<') depth++;
    else if (ch === '>') depth = Math.max(0, depth - 1);
    else if (ch === ',' && depth === 0) {
      out.push(v.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(v.slice(start).trim());
  return out.filter((x) => x !== '');
}

/** Content-Length as a number, null when absent, NaN when unusable. */
export function contentLength(headers: readonly SipHeader[]): number | null {
  for (const h of headers) {
    if (h.name === 'content-length') {
      if (!/^\d{1,10}$/.test(h.value)) return Number.NaN;
      return Number(h.value);
    }
  }
  return null;
}

/**
 * Content-Length from a raw header section without a full parse (the stream framer runs this
 * on every message). Same results as contentLength(parseHeaders(...)) for unfolded headers.
 */
export function scanContentLength(b: Buffer, end: number): number | null {
  for (let i = b.indexOf(10); i >= 0 && i + 1 < end; i = b.indexOf(10, i + 1)) {
    const c = (b[i + 1] as number) | 0x20;
    if (c !== 0x63 && c !== 0x6c) continue; // 'c' or 'l'
    const colon = b.indexOf(58, i + 1);
    if (colon < 0 || colon >= end) return null;
    const nl = b.indexOf(10, i + 1);
    if (nl >= 0 && nl < colon) continue;
    const name = canonicalName(b.toString('latin1', i + 1, colon).trim());
    if (name !== 'content-length') continue;
    const v = b.toString('latin1', colon + 1, nl < 0 ? end : nl).trim();
    return /^\d{1,10}$/.test(v) ? Number(v) : Number.NaN;
  }
  return null;
}

/**
 * Parses one complete message. For a datagram the body is what follows the header section,
 * cut to Content-Length when that is smaller (§18.3: extra bytes are discarded).
 */
export function parseMessage(raw: Buffer): SipParseResult {
  let s = 0;
  while (s < raw.length && (raw[s] === 13 || raw[s] === 10)) s++;
  const end = findHeaderEnd(raw, s);
  const headEnd = end < 0 ? raw.length : end;
  if (headEnd - s > MAX_HEADER_BYTES)
    return { ok: false, code: 'ING_ERR_SIP_TOO_LARGE', reason: 'header section too large' };
  const head = raw.toString('latin1', s, headEnd);
  const nl = head.indexOf('\n');
  const startText = nl < 0 ? head : head.slice(0, nl);
  // The reason phrase is UTF-8 (§25.1 TEXT-UTF8char); latin1 offsets above are octet offsets.
  const start = parseStartLine(raw.toString('utf8', s, s + startText.length));
  if (!start) return { ok: false, code: 'ING_ERR_SIP_START_LINE', reason: 'not a SIP start line' };
  // Header text is UTF-8 per §7.3.1; decode after framing so multi-byte characters survive.
  const headers = parseHeaders(raw.toString('utf8', s + (nl < 0 ? head.length : nl + 1), headEnd));
  if (!headers) return { ok: false, code: 'ING_ERR_SIP_HEADERS', reason: 'too many headers' };
  let body = end < 0 ? Buffer.alloc(0) : raw.subarray(end);
  const cl = contentLength(headers);
  if (cl !== null && !Number.isNaN(cl) && cl < body.length) body = body.subarray(0, cl);
  return {
    ok: true,
    message: { start, headers, body, raw: end < 0 ? raw.subarray(s) : raw.subarray(s, end + body.length) },
  };
}
