// Target identifier normalisation, shared by admf (warrant targets) and target-match (event
// parties) so that a target matches however the network writes it. Decisions:
// - E.164: canonical "+<cc><nsn>", separators ( -.()/ ) dropped, "00" read as the international
//   prefix; a national number needs the tenant's default country code and is read with that
//   country's numbering plan (libphonenumber-js: its trunk and international prefixes; Italy
//   keeps its leading 0). A configured national trunk prefix is stripped first.
// - IMSI: 14-15 digits. IMEI: 14 digits (TAC+SNR); a 15th Luhn check digit is verified and
//   dropped, IMEISV's 2 SV digits are dropped (TS 123 003 6.2).
// - SIP/SIPS: "sip:user@host" - scheme folded to sip, host lower case, port, password, URI
//   and user parameters and headers dropped; the user part keeps its case (RFC 3261 19.1.4)
//   except a telephone-subscriber user (user=phone, or a "+" global number) which becomes E.164.
// - TEL: "tel:+<E.164>"; it matches E.164 targets.
// - E-mail and mail accounts: both parts lower case. RFC 5321 lets the local part be case
//   sensitive, but CommuniGate (seed 000) and every mainstream server treat account names
//   case-insensitively, and a missed match is worse than an over-broad one on the same account.
// - IPv4/IPv6: canonical text (RFC 5952 for v6), prefixes "a.b.c.d/n" with host bits zeroed;
//   a full-length prefix is written as a plain address.
// - Provider account IDs are opaque: trimmed, case kept.
import { domainToASCII } from 'node:url';
import type { IdentifierType } from '@li/schemas';
import { type CountryCode, parsePhoneNumberFromString } from 'libphonenumber-js/core';
import phoneMetadata from 'libphonenumber-js/min/metadata';
import type { IpAddress, IpPrefix } from './ip.ts';
import { formatIpPrefix, formatIpv4, formatIpv6, parseIpAddress, parseIpPrefix } from './ip.ts';

export interface NormalizeOptions {
  /** Country calling code (digits, e.g. "39") used for national numbers. */
  defaultCountryCode?: string;
  /**
   * National trunk prefix to drop from national numbers before the numbering plan reads them;
   * the plan already knows each country's own (0 in Germany), so this is for a tenant's own dial plan.
   */
  nationalTrunkPrefix?: string;
}

export const IDENTIFIER_ERRORS = [
  'IDN_ERR_EMPTY',
  'IDN_ERR_E164',
  'IDN_ERR_NO_COUNTRY_CODE',
  'IDN_ERR_IMSI',
  'IDN_ERR_IMEI',
  'IDN_ERR_IMEI_CHECK_DIGIT',
  'IDN_ERR_SIP_URI',
  'IDN_ERR_TEL_URI',
  'IDN_ERR_EMAIL',
  'IDN_ERR_MAIL_ACCOUNT',
  'IDN_ERR_IPV4',
  'IDN_ERR_IPV6',
  'IDN_ERR_PROVIDER_ACCOUNT',
  'IDN_ERR_SIP_INSTANCE',
] as const;
export type IdentifierErrorCode = (typeof IDENTIFIER_ERRORS)[number];

export type NormalizeResult = { ok: true; value: string } | { ok: false; code: IdentifierErrorCode; reason: string };

const fail = (code: IdentifierErrorCode, reason: string): NormalizeResult => ({ ok: false, code, reason });
const ok = (value: string): NormalizeResult => ({ ok: true, value });

const SEPARATORS = /[\s\-.()/]/g;
const MAX_INPUT = 512;

// National numbers are read with libphonenumber-js's per-country trunk and international prefixes.
// Its "min" metadata (~80 kB) holds those prefixes and the national number patterns that parsing
// uses; "max" adds per-type patterns for isValid()/getType(), which nothing here calls.
/** Country calling code -> its main country ("1" -> US, "7" -> RU, "44" -> GB). */
const MAIN_COUNTRY = new Map<string, CountryCode>(
  Object.entries(phoneMetadata.country_calling_codes).flatMap(([cc, countries]) =>
    countries[0] ? [[cc, countries[0]] as const] : [],
  ),
);

// Reading a national number costs microseconds (libphonenumber-js) where the rest of matching
// costs nanoseconds, and the same subscribers recur on every event: remember recent answers.
const nationalCache = new Map<string, string | null>();

/** International digits (no "+") of a national number of `country`, or null. */
function readNational(national: string, country: CountryCode): string | null {
  const key = `${country}|${national}`;
  const hit = nationalCache.get(key);
  if (hit !== undefined) return hit;
  const digits = parsePhoneNumberFromString(national, country, phoneMetadata)?.number.slice(1) ?? null;
  if (nationalCache.size >= 4096) nationalCache.clear();
  nationalCache.set(key, digits);
  return digits;
}

export function normalizeE164(raw: string, opts: NormalizeOptions = {}): NormalizeResult {
  const t = raw.trim().replace(SEPARATORS, '');
  if (t === '') return fail('IDN_ERR_EMPTY', 'empty number');
  let digits: string;
  if (t.startsWith('+')) digits = t.slice(1);
  else if (t.startsWith('00')) digits = t.slice(2);
  else {
    if (!/^[0-9]+$/.test(t)) return fail('IDN_ERR_E164', 'number has characters other than digits and separators');
    const cc = opts.defaultCountryCode;
    if (!cc || !/^[1-9][0-9]{0,2}$/.test(cc)) {
      return fail('IDN_ERR_NO_COUNTRY_CODE', 'national number needs a default country code');
    }
    const country = MAIN_COUNTRY.get(cc);
    if (!country)
      return fail('IDN_ERR_NO_COUNTRY_CODE', 'default country code is not an assigned country calling code');
    // A configured trunk prefix is the tenant's word and goes first; the country's own
    // trunk (0 in Germany, 1 in the US, 8 in Russia) and international prefix (011 in the US)
    // come from the numbering plan. Italy has none: its leading 0 stays.
    const trunk = opts.nationalTrunkPrefix;
    const national = trunk && t.startsWith(trunk) ? t.slice(trunk.length) : t;
    const international = readNational(national, country);
    if (international === null) return fail('IDN_ERR_E164', 'not a telephone number of the default country');
    digits = international;
  }
  if (!/^[1-9][0-9]{2,14}$/.test(digits)) {
    return fail('IDN_ERR_E164', 'E.164 number must have 3 to 15 digits and no leading 0 after the country code');
  }
  return ok(`+${digits}`);
}

export function normalizeImsi(raw: string): NormalizeResult {
  const t = raw.trim().replace(/[\s-]/g, '');
  if (!/^[0-9]{14,15}$/.test(t)) return fail('IDN_ERR_IMSI', 'IMSI must have 14 or 15 digits');
  return ok(t);
}

export function normalizeImei(raw: string): NormalizeResult {
  const t = raw.trim().replace(/[\s\-/.]/g, '');
  if (!/^[0-9]{14,16}$/.test(t)) return fail('IDN_ERR_IMEI', 'IMEI must have 14 to 16 digits');
  if (t.length === 15 && luhnCheckDigit(t.slice(0, 14)) !== Number(t[14])) {
    return fail('IDN_ERR_IMEI_CHECK_DIGIT', 'IMEI check digit does not match');
  }
  return ok(t.slice(0, 14));
}

/** Luhn check digit over 14 IMEI digits (TS 123 003 Annex B). */
export function luhnCheckDigit(digits14: string): number {
  let sum = 0;
  for (let i = 0; i < digits14.length; i++) {
    let d = Number(digits14[i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return (10 - (sum % 10)) % 10;
}

interface ParsedSip {
  value: string;
  /** E.164 form of a telephone-subscriber user part, when it has one. */
  e164: string | null;
}

const HOST_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.?$/;

/** Lower case; internationalised names to their A-label (punycode) form, so both spellings match. */
function asciiDomain(d: string): string {
  const lower = d.toLowerCase();
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the ASCII range is the point
  if (/^[\u0000-\u007f]*$/.test(lower)) return lower;
  return domainToASCII(lower) || lower;
}

function normalizeHost(hostport: string): string | null {
  if (hostport.startsWith('[')) {
    const end = hostport.indexOf(']');
    if (end === -1) return null;
    const addr = parseIpAddress(hostport.slice(1, end));
    if (addr?.family !== 6) return null;
    return `[${formatIpv6(addr.bytes)}]`;
  }
  const colon = hostport.indexOf(':');
  if (colon !== hostport.lastIndexOf(':')) {
    // An IPv6 address without brackets: all of it is the address.
    const addr = parseIpAddress(hostport);
    return addr?.family === 6 ? `[${formatIpv6(addr.bytes)}]` : null;
  }
  const host = asciiDomain(colon === -1 ? hostport : hostport.slice(0, colon));
  if (host === '' || host.length > 253 || !HOST_NAME.test(host)) return null;
  return host.endsWith('.') ? host.slice(0, -1) : host;
}

function unwrapNameAddr(raw: string): string {
  const t = raw.trim();
  const lt = t.indexOf('<');
  if (lt !== -1) {
    const gt = t.indexOf('>', lt);
    if (gt !== -1) return t.slice(lt + 1, gt).trim();
  }
  return t;
}

function parseSip(raw: string, opts: NormalizeOptions): ParsedSip | string {
  const t = unwrapNameAddr(raw);
  const m = /^(sips?):/i.exec(t);
  if (!m) return 'SIP URI must start with sip: or sips:';
  let rest = t.slice(m[0].length);
  // '?' may appear in the user part (RFC 3261 §25.1); URI headers start at a '?' after the host.
  const q = rest.indexOf('?', Math.max(0, rest.indexOf('@')));
  if (q !== -1) rest = rest.slice(0, q);
  const at = rest.indexOf('@');
  if (at <= 0) return 'SIP URI needs a user part';
  let user = rest.slice(0, at);
  const hostAndParams = rest.slice(at + 1).split(';');
  const host = normalizeHost(hostAndParams[0] ?? '');
  if (!host) return 'SIP URI host is not a valid host name or address';
  const params = hostAndParams.slice(1).map((p) => p.toLowerCase());
  const userPhone = params.includes('user=phone');
  const pw = user.indexOf(':');
  if (pw !== -1) user = user.slice(0, pw);
  const userParams = user.split(';');
  user = userParams[0]!;
  try {
    user = decodeURIComponent(user);
  } catch {
    return 'SIP URI user part has a bad %-escape';
  }
  if (user === '' || /[\s<>@]/.test(user)) return 'SIP URI user part is empty or has forbidden characters';
  let e164: string | null = null;
  if (userPhone || /^\+[0-9\-.()]+$/.test(user)) {
    const ctx = userParams.find((p) => p.toLowerCase().startsWith('phone-context='));
    const n = normalizeE164(withPhoneContext(user, ctx), opts);
    if (n.ok) {
      e164 = n.value;
      user = n.value;
    }
  }
  return { value: `sip:${user}@${host}`, e164 };
}

/** A local number with phone-context=+cc (RFC 3966 5.1.5) becomes a global one. */
function withPhoneContext(num: string, ctxParam: string | undefined): string {
  if (num.startsWith('+') || !ctxParam) return num;
  const ctx = ctxParam.slice('phone-context='.length);
  if (/^\+[0-9\-.()]+$/.test(ctx)) return ctx + num;
  return num;
}

export function normalizeSipUri(raw: string, opts: NormalizeOptions = {}): NormalizeResult {
  const p = parseSip(raw, opts);
  return typeof p === 'string' ? fail('IDN_ERR_SIP_URI', p) : ok(p.value);
}

function telNumber(raw: string, opts: NormalizeOptions): NormalizeResult {
  const t = unwrapNameAddr(raw);
  const m = /^tel:/i.exec(t);
  if (!m) return fail('IDN_ERR_TEL_URI', 'TEL URI must start with tel:');
  const parts = t.slice(m[0].length).split(';');
  const ctx = parts.slice(1).find((p) => p.toLowerCase().startsWith('phone-context='));
  const n = normalizeE164(withPhoneContext(parts[0] ?? '', ctx), opts);
  return n.ok ? n : fail('IDN_ERR_TEL_URI', `TEL URI number: ${n.reason}`);
}

export function normalizeTelUri(raw: string, opts: NormalizeOptions = {}): NormalizeResult {
  const n = telNumber(raw, opts);
  return n.ok ? ok(`tel:${n.value}`) : n;
}

const LOCAL_PART = /^[^\s@<>()[\]\\,;:"]{1,64}$/;

export function normalizeEmail(raw: string): NormalizeResult {
  let t = unwrapNameAddr(raw);
  if (/^mailto:/i.test(t)) t = t.slice(7);
  const at = t.lastIndexOf('@');
  if (at <= 0) return fail('IDN_ERR_EMAIL', 'e-mail address needs local-part@domain');
  const local = t.slice(0, at);
  const domain = asciiDomain(t.slice(at + 1));
  if (!LOCAL_PART.test(local))
    return fail('IDN_ERR_EMAIL', 'e-mail local part is empty, too long or has forbidden characters');
  if (domain.length > 253 || !HOST_NAME.test(domain) || domain.endsWith('.')) {
    return fail('IDN_ERR_EMAIL', 'e-mail domain is not a valid host name');
  }
  return ok(`${local.toLowerCase()}@${domain}`);
}

export function normalizeMailAccount(raw: string): NormalizeResult {
  const t = raw.trim();
  if (t.includes('@')) {
    const e = normalizeEmail(t);
    return e.ok ? e : fail('IDN_ERR_MAIL_ACCOUNT', e.reason);
  }
  if (t === '' || t.length > 255 || /[\s<>()[\]\\,;:"]/.test(t)) {
    return fail('IDN_ERR_MAIL_ACCOUNT', 'account name is empty, too long or has forbidden characters');
  }
  return ok(t.toLowerCase());
}

export function normalizeProviderAccount(raw: string): NormalizeResult {
  const t = raw.trim();
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we refuse
  if (t === '' || t.length > 256 || /[\u0000-\u001f\u007f]/.test(t)) {
    return fail('IDN_ERR_PROVIDER_ACCOUNT', 'provider account ID is empty, longer than 256 or has control characters');
  }
  return ok(t);
}

const URN = /^urn:([a-z0-9][a-z0-9-]{0,31}):([^\s"<>]+)$/i;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * A SIP instance ID (RFC 5626 §4.1, the Contact parameter +sip.instance): a URN naming one
 * device, such as urn:uuid:<UUID> or urn:gsma:imei:<IMEI>. The parameter's quotes and angle
 * brackets are dropped. "urn", the namespace ID (RFC 8141) and a UUID (RFC 4122) are
 * case-insensitive, so they are lower-cased; any other namespace-specific string keeps its case.
 */
function normalizeSipInstance(raw: string): NormalizeResult {
  let t = raw.trim();
  if (t.length >= 2 && t.startsWith('"') && t.endsWith('"')) t = t.slice(1, -1).trim();
  if (t.length >= 2 && t.startsWith('<') && t.endsWith('>')) t = t.slice(1, -1).trim();
  const m = URN.exec(t);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we refuse
  if (!m || t.length > 256 || /[\u0000-\u001f\u007f]/.test(t)) {
    return fail('IDN_ERR_SIP_INSTANCE', 'SIP instance ID must be a URN, such as urn:uuid:<UUID> (RFC 5626)');
  }
  const nid = (m[1] as string).toLowerCase();
  const nss = nid === 'uuid' ? (m[2] as string).toLowerCase() : (m[2] as string);
  if (nid === 'uuid' && !UUID.test(nss)) return fail('IDN_ERR_SIP_INSTANCE', 'urn:uuid: must be followed by a UUID');
  return ok(`urn:${nid}:${nss}`);
}

function normalizeIpTarget(raw: string, family: 4 | 6): NormalizeResult {
  const code = family === 4 ? 'IDN_ERR_IPV4' : 'IDN_ERR_IPV6';
  const p = parseIpPrefix(raw, family);
  if (!p) return fail(code, `not an IPv${family} address or prefix`);
  if (family === 6 && p.length >= 96 && isV4MappedPrefix(p)) {
    return fail(code, 'IPv4-mapped IPv6 address: give it as IPV4');
  }
  return ok(formatIpPrefix(p));
}

function isV4MappedPrefix(p: IpPrefix): boolean {
  for (let i = 0; i < 10; i++) if (p.bytes[i] !== 0) return false;
  return p.bytes[10] === 0xff && p.bytes[11] === 0xff;
}

/** Normalise a warrant target. IPV4/IPV6 may be prefixes. */
export function normalizeTarget(type: IdentifierType, raw: string, opts: NormalizeOptions = {}): NormalizeResult {
  if (typeof raw !== 'string' || raw.trim() === '') return fail('IDN_ERR_EMPTY', 'identifier is empty');
  if (raw.length > MAX_INPUT) return fail('IDN_ERR_EMPTY', `identifier longer than ${MAX_INPUT} characters`);
  switch (type) {
    case 'E164':
      return normalizeE164(raw, opts);
    case 'IMSI':
      return normalizeImsi(raw);
    case 'IMEI':
      return normalizeImei(raw);
    case 'SIP_URI':
      return normalizeSipUri(raw, opts);
    case 'TEL_URI':
      return normalizeTelUri(raw, opts);
    case 'EMAIL':
      return normalizeEmail(raw);
    case 'MAIL_ACCOUNT':
      return normalizeMailAccount(raw);
    case 'IPV4':
      return normalizeIpTarget(raw, 4);
    case 'IPV6':
      return normalizeIpTarget(raw, 6);
    case 'PROVIDER_ACCOUNT':
      return normalizeProviderAccount(raw);
    case 'SIP_INSTANCE':
      return normalizeSipInstance(raw);
    default: {
      // exhaustive for the compiler; a type read from outside may still be unknown at run time
      const _exhaustive: never = type;
      return fail('IDN_ERR_EMPTY', 'unknown identifier type');
    }
  }
}

// ---- match keys -------------------------------------------------------------------------
// A key is "<space>|<canonical value>". E.164 and TEL share the "e164" space; e-mail addresses
// and mail accounts written as addresses share "mail", so either form finds the other.

export type TargetIndexEntry =
  | { kind: 'exact'; key: string }
  | { kind: 'prefix'; prefix: IpPrefix }
  /** An incomplete number (seed 001 Art. 9 c.1 e): matches every E.164 number starting with `number`. */
  | { kind: 'numberPrefix'; number: string };

/**
 * Fewest digits (country code included) an incomplete-number target may have: a shorter
 * prefix would cover a whole district or operator range, so admf refuses it and matching skips it.
 */
export const MIN_INCOMPLETE_NUMBER_DIGITS = 8;

/**
 * An incomplete number read like a full one (tenant's country code and trunk prefix, the
 * country's numbering plan), as "+<digits>", with at least MIN_INCOMPLETE_NUMBER_DIGITS digits.
 */
export function normalizeIncompleteNumber(raw: string, opts: NormalizeOptions = {}): NormalizeResult {
  if (typeof raw !== 'string' || raw.length > MAX_INPUT)
    return fail('IDN_ERR_E164', 'number is not text of at most 512 characters');
  const n = normalizeE164(raw, opts);
  if (!n.ok) return n;
  if (n.value.length - 1 < MIN_INCOMPLETE_NUMBER_DIGITS) {
    return fail(
      'IDN_ERR_E164',
      `an incomplete number needs at least ${MIN_INCOMPLETE_NUMBER_DIGITS} digits including the country code`,
    );
  }
  return n;
}

/** Where an already normalised target value goes in an index; null if it cannot be indexed. */
export function targetIndexEntry(
  type: IdentifierType,
  normalized: string,
  incomplete = false,
): TargetIndexEntry | null {
  if (incomplete) {
    // Only E.164 numbers can be incomplete; a record that says otherwise is not trusted to match.
    if (type !== 'E164' || !/^\+[1-9][0-9]*$/.test(normalized)) return null;
    const digits = normalized.length - 1;
    return digits >= MIN_INCOMPLETE_NUMBER_DIGITS && digits <= 15 ? { kind: 'numberPrefix', number: normalized } : null;
  }
  switch (type) {
    case 'E164':
      return { kind: 'exact', key: `e164|${normalized}` };
    case 'TEL_URI':
      return { kind: 'exact', key: `e164|${normalized.slice(4)}` };
    case 'IMSI':
      return { kind: 'exact', key: `imsi|${normalized}` };
    case 'IMEI':
      return { kind: 'exact', key: `imei|${normalized}` };
    case 'SIP_URI':
      return { kind: 'exact', key: `sip|${normalized}` };
    case 'EMAIL':
      return { kind: 'exact', key: `mail|${normalized}` };
    case 'MAIL_ACCOUNT':
      return { kind: 'exact', key: normalized.includes('@') ? `mail|${normalized}` : `acct|${normalized}` };
    case 'PROVIDER_ACCOUNT':
      return { kind: 'exact', key: `pacct|${normalized}` };
    case 'SIP_INSTANCE':
      return { kind: 'exact', key: `sipinst|${normalized}` };
    case 'IPV4':
    case 'IPV6': {
      const p = parseIpPrefix(normalized, type === 'IPV4' ? 4 : 6);
      if (!p) return null;
      const width = p.family === 4 ? 32 : 128;
      return p.length === width ? { kind: 'exact', key: ipKey(p) } : { kind: 'prefix', prefix: p };
    }
    default: {
      const _exhaustive: never = type;
      return null;
    }
  }
}

export function ipKey(a: IpAddress): string {
  return a.family === 4 ? `ip|${formatIpv4(a.bytes)}` : `ip|${formatIpv6(a.bytes)}`;
}

export interface PartyKeys {
  keys: string[];
  /** Set for IP addresses: the caller also looks the address up in its prefix structure. */
  ip: IpAddress | null;
}

/**
 * Index keys under which an event party (as the network wrote it) can find targets. Returns
 * null when the value cannot be read as its declared type; the event is still processed.
 */
export function partyKeys(type: IdentifierType, raw: string, opts: NormalizeOptions = {}): PartyKeys | null {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > MAX_INPUT) return null;
  if (type === 'IPV4' || type === 'IPV6') {
    const a = parseIpAddress(raw);
    return a ? { keys: [ipKey(a)], ip: a } : null;
  }
  if (type === 'SIP_URI') {
    const p = parseSip(raw, opts);
    if (typeof p === 'string') return null;
    return { keys: p.e164 ? [`sip|${p.value}`, `e164|${p.e164}`] : [`sip|${p.value}`], ip: null };
  }
  const n = normalizeTarget(type, raw, opts);
  if (!n.ok) return null;
  const e = targetIndexEntry(type, n.value);
  return e && e.kind === 'exact' ? { keys: [e.key], ip: null } : null;
}
