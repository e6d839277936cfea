// A warrant's end handed to the encoder instance that owns the LIID's communications (hi1.ts,
// WarrantEnd): a MatchedEvent on li.<t>.matched keyed by the LIID, so it reaches the owner of the
// LIID's partition, in line with the LIID's events. It names no target and carries no content.
import type { MatchedEvent } from '@li/schemas';
import type { WarrantEnd } from './hi1.ts';

const ACTION = 'li.warrant-ended';
const SOURCE = 'iri-encoder';

export function warrantEndEvent(tenant: string, end: WarrantEnd, nowMicros: number): MatchedEvent {
  return {
    liid: end.liid,
    tenant,
    authorisationCountry: end.authorisationCountry,
    warrantVersion: end.version,
    deliver: 'IRI_ONLY',
    lemfIds: [...end.lemfIds],
    matchedRoles: [],
    matchedAtMicros: nowMicros,
    matchedParties: [],
    courtCaseId: '',
    event: {
      eventId: `warrant:${end.authorisationCountry}:${end.liid}:${end.version}:ends`,
      tenant,
      // ACCOUNT: administrative, never selected by a warrant, so never taken for traffic.
      category: 'ACCOUNT',
      action: ACTION,
      occurredAtMicros: end.endMicros,
      source: SOURCE,
      protocol: 'LI',
      communicationId: '',
      parties: [],
      network: null,
      attributes: {},
      content: null,
      contentType: null,
    },
  };
}

/** The hand-over a matched record carries, or undefined for an intercepted event. */
export function warrantEndOf(m: MatchedEvent): WarrantEnd | undefined {
  if (m.event.action !== ACTION || m.event.source !== SOURCE || m.event.category !== 'ACCOUNT') return undefined;
  return {
    liid: m.liid,
    authorisationCountry: m.authorisationCountry,
    version: m.warrantVersion,
    endMicros: m.event.occurredAtMicros,
    lemfIds: [...m.lemfIds],
  };
}
