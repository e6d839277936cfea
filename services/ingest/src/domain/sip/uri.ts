// name-addr / addr-spec and SIP/SIPS/TEL URI user parts (RFC 3261 §20.10, §19.1; RFC 3966),
// turned into party identifiers. Hand-written because only the identity parts are needed and
// hostile input must never throw.
import { formatIpv6, parseIpAddress } from '@li/identifiers';
import type { IdentifierType } from '@li/schemas';

export interface NameAddr {
  display: string | null;
  uri: string;
  /** Header parameters after the address (e.g. ";tag=..."), without the leading ';'. */
  params: string;
}

export function parseNameAddr(value: string): NameAddr | null {
  const v = value.trim();
  if (v === '') return null;
  let quoted = false;
  for (let i = 0; i < v.length; i++) {
    const ch = v[i];
    if (quoted) {
      if (ch === '\\') i++;
      else if (ch === '"') quoted = false;
      continue;
    }
    if (ch === '"') quoted = true;
    else if (ch === '<') {
      const close = v.indexOf('>', i + 1);
      if (close < 0) return null;
      let display = v.slice(0, i).trim();
      if (display.startsWith('"') && display.endsWith('"') && display.length >= 2) {
        display = display.slice(1, -1).replace(/\\(.)/g, '$1');
      }
      const rest = v.slice(close + 1).trim();
      return {
        display: display === '' ? null : display,
        uri: v.slice(i + 1, close).trim(),
        params: rest.startsWith(';') ? rest.slice(1) : rest,
      };
    }
  }
  // addr-spec: parameters after the URI belong to the header, not the URI (§20.10).
  const semi = v.search(/[;\s]/);
  const uri = semi < 0 ? v : v.slice(0, semi);
  const rest = semi < 0 ? '' : v.slice(semi).trim();
  return { display: null, uri, params: rest.startsWith(';') ? rest.slice(1) : rest };
}

/** Value of a ;name=value parameter in a parameter string, case-insensitive name. */
export function paramValue(params: string, name: string): string | undefined {
  for (const p of params.split(';')) {
    const eq = p.indexOf('=');
    const k = (eq < 0 ? p : p.slice(0, eq)).trim().toLowerCase();
    if (k === name) return eq < 0 ? '' : p.slice(eq + 1).trim();
  }
  return undefined;
}

export interface UriIdentity {
  type: IdentifierType;
  value: string;
}

function percentDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Strips visual separators (RFC 3966 §5.1.1); returns +digits for a global number, else null. */
function globalNumber(s: string): string | null {
  const n = s.replace(/[-.()\s]/g, '');
  return /^\+\d{3,20}$/.test(n) ? n : null;
}

/**
 * Identities a URI names. sip/sips with a user → SIP_URI "sip:user@host" (sips is folded into
 * sip: the same subscriber, and a warrant names the person, not the transport security);
 * a global-number user part also gives E164. tel → TEL_URI and, if global, E164.
 */
export function uriIdentities(uri: string): UriIdentity[] {
  const colon = uri.indexOf(':');
  if (colon <= 0) return [];
  const scheme = uri.slice(0, colon).toLowerCase();
  const rest = uri.slice(colon + 1);
  if (scheme === 'tel') {
    const num = rest.split(';')[0]?.trim() ?? '';
    if (num === '') return [];
    const g = globalNumber(percentDecode(num));
    const out: UriIdentity[] = [{ type: 'TEL_URI', value: `tel:${g ?? percentDecode(num).replace(/[-.()\s]/g, '')}` }];
    if (g) out.push({ type: 'E164', value: g });
    return out;
  }
  if (scheme !== 'sip' && scheme !== 'sips') return [];
  // '?' may appear in the user part (§25.1 user-unreserved); headers start at a '?' after the host.
  const first = rest.indexOf('@');
  if (first <= 0) return [];
  const q = rest.indexOf('?', first);
  const at = rest.lastIndexOf('@', q < 0 ? rest.length : q);
  let userinfo = rest.slice(0, at);
  const pw = userinfo.indexOf(':');
  if (pw >= 0) userinfo = userinfo.slice(0, pw);
  const hostport = rest.slice(at + 1).split(/[;?]/)[0] ?? '';
  let host = hostport.toLowerCase();
  // Drop the port: an identity does not depend on where the UA listens.
  if (host.startsWith('[')) host = host.slice(0, host.indexOf(']') + 1);
  else if (host.indexOf(':') !== host.lastIndexOf(':')) {
    // An IPv6 address without brackets (seen from some UAs): all of it is the address, no port.
    const a = parseIpAddress(host);
    host = a?.family === 6 ? `[${formatIpv6(a.bytes)}]` : '';
  } else if (host.includes(':')) host = host.slice(0, host.lastIndexOf(':'));
  // User parameters (";npdi", ";rn=") qualify a number; they are not part of the identity.
  const user = percentDecode(userinfo.split(';')[0] ?? '');
  if (user === '' || host === '') return [];
  const out: UriIdentity[] = [{ type: 'SIP_URI', value: `sip:${user}@${host}` }];
  const g = globalNumber(user);
  if (g) out.push({ type: 'E164', value: g });
  return out;
}
