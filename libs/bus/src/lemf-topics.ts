// One topic per LEMF and stream, li.<tenant>.lemf.<lemfId>.<hi2|hi3|reports>: cc-delivery's router
// copies each record of li.<t>.hi2/hi3/reports into the topics of the LEMFs it is addressed to, so
// each LEMF's consumer reads only its own records. Under the tenant's li.<tenant>. prefix (its ACLs
// and isolation hold); `.lemf.` cannot clash with a stream topic (li.<t>.<stream> has three parts).
// Parsing (parseLemfTopic) is in @li/records, for domain code.
import { isLemfId, LEMF_STREAMS, type LemfStream } from '@li/records';
import { BusError } from './errors.ts';
import { validateTenant } from './topics.ts';

export function validateLemfId(lemfId: string): string {
  if (!isLemfId(lemfId)) {
    throw new BusError('BUS_ERR_STREAM', 'invalid LEMF id: expected 1-64 letters, digits, hyphens or underscores');
  }
  return lemfId;
}

/** The prefix of every per-LEMF topic of a tenant (its ACL is PREFIXED on this). */
export const lemfTopicPrefix = (tenant: string): string => `li.${validateTenant(tenant)}.lemf.`;

export function lemfTopicName(tenant: string, lemfId: string, stream: LemfStream): string {
  if (!(LEMF_STREAMS as readonly string[]).includes(stream)) {
    throw new BusError('BUS_ERR_STREAM', `not a LEMF stream: expected one of ${LEMF_STREAMS.join(', ')}`);
  }
  return `${lemfTopicPrefix(tenant)}${validateLemfId(lemfId)}.${stream}`;
}
