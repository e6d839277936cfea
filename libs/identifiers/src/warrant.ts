import type { Warrant } from '@li/schemas';

// LIIDs are unique per tenant *and authorising country*, so the LIID alone cannot key a
// warrant: "<country>:<LIID>" is the key of li.<t>.warrants records and of every index.
export function warrantKey(w: { authorisationCountry: string; liid: string }): string {
  return `${w.authorisationCountry}:${w.liid}`;
}

/**
 * Whether a warrant authorises interception at time t (µs since epoch): it is ACTIVE (not
 * suspended or deactivated) and t lies in [validFrom, validUntil). Both admf's scheduler and
 * target-match use this one definition, so a scheduled start or end needs nobody to act.
 */
export function isWarrantActiveAt(
  w: Pick<Warrant, 'state' | 'validFromMicros' | 'validUntilMicros'>,
  tMicros: number,
): boolean {
  return w.state === 'ACTIVE' && w.validFromMicros <= tMicros && tMicros < w.validUntilMicros;
}
