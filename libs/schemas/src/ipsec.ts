// Rules on a LEMF's IPsec settings that admf (400) and cc-delivery (refuses to deliver) apply
// alike. The profiles are fixed tables in cc-delivery (domain/ipsec-profile.ts); here only names.
import type { IpsecSettings, LemfDestination } from './types.ts';

/** it-annex2: the Italian Annex 2 table (seed 001); modern: IKEv2 with certificates. */
export const IPSEC_PROFILES = ['modern', 'it-annex2'] as const;
export type IpsecProfile = (typeof IPSEC_PROFILES)[number];

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const IPV6 = /^[0-9A-Fa-f:.]{2,45}$/;
const HOST = /^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/;
/** An IKE identity swanctl takes as a plain value (no quotes, commas or braces to break out of it). */
const IKE_ID = /^[A-Za-z0-9@._:=\- ]{1,128}$/;

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

/** A CIDR (`a.b.c.d/n` or an IPv6 prefix) as a traffic selector, or null. */
export function parseCidr(s: string): { v4: boolean; base: string; bits: number } | null {
  if (typeof s !== 'string') return null;
  const [base = '', bitsText, extra] = s.split('/');
  if (extra !== undefined || bitsText === undefined || !/^\d{1,3}$/.test(bitsText)) return null;
  const bits = Number(bitsText);
  if (IPV4.test(base)) return bits <= 32 ? { v4: true, base, bits } : null;
  if (base.includes(':') && IPV6.test(base)) return bits <= 128 ? { v4: false, base, bits } : null;
  return null;
}

/** Whether IPv4 address `ip` lies in `cidr`; null when either is not IPv4 (not checked). */
export function inCidr(ip: string, cidr: string): boolean | null {
  const c = parseCidr(cidr);
  if (!c?.v4 || !IPV4.test(ip)) return null;
  const mask = c.bits === 0 ? 0 : (~0 << (32 - c.bits)) >>> 0;
  return (ipv4ToInt(ip) & mask) >>> 0 === (ipv4ToInt(c.base) & mask) >>> 0;
}

/** The first problem of a LEMF's IPsec settings, as the field and why; null when usable. */
export function ipsecProblem(
  dest: Pick<LemfDestination, 'address' | 'ccAddress'> & { ipsec?: IpsecSettings | null },
): { field: string; reason: string } | null {
  const s = dest.ipsec;
  if (!s) return null;
  const bad = (field: string, reason: string) => ({ field: `ipsec.${field}`, reason });
  if (!IPSEC_PROFILES.includes(s.profile as IpsecProfile))
    return bad('profile', `must be one of ${IPSEC_PROFILES.join(', ')}`);
  if (typeof s.gateway !== 'string' || !(IPV4.test(s.gateway) || IPV6.test(s.gateway) || HOST.test(s.gateway)))
    return bad('gateway', 'must be the address or host name of the LEMF IPsec gateway');
  if (s.localAddress != null && !(IPV4.test(s.localAddress) || IPV6.test(s.localAddress)))
    return bad('localAddress', 'must be an IP address');
  for (const k of ['localTs', 'remoteTs'] as const) {
    const ts: unknown = s[k];
    if (!Array.isArray(ts) || ts.length === 0 || ts.length > 16 || !ts.every((t) => parseCidr(t) !== null))
      return bad(k, 'must list 1-16 subnets in CIDR form (10.0.0.0/24)');
  }
  for (const k of ['localId', 'remoteId'] as const) {
    const v = s[k];
    if (v != null && (typeof v !== 'string' || !IKE_ID.test(v)))
      return bad(k, 'must be 1-128 of A-Z a-z 0-9 @ . _ : = - and space');
  }
  if (s.profile === 'it-annex2') {
    if (!s.pskRef) return bad('pskRef', 'it-annex2 authenticates with a pre-shared key: name its secret');
  } else {
    for (const k of ['certRef', 'keyRef', 'caRef'] as const)
      if (!s[k]) return bad(k, 'modern authenticates with certificates: name our certificate, key and the CA');
    if (s.pskRef) return bad('pskRef', 'modern uses certificates, not a pre-shared key');
  }
  // A delivery address outside the tunnel's selectors would not take the tunnel.
  for (const [field, e] of [
    ['address', dest.address],
    ['ccAddress', dest.ccAddress],
  ] as const) {
    if (!e) continue;
    const inside = s.remoteTs.map((t) => inCidr(e.host, t));
    if (inside.every((x) => x === false))
      return { field: `${field}.host`, reason: 'lies outside ipsec.remoteTs: it would not take the tunnel' };
  }
  return null;
}
