// Who may do what on the bus: the one description of every service's access, from which the
// ACLs of each deployment are generated (the local infra and tests apply them through the admin
// API; Kubernetes manifests render the same grants as KafkaUser resources). A deployment gets
// exactly the topics of its own tenants that it reads or writes, its own consumer groups and
// transactional ids, and nothing else.

import type { Stream, SystemTopic } from '@li/records';
import { lemfTopicPrefix } from './lemf-topics.ts';
import { deploymentGroupId, topicName, validateTenant } from './topics.ts';

export const SERVICES = ['admf', 'ingest', 'target-match', 'iri-encoder', 'cc-delivery', 'mcid-store'] as const;
export type ServiceName = (typeof SERVICES)[number];

export type AclResource = 'TOPIC' | 'GROUP' | 'TRANSACTIONAL_ID';
export type AclPattern = 'LITERAL' | 'PREFIXED';
/** Kafka operations; READ and WRITE imply DESCRIBE. */
export type AclOperation = 'READ' | 'WRITE' | 'CREATE' | 'DESCRIBE' | 'DELETE';

export interface Grant {
  resource: AclResource;
  pattern: AclPattern;
  name: string;
  operations: readonly AclOperation[];
}

interface ServiceAccess {
  /** Streams of each served tenant it consumes (READ). */
  reads: readonly Stream[];
  /** Streams of each served tenant it produces to (WRITE). */
  writes: readonly Stream[];
  /** System topics it reads and writes (and creates). */
  system: readonly SystemTopic[];
  /** System topics it only reads (and creates if missing, so it can start before admf wrote any). */
  systemReads?: readonly SystemTopic[];
  /**
   * `deployment`: one consumer group per deployment (`deploymentGroupId`) plus ids under it for
   * transactions; `per-tenant`: groups under `li.<service>.<tenant>.` (cc-delivery: one per LEMF).
   */
  groups: 'deployment' | 'per-tenant' | 'none';
}

/** The description. admf is the operator's service and is not tenant-scoped (see operatorGrants). */
export const ACCESS: Record<Exclude<ServiceName, 'admf'>, ServiceAccess> = {
  // taps: followed whole by tailTopics (ephemeral groups), to know which calls' media to capture
  ingest: { reads: ['taps'], writes: ['events', 'dlq'], system: [], groups: 'none' },
  'target-match': {
    reads: ['events', 'warrants'],
    writes: ['matched', 'taps', 'dlq'],
    system: [],
    // The tenant registry: each tenant's numbering plan for reading national numbers.
    systemReads: ['li._system.tenants'],
    groups: 'deployment',
  },
  'iri-encoder': {
    reads: ['matched', 'warrants', 'lemfs', 'encoder-state'],
    // matched: a warrant's end handed to the instance owning the LIID's communications.
    writes: ['hi2', 'hi3', 'reports', 'encoder-state', 'matched', 'dlq'],
    system: [],
    groups: 'deployment',
  },
  'cc-delivery': {
    reads: ['hi2', 'hi3', 'reports', 'lemfs', 'delivery-state'],
    writes: ['delivery-state', 'dlq'],
    system: [],
    groups: 'per-tenant',
  },
  'mcid-store': {
    reads: ['events', 'mcid'],
    writes: ['mcid', 'dlq'],
    system: ['li._system.mcid'],
    groups: 'deployment',
  },
};

/**
 * Groups that readTopic and tailTopics make for one read (a random UUID after the prefix, never
 * committed): every principal may use them; they carry no offsets and no other member.
 */
export const EPHEMERAL_GROUP_PREFIXES = ['li-read-', 'li-tail-'] as const;

const ephemeralGroups = (): Grant[] =>
  EPHEMERAL_GROUP_PREFIXES.map((name) => ({ resource: 'GROUP', pattern: 'PREFIXED', name, operations: ['READ'] }));

/** The grants of one deployment of a tenant-scoped service serving `tenants`. */
export function deploymentGrants(service: Exclude<ServiceName, 'admf'>, tenants: readonly string[]): Grant[] {
  const access = ACCESS[service];
  if (!access) throw new Error(`unknown service ${service}`);
  if (tenants.length === 0) throw new Error('a deployment serves at least one tenant');
  if (service === 'ingest' && tenants.length !== 1) throw new Error('an ingest deployment serves exactly one tenant');
  const grants: Grant[] = [];
  for (const t of tenants) {
    validateTenant(t);
    for (const stream of new Set([...access.reads, ...access.writes])) {
      const ops: AclOperation[] = ['CREATE'];
      if (access.reads.includes(stream)) ops.push('READ');
      if (access.writes.includes(stream)) ops.push('WRITE');
      grants.push({ resource: 'TOPIC', pattern: 'LITERAL', name: topicName(t, stream), operations: ops });
    }
    if (access.groups === 'per-tenant') {
      // cc-delivery: its tenant router and one group per LEMF; a removed LEMF's group is deleted
      grants.push({
        resource: 'GROUP',
        pattern: 'PREFIXED',
        name: `li.${service}.${t}.`,
        operations: ['READ', 'DELETE'],
      });
      // the router's transactions (lemf-topics.ts): one id per input partition
      grants.push({
        resource: 'TRANSACTIONAL_ID',
        pattern: 'PREFIXED',
        name: `li.${service}.${t}.`,
        operations: ['WRITE'],
      });
      // the per-LEMF topics it routes into, reads, and deletes with their LEMF
      grants.push({
        resource: 'TOPIC',
        pattern: 'PREFIXED',
        name: lemfTopicPrefix(t),
        operations: ['CREATE', 'READ', 'WRITE', 'DELETE'],
      });
    }
  }
  for (const topic of access.system) {
    grants.push({ resource: 'TOPIC', pattern: 'LITERAL', name: topic, operations: ['CREATE', 'READ', 'WRITE'] });
  }
  for (const topic of access.systemReads ?? []) {
    grants.push({ resource: 'TOPIC', pattern: 'LITERAL', name: topic, operations: ['CREATE', 'READ'] });
  }
  if (access.groups === 'deployment') {
    const group = deploymentGroupId(service, tenants);
    grants.push({ resource: 'GROUP', pattern: 'LITERAL', name: group, operations: ['READ'] });
    // Tenant ids have no dots, so `<group>.` is a prefix of this deployment's ids only.
    grants.push({ resource: 'TRANSACTIONAL_ID', pattern: 'PREFIXED', name: `${group}.`, operations: ['WRITE'] });
  }
  if (access.reads.length > 0 || (access.systemReads ?? []).length > 0) grants.push(...ephemeralGroups());
  return grants;
}

/** admf administers every tenant: all `li.` topics (the system topics too), its group and transactional ids. */
export function operatorGrants(): Grant[] {
  return [
    { resource: 'TOPIC', pattern: 'PREFIXED', name: 'li.', operations: ['CREATE', 'READ', 'WRITE'] },
    { resource: 'GROUP', pattern: 'LITERAL', name: 'li.admf', operations: ['READ'] },
    { resource: 'GROUP', pattern: 'PREFIXED', name: 'li.admf.', operations: ['READ'] },
    { resource: 'TRANSACTIONAL_ID', pattern: 'PREFIXED', name: 'li.admf.', operations: ['WRITE'] },
    ...ephemeralGroups(),
  ];
}

/** Whether a grant concerns this tenant: its topics, or a group or id naming it in a deployment's list. */
export function grantMentionsTenant(grant: Pick<Grant, 'resource' | 'name'>, tenant: string): boolean {
  validateTenant(tenant);
  if (grant.resource === 'TOPIC') return grant.name.startsWith(`li.${tenant}.`);
  // li.<service>.<t1>+<t2>… or li.<service>.<t>.<lemf>; a hashed list cannot be matched by name.
  const m = /^li\.[a-z-]+\.([a-z0-9+-]+)(?:\.|$)/.exec(grant.name);
  return m !== null && m[1]!.split('+').includes(tenant);
}
