// What a topic name says: a tenant's stream li.<tenant>.<stream>, a system topic, or one LEMF's
// queue li.<tenant>.lemf.<id>.<stream>. Parsing only; @li/bus builds the names and refuses bad
// ones with its error codes, from the same rules.

export const STREAMS = [
  'warrants',
  'lemfs',
  'events',
  'matched',
  // calls whose media ingest captures (target-match writes, ingest follows): docs/ARCHITECTURE.md
  'taps',
  'hi2',
  'hi3',
  'reports',
  'encoder-state',
  'delivery-state',
  'mcid',
  'audit',
  'dlq',
] as const;
export type Stream = (typeof STREAMS)[number];

/**
 * Topics that belong to no tenant. Their names contain an underscore, which no tenant id can,
 * so they can never collide with a tenant's li.<tenant>. prefix.
 */
export const SYSTEM_TOPICS = {
  /** The tenant registry, written by admf. */
  tenants: 'li._system.tenants',
  /** The MCID service's global administrative state. */
  mcid: 'li._system.mcid',
} as const;
export type SystemTopic = (typeof SYSTEM_TOPICS)[keyof typeof SYSTEM_TOPICS];

// Lower-case letters, digits and inner hyphens; no dots or underscores, so that one tenant's
// prefix can never be a prefix of another's topics (li.a. vs li.a.b.).
const TENANT = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/;

export const isTenantId = (tenant: unknown): tenant is string => typeof tenant === 'string' && TENANT.test(tenant);

export type ParsedTopic =
  | { tenant: string; stream: Stream; system?: undefined }
  | { system: SystemTopic; tenant?: undefined; stream?: undefined };

/** What a topic name is: a tenant's stream (li.<tenant>.<stream>), a system topic, or neither (undefined). */
export function parseTopic(topic: string): ParsedTopic | undefined {
  if ((Object.values(SYSTEM_TOPICS) as string[]).includes(topic)) return { system: topic as SystemTopic };
  const parts = topic.split('.');
  if (parts.length !== 3 || parts[0] !== 'li') return undefined;
  const [, tenant, stream] = parts as [string, string, string];
  if (!(STREAMS as readonly string[]).includes(stream) || !isTenantId(tenant)) return undefined;
  return { tenant, stream: stream as Stream };
}

/** The streams cc-delivery's router copies into each LEMF's own queue. */
export const LEMF_STREAMS = ['hi2', 'hi3', 'reports'] as const;
export type LemfStream = (typeof LEMF_STREAMS)[number];

// admf's rule for LEMF ids: no dots, so li.<t>.lemf.<id>. is a prefix of this LEMF's topics only.
const LEMF_ID = /^[A-Za-z0-9_-]{1,64}$/;

export const isLemfId = (lemfId: unknown): lemfId is string => typeof lemfId === 'string' && LEMF_ID.test(lemfId);

/** The parts of a per-LEMF topic name, or null for any other topic. */
export function parseLemfTopic(topic: string): { tenant: string; lemfId: string; stream: LemfStream } | null {
  const parts = topic.split('.');
  if (parts.length !== 5 || parts[0] !== 'li' || parts[2] !== 'lemf') return null;
  const [, tenant, , lemfId, stream] = parts as [string, string, string, string, string];
  if (!isTenantId(tenant) || !isLemfId(lemfId) || !(LEMF_STREAMS as readonly string[]).includes(stream)) return null;
  return { tenant, lemfId, stream: stream as LemfStream };
}
