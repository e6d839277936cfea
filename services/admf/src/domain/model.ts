// admf's own records beside the shared Warrant/LemfDestination types of @li/schemas.
import type { LemfDestination, Warrant } from '@li/schemas';

export const ROLES = ['admin', 'provisioner', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

/** Who is acting. tenant "*" is an operator-wide admin (the only one who may create tenants). */
export interface Caller {
  subject: string;
  tenant: string;
  role: Role;
}

/** Actions nobody performs by hand (schedule, account events) are recorded under this actor. */
export interface SystemActor {
  subject: string;
  role: 'system';
}
export type Actor = Caller | SystemActor;

export interface Tenant {
  id: string;
  name: string;
  /** Country calling code for national numbers in targets and events, e.g. "39". */
  defaultCountryCode: string;
  /** Trunk prefix dropped from national numbers (null for Italy, which keeps its leading 0). */
  nationalTrunkPrefix: string | null;
  version: number;
  createdAtMicros: number;
}

export type AuditObjectType = 'TENANT' | 'LEMF' | 'WARRANT';

/**
 * One audit entry (li.<t>.audit). before/after are canonical JSON of the object (null when it did
 * not exist / no longer exists). prevHash/hash chain the entries of one tenant: hash is SHA-256
 * over the canonical JSON of every other field, prevHash the previous entry's hash.
 */
export interface AuditRecord {
  tenant: string;
  seq: number;
  atMicros: number;
  actor: string;
  role: string;
  action: string;
  objectType: AuditObjectType;
  objectId: string;
  before: string | null;
  after: string | null;
  reason: string | null;
  prevHash: string;
  hash: string;
}

/** Everything one API call changes; the store writes it atomically (one Kafka transaction). */
export interface StoreChanges {
  tenants?: Tenant[];
  lemfs?: LemfDestination[];
  lemfRemovals?: { tenant: string; id: string }[];
  warrants?: Warrant[];
  audit?: AuditRecord[];
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

export interface Clock {
  nowMicros(): number;
}
