// admf's own records beside the shared Warrant/LemfDestination types of @li/schemas.
import type { Caller } from '@li/auth';
import type { AuditRecord, LemfDestination, Tenant, Warrant } from '@li/schemas';

// Callers and roles are shared with the other APIs (@li/auth). A caller with tenant "*" is an
// operator-wide admin (the only one who may create tenants); mailserver tokens may do nothing here.
export type { Caller, Role } from '@li/auth';

/** Actions nobody performs by hand (schedule, account events) are recorded under this actor. */
interface SystemActor {
  subject: string;
  role: 'system';
}
export type Actor = Caller | SystemActor;

export type { AuditRecord, Tenant } from '@li/schemas';

/** Everything one API call changes; the store writes it atomically (one Kafka transaction). */
export interface StoreChanges {
  tenants?: Tenant[];
  lemfs?: LemfDestination[];
  lemfRemovals?: { tenant: string; id: string }[];
  warrants?: Warrant[];
  audit?: AuditRecord[];
}

/**
 * A store that may not write now (another instance is the writer); nothing was written, unless
 * a commit lost its answer (the message says so).
 */
export class StoreNotWritable extends Error {
  override name = 'StoreNotWritable';
}

/** The port admf persists through. Reads come from the state the store materialised. */
export interface WarrantStore {
  getTenant(id: string): Promise<Tenant | undefined>;
  listTenants(): Promise<Tenant[]>;
  getLemf(tenant: string, id: string): Promise<LemfDestination | undefined>;
  listLemfs(tenant: string): Promise<LemfDestination[]>;
  /** key = warrantKey(): "<country>:<LIID>". */
  getWarrant(tenant: string, key: string): Promise<Warrant | undefined>;
  listWarrants(tenant: string): Promise<Warrant[]>;
  listAudit(tenant: string): Promise<AuditRecord[]>;
  auditHead(tenant: string): Promise<{ seq: number; hash: string } | null>;
  commit(changes: StoreChanges): Promise<void>;
}
