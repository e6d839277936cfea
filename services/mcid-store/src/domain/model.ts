// The MCID state as explicit key → value records, so the whole service state can live in a
// compacted topic (one record per key, null = tombstone) and a restart loses nothing.
import type { Clock } from '@li/core';
import type { DiversionService } from './sip.ts';

const ADMIN_STATES = ['LOCKED', 'UNLOCKED'] as const;
export type AdminState = (typeof ADMIN_STATES)[number];

const MCID_MODES = ['PERMANENT', 'TEMPORARY'] as const;
export type McidMode = (typeof MCID_MODES)[number];

/** Operator-provisioned MCID data of one subscriber (seed 003 §3.8.1). */
export interface Subscriber {
  tenant: string;
  /** Subscriber id: the identity key of the primary IMPU. */
  id: string;
  /** Every IMPU of the implicit registration set, as provisioned (sip:/tel: URIs). */
  identities: string[];
  mode: McidMode;
  terminating: boolean;
  /** Originating MCID (seed 003 §2: an MTAS addition; permanent mode only). */
  originating: boolean;
  updatedAtMicros: number;
}

/** Communication details captured from the initial INVITE (seed 003 §2.2). */
export interface CommunicationDetails {
  callId: string;
  requestUri: string;
  to: string;
  pAssertedIdentity: string[];
  from: string;
  contact: string[];
  historyInfo: string[];
  referredBy: string | null;
  privacy: string | null;
  /** icid-value of P-Charging-Vector, for correlation with charging records. */
  icid: string | null;
  inviteAtMicros: number;
}

export interface StoredCommunication {
  details: CommunicationDetails;
  /** MCID time stamp: UTC time the details were put in the latest store (first 180, else 200). */
  storedAtMicros: number;
  /** When the served user registered it as malicious (SSC or in-call request); absent = not yet. */
  registeredAtMicros?: number;
}

/** Temporary-mode store of one served user: the latest and the previous communication. */
export interface TemporaryStore {
  latest: StoredCommunication | null;
  previous: StoredCommunication | null;
}

type LegRole = 'TERMINATING' | 'ORIGINATING';

/** A communication in progress towards (or from) a served user. */
export interface Leg {
  subscriberId: string;
  role: LegRole;
  mode: McidMode;
  details: CommunicationDetails;
  alertedAtMicros: number | null;
  answeredAtMicros: number | null;
  /** Set once the details were put in the latest store / reported, so forks and retries do not repeat it. */
  captured: boolean;
}

export interface PendingCall {
  legs: Leg[];
  updatedAtMicros: number;
}

interface Registration {
  expiresAtMicros: number;
}

/** How the communication ended for the served user, when the report was made at its end. */
export type Outcome =
  | 'ALERTED'
  | 'ANSWERED'
  | 'DIVERTED'
  | 'DEFLECTED'
  | 'BUSY'
  | 'REJECTED'
  | 'BARRED'
  | 'CANCELLED'
  | 'FAILED';

export type ReportTrigger = 'PERMANENT' | 'SSC_LATEST' | 'SSC_PREVIOUS' | 'IN_CALL_REQUEST';

export interface McidReport {
  /** Deterministic: replaying the same input produces the same id (idempotent delivery). */
  reportId: string;
  tenant: string;
  subscriberId: string;
  servedUser: string;
  role: LegRole;
  mode: McidMode;
  trigger: ReportTrigger;
  details: CommunicationDetails;
  /** Permanent: time the initial INVITE was received; temporary: time the details were stored. */
  mcidTimestampMicros: number;
  /** When the served user invoked MCID (temporary mode), else null. */
  invokedAtMicros: number | null;
  outcome: Outcome | null;
  diversion: DiversionService | null;
  createdAtMicros: number;
}

/** The three SSC outcomes seed 003 §3.9 plays an announcement for. */
export type SscResult = 'SUCCESS' | 'ALREADY_REGISTERED' | 'NOT_ALLOWED';

/** The answer to one SSC invocation, keyed by the Call-ID of the SSC INVITE. */
export interface SscOutcome {
  tenant: string;
  /** Call-ID of the SSC INVITE the serving node answers. */
  callId: string;
  code: 'SSC_LATEST' | 'SSC_PREVIOUS';
  result: SscResult;
  /** Why NOT_ALLOWED: locked, not provisioned, not temporary mode, no stored communication. */
  reason: string | null;
  /** The announcement the serving node plays (tenant's setting for this result). */
  announcementId: string;
  subscriberId: string | null;
  /** The report this invocation made (SUCCESS), else null. */
  reportId: string | null;
  atMicros: number;
}

/** Every record type the state holds, by key prefix. */
export type StateValue =
  | { type: 'admin'; state: AdminState; updatedAtMicros: number }
  | { type: 'subscriber'; subscriber: Subscriber }
  | { type: 'alias'; subscriberId: string }
  | { type: 'store'; store: TemporaryStore }
  | { type: 'call'; call: PendingCall }
  | { type: 'registration'; registration: Registration }
  | { type: 'report'; report: McidReport; delivery: Delivery | null }
  | { type: 'ssc'; outcome: SscOutcome };

/** Where a report went; null until a sink confirmed it, so undelivered reports can be retried. */
export interface Delivery {
  via: 'CDS' | 'LOCAL';
  atMicros: number;
}

export interface Change {
  key: string;
  /** null deletes the key (a tombstone in the compacted topic). */
  value: StateValue | null;
}

/** Read access to the current state; the caller applies the returned changes. */
export interface StateView {
  get(key: string): StateValue | undefined;
  /** Keys starting with prefix, in any order. */
  keys(prefix: string): Iterable<string>;
}

/** Record keys. Tenant ids are validated by the caller (topic naming rules), ids are identity keys. */
export const keys = {
  globalAdmin: () => 'admin/global',
  tenantAdmin: (tenant: string) => `admin/tenant/${tenant}`,
  subscriber: (tenant: string, id: string) => `sub/${tenant}/${id}`,
  subscriberPrefix: (tenant: string) => `sub/${tenant}/`,
  alias: (tenant: string, identity: string) => `alias/${tenant}/${identity}`,
  store: (tenant: string, id: string) => `store/${tenant}/${id}`,
  call: (tenant: string, callId: string) => `call/${tenant}/${callId}`,
  callPrefix: () => 'call/',
  registration: (tenant: string, id: string) => `reg/${tenant}/${id}`,
  registrationPrefix: () => 'reg/',
  report: (tenant: string, reportId: string) => `report/${tenant}/${reportId}`,
  reportPrefix: (tenant: string) => `report/${tenant}/`,
  ssc: (tenant: string, callId: string) => `ssc/${tenant}/${callId}`,
  sscPrefix: (tenant = '') => (tenant ? `ssc/${tenant}/` : 'ssc/'),
};

/** The per-id key kinds, spelled as their key's first segment. */
type KeyKind = 'admin' | 'sub' | 'alias' | 'store' | 'call' | 'reg' | 'report' | 'ssc';

/**
 * The same strings as `keys`, each built once per memo: a template string is a fresh rope that
 * every Map lookup flattens and hashes again, while a string reused keeps its hash. One per
 * engine apply (a handful of keys, so a linear scan); not for long-lived use, it only grows.
 */
export class KeyMemo {
  private readonly built: string[] = [];

  private key(kind: KeyKind, tenant: string, id: string): string {
    const b = this.built;
    for (let i = 0; i < b.length; i += 4) if (b[i] === kind && b[i + 1] === tenant && b[i + 2] === id) return b[i + 3]!;
    const k = `${kind}/${tenant}/${id}`;
    b.push(kind, tenant, id, k);
    return k;
  }

  // 'admin/tenant/<t>' has the shape of a per-id key with kind 'admin' and tenant 'tenant'.
  tenantAdmin(tenant: string): string {
    return this.key('admin', 'tenant', tenant);
  }
  subscriber(tenant: string, id: string): string {
    return this.key('sub', tenant, id);
  }
  alias(tenant: string, identity: string): string {
    return this.key('alias', tenant, identity);
  }
  store(tenant: string, id: string): string {
    return this.key('store', tenant, id);
  }
  call(tenant: string, callId: string): string {
    return this.key('call', tenant, callId);
  }
  registration(tenant: string, id: string): string {
    return this.key('reg', tenant, id);
  }
  report(tenant: string, reportId: string): string {
    return this.key('report', tenant, reportId);
  }
  ssc(tenant: string, callId: string): string {
    return this.key('ssc', tenant, callId);
  }
}

/** State times are microseconds since the epoch; the Clock counts milliseconds. */
export function nowMicros(clock: Clock): number {
  return clock.now() * 1000;
}
