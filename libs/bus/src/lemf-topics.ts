// One topic per LEMF and stream, li.<tenant>.lemf.<lemfId>.<hi2|hi3|reports>: cc-delivery's router
// copies each record of li.<t>.hi2/hi3/reports into the topics of the LEMFs it is addressed to, so
// each LEMF's consumer reads only its own records. Under the tenant's li.<tenant>. prefix (its ACLs
// and isolation hold); `.lemf.` cannot clash with a stream topic (li.<t>.<stream> has three parts).
import { BusError } from './errors.ts';
import { validateTenant } from './topics.ts';

export const LEMF_STREAMS = ['hi2', 'hi3', 'reports'] as const;
export type LemfStream = (typeof LEMF_STREAMS)[number];

// admf's rule for LEMF ids: no dots, so li.<t>.lemf.<id>. is a prefix of this LEMF's topics only.
const LEMF_ID = /^[A-Za-z0-9_-]{1,64}$/;

export function validateLemfId(lemfId: string): string {
  if (typeof lemfId !== 'string' || !LEMF_ID.test(lemfId)) {
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

/** The parts of a per-LEMF topic name, or null for any other topic. */
export function parseLemfTopic(topic: string): { tenant: string; lemfId: string; stream: LemfStream } | null {
  const parts = topic.split('.');
  if (parts.length !== 5 || parts[0] !== 'li' || parts[2] !== 'lemf') return null;
  const [, tenant, , lemfId, stream] = parts as [string, string, string, string, string];
  try {
    return lemfTopicName(tenant, lemfId, stream as LemfStream) === topic
      ? { tenant, lemfId, stream: stream as LemfStream }
      : null;
  } catch {
    return null;
  }
}
