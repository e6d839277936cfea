// Applies the access description (access.ts) to a broker through the admin API: grants for a
// principal, and revocation of everything that concerns a tenant when it is removed.
import type { AclEntry, Admin } from 'kafkajs';
import kafkajs from 'kafkajs';
import { type Grant, grantMentionsTenant } from './access.ts';

// kafkajs is CommonJS: its enums are properties of the default export, not named exports.
const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } = kafkajs;

/** `User:<name>`: how Kafka names a SCRAM (or mapped certificate) principal. */
export const principalOf = (username: string) => `User:${username}`;

export function aclEntries(principal: string, grants: readonly Grant[]): AclEntry[] {
  return grants.flatMap((g) =>
    g.operations.map((op) => ({
      principal: principalOf(principal),
      host: '*',
      operation: AclOperationTypes[op],
      permissionType: AclPermissionTypes.ALLOW,
      resourceType: AclResourceTypes[g.resource],
      resourceName: g.name,
      resourcePatternType: ResourcePatternTypes[g.pattern],
    })),
  );
}

/**
 * Adds the grants (creating an ACL that exists already changes nothing) and returns once the
 * broker enforces them: with KRaft the controller commits an ACL before the broker has applied
 * it, and a client started at once was refused (TOPIC_AUTHORIZATION_FAILED on a loaded machine).
 */
export async function applyGrants(
  admin: Admin,
  principal: string,
  grants: readonly Grant[],
  timeoutMs = 30_000,
): Promise<number> {
  const acl = aclEntries(principal, grants);
  if (acl.length === 0) return 0;
  await admin.createAcls({ acl });
  const key = (resourceType: number, name: string, pattern: number, operation: number) =>
    `${resourceType} ${pattern} ${name} ${operation}`;
  const wanted = new Set(acl.map((a) => key(a.resourceType, a.resourceName, a.resourcePatternType, a.operation)));
  const deadline = Date.now() + timeoutMs;
  for (let wait = 20; ; wait = Math.min(wait * 2, 500)) {
    const seen = await admin.describeAcls({ ...ANY_FILTER, principal: principalOf(principal) });
    const missing = new Set(wanted);
    for (const r of seen.resources)
      for (const a of r.acls) missing.delete(key(r.resourceType, r.resourceName, r.resourcePatternType, a.operation));
    if (missing.size === 0) return acl.length;
    if (Date.now() > deadline)
      throw new Error(`${missing.size} of ${acl.length} ACLs of ${principal} not in force after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, wait));
  }
}

const ANY_FILTER = {
  resourceType: AclResourceTypes.ANY,
  resourcePatternType: ResourcePatternTypes.ANY,
  operation: AclOperationTypes.ANY,
  permissionType: AclPermissionTypes.ANY,
} as const;

/**
 * Deletes every ACL whose resource concerns the tenant (its topics, the groups and transactional
 * ids of deployments that list it), for every principal. Returns how many were deleted.
 */
export async function revokeTenant(admin: Admin, tenant: string): Promise<number> {
  const all = await admin.describeAcls(ANY_FILTER);
  const types: Record<number, Grant['resource'] | undefined> = {
    [AclResourceTypes.TOPIC]: 'TOPIC',
    [AclResourceTypes.GROUP]: 'GROUP',
    [AclResourceTypes.TRANSACTIONAL_ID]: 'TRANSACTIONAL_ID',
  };
  const filters = all.resources
    .filter((r) => {
      const resource = types[r.resourceType];
      return resource !== undefined && grantMentionsTenant({ resource, name: r.resourceName }, tenant);
    })
    .map((r) => ({
      ...ANY_FILTER,
      resourceType: r.resourceType,
      resourceName: r.resourceName,
      resourcePatternType: r.resourcePatternType,
    }));
  if (filters.length === 0) return 0;
  const res = await admin.deleteAcls({ filters });
  return res.filterResponses.reduce((n, f) => n + f.matchingAcls.length, 0);
}

/** Deletes every ACL of a principal (its deployment is gone). */
export async function revokePrincipal(admin: Admin, username: string): Promise<number> {
  const res = await admin.deleteAcls({ filters: [{ ...ANY_FILTER, principal: principalOf(username) }] });
  return res.filterResponses.reduce((n, f) => n + f.matchingAcls.length, 0);
}
