// Which roles may do what inside their own tenant (the operator-wide admin acts in every tenant
// with admin's rights). The use cases check every call against this table; the console shows the
// same split. viewer is the SRE/helpdesk role: least privilege in an LI system means delivery
// health (LEMFs, their status) without any warrant, target, audit record or invoice, since the
// existence and number of interceptions is itself need-to-know.
import type { Caller, Role } from './model.ts';

export const MAY = {
  readTenant: ['admin', 'provisioner', 'auditor', 'viewer'],
  writeLemfs: ['admin'],
  readLemfs: ['admin', 'provisioner', 'viewer'],
  writeWarrants: ['provisioner'],
  readWarrants: ['provisioner'],
  readWarrantHistory: ['provisioner', 'auditor'],
  readAudit: ['auditor'],
  readBilling: ['admin', 'auditor'],
  orderBilling: ['admin', 'provisioner'],
  /** Moving a warrant to another tenant (seed 001 Art. 9 c.5); also needs tenant "*" (the operator). */
  transferWarrants: ['admin'],
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof MAY;

/** The permissions that change something (and write an audit record). */
export const WRITE_PERMISSIONS: readonly Permission[] = [
  'writeLemfs',
  'writeWarrants',
  'orderBilling',
  'transferWarrants',
];

/** Roles that never change anything: admf refuses their non-GET requests before reading a body. */
export const READ_ONLY_ROLES: readonly Role[] = ['viewer'];

/**
 * The decision for one call in one tenant: another tenant's data is "not-found" (its existence is
 * not disclosed), a wrong role in one's own tenant "forbidden".
 */
export function decide(
  caller: Caller,
  tenantId: string,
  roles: readonly Role[],
): 'allowed' | 'not-found' | 'forbidden' {
  const operatorAdmin = caller.tenant === '*' && caller.role === 'admin';
  if (caller.tenant !== tenantId && !operatorAdmin) return 'not-found';
  return roles.includes(caller.role) ? 'allowed' : 'forbidden';
}
