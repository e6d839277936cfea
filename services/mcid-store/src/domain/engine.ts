// The MCID service logic (seed 003): apply(state, event) → { changes, reports }. Pure: all
// time comes from the events (or the tick's `now`), all state from the StateView.
import { hash } from 'node:crypto';
import { historyInfoFromDiversion } from './diversion.ts';
import type {
  AdminState,
  Change,
  CommunicationDetails,
  Leg,
  McidReport,
  Outcome,
  PendingCall,
  ReportTrigger,
  SscOutcome,
  SscResult,
  StateValue,
  StateView,
  StoredCommunication,
  Subscriber,
  TemporaryStore,
} from './model.ts';
import { KeyMemo, keys } from './model.ts';
import type { DiversionService, McidEvent } from './sip.ts';
import {
  dialString,
  diversionOfCause,
  headerParams,
  identityKey,
  parseHistoryInfo,
  SipEvent,
  uriOf,
  uriParams,
} from './sip.ts';

/** The read side the lookups need; the transaction overlay provides it too. */
type Reader = Pick<StateView, 'get'>;

export interface DomainConfig {
  /** Supplementary-service codes (dial strings) that register the latest / previous communication. */
  ssc: { latest: string[]; previous: string[] };
  /** Final responses that mean incoming barring / anonymous rejection rejected the call (TS 24.611, RFC 5079). */
  barredStatuses: number[];
  /** Permanent mode: also report attempts that ICB/ACR rejected (operator policy, off by default). */
  reportBarredAttempts: boolean;
  /** A pending call with no final response for this long is dropped by tick(). */
  pendingCallTtlSeconds: number;
  /**
   * Seed 003 §2.2 non-3GPP interworking: an initial INVITE with Diversion headers and no
   * History-Info is captured with the diversions rewritten as History-Info.
   */
  diversionToHistoryInfo: boolean;
  /** Seed 003 §3.9: the announcement the serving node plays for each SSC outcome, per tenant. */
  sscAnnouncements: { default: SscAnnouncements; tenants: Record<string, Partial<SscAnnouncements>> };
  /** SSC outcome records are dropped by tick() after this long. */
  sscOutcomeTtlSeconds: number;
}

interface SscAnnouncements {
  success: string;
  alreadyRegistered: string;
  notAllowed: string;
}

export const DEFAULT_DOMAIN_CONFIG: DomainConfig = {
  ssc: { latest: ['*57'], previous: ['*57*2'] },
  barredStatuses: [433, 603],
  reportBarredAttempts: false,
  pendingCallTtlSeconds: 4 * 3600,
  diversionToHistoryInfo: true,
  sscAnnouncements: {
    default: {
      success: 'mcid-registered',
      alreadyRegistered: 'mcid-already-registered',
      notAllowed: 'mcid-not-allowed',
    },
    tenants: {},
  },
  sscOutcomeTtlSeconds: 86_400,
};

/** What happened, for metrics and for the SSC answer; never carries identities. */
export type Note =
  | { kind: 'ignored'; reason: string }
  | { kind: 'stored'; role: 'latest' }
  | { kind: 'ssc'; result: 'registered' | 'rejected'; reason?: string }
  | { kind: 'purged'; reason: 'deregistration' | 'registration-expired' };

export interface ApplyResult {
  changes: Change[];
  reports: McidReport[];
  notes: Note[];
}

/** Collects writes over a read view so later reads in the same apply see earlier writes. */
class Tx {
  readonly view: StateView;
  readonly writes = new Map<string, StateValue | null>();
  readonly reports: McidReport[] = [];
  readonly notes: Note[] = [];
  /** This apply's key strings, each built once (see KeyMemo). */
  readonly k = new KeyMemo();

  constructor(view: StateView) {
    this.view = view;
  }

  get(key: string): StateValue | undefined {
    // Most reads come before the apply's first write: no lookup in an empty map.
    if (this.writes.size === 0) return this.view.get(key);
    // One lookup: a deleted key holds null, an unwritten one is absent.
    const w = this.writes.get(key);
    if (w !== undefined) return w ?? undefined;
    return this.view.get(key);
  }

  put(key: string, value: StateValue): void {
    this.writes.set(key, value);
  }

  del(key: string): void {
    if (this.get(key) !== undefined) this.writes.set(key, null);
  }

  report(r: McidReport): void {
    const key = this.k.report(r.tenant, r.reportId);
    if (this.get(key) !== undefined) return; // replayed input
    this.put(key, { type: 'report', report: r, delivery: null });
    this.reports.push(r);
  }

  result(): ApplyResult {
    // A loop, not a spread and map: this runs for every event (profile).
    const changes: Change[] = [];
    for (const [key, value] of this.writes) changes.push({ key, value });
    return {
      changes,
      reports: this.reports,
      notes: this.notes,
    };
  }
}

// ---------------------------------------------------------------------------------------------
// Administration

export function adminStateOf(
  view: Reader,
  tenant: string,
  k: Pick<KeyMemo, 'tenantAdmin'> = keys,
): { global: AdminState; tenant: AdminState } {
  const g = view.get(keys.globalAdmin());
  const t = view.get(k.tenantAdmin(tenant));
  return {
    global: g?.type === 'admin' ? g.state : 'LOCKED',
    tenant: t?.type === 'admin' ? t.state : 'LOCKED',
  };
}

/** Seed 003 §3.10: the service acts only when both the MTAS-wide and the provider-level states are unlocked. */
export function serviceActive(view: Reader, tenant: string, k: Pick<KeyMemo, 'tenantAdmin'> = keys): boolean {
  const s = adminStateOf(view, tenant, k);
  return s.global === 'UNLOCKED' && s.tenant === 'UNLOCKED';
}

export function setGlobalAdminState(state: AdminState, nowMicros: number): Change[] {
  return [{ key: keys.globalAdmin(), value: { type: 'admin', state, updatedAtMicros: nowMicros } }];
}

export function setTenantAdminState(tenant: string, state: AdminState, nowMicros: number): Change[] {
  return [{ key: keys.tenantAdmin(tenant), value: { type: 'admin', state, updatedAtMicros: nowMicros } }];
}

type SubscriberInput = Omit<Subscriber, 'id' | 'updatedAtMicros'>;

type SubscriberResult =
  | { ok: true; subscriber: Subscriber; changes: Change[] }
  | { ok: false; code: 'MCD_ERR_IDENTITY' | 'MCD_ERR_IDENTITY_TAKEN' | 'MCD_ERR_MODE'; field: string; reason: string };

/** Creates or replaces a subscriber's MCID data; the first identity is the subscriber id. */
export function upsertSubscriber(view: StateView, input: SubscriberInput, nowMicros: number): SubscriberResult {
  const ids: string[] = [];
  for (const [i, identity] of input.identities.entries()) {
    const k = identityKey(identity);
    if (!k)
      return { ok: false, code: 'MCD_ERR_IDENTITY', field: `identities/${i}`, reason: 'not a sip:, sips: or tel: URI' };
    if (!ids.includes(k)) ids.push(k);
  }
  if (ids.length === 0)
    return { ok: false, code: 'MCD_ERR_IDENTITY', field: 'identities', reason: 'at least one identity' };
  if (input.originating && input.mode !== 'PERMANENT') {
    // Seed 003 §2: originating MCID exists in permanent mode only.
    return { ok: false, code: 'MCD_ERR_MODE', field: 'originating', reason: 'originating MCID needs PERMANENT mode' };
  }
  const id = ids[0]!;
  for (const [i, k] of ids.entries()) {
    const owner = view.get(keys.alias(input.tenant, k));
    if (owner?.type === 'alias' && owner.subscriberId !== id) {
      return {
        ok: false,
        code: 'MCD_ERR_IDENTITY_TAKEN',
        field: `identities/${i}`,
        reason: 'belongs to another subscriber',
      };
    }
  }
  const subscriber: Subscriber = { ...input, id, updatedAtMicros: nowMicros };
  const changes: Change[] = [{ key: keys.subscriber(input.tenant, id), value: { type: 'subscriber', subscriber } }];
  const before = view.get(keys.subscriber(input.tenant, id));
  if (before?.type === 'subscriber') {
    for (const old of before.subscriber.identities.map(identityKey)) {
      if (!ids.includes(old)) changes.push({ key: keys.alias(input.tenant, old), value: null });
    }
  }
  for (const k of ids) changes.push({ key: keys.alias(input.tenant, k), value: { type: 'alias', subscriberId: id } });
  return { ok: true, subscriber, changes };
}

/** Withdraws MCID from a subscriber, with their stored details and registration. */
export function deleteSubscriber(view: StateView, tenant: string, id: string): Change[] {
  const sub = view.get(keys.subscriber(tenant, id));
  if (sub?.type !== 'subscriber') return [];
  const changes: Change[] = [{ key: keys.subscriber(tenant, id), value: null }];
  for (const k of sub.subscriber.identities.map(identityKey)) changes.push({ key: keys.alias(tenant, k), value: null });
  if (view.get(keys.store(tenant, id))) changes.push({ key: keys.store(tenant, id), value: null });
  if (view.get(keys.registration(tenant, id))) changes.push({ key: keys.registration(tenant, id), value: null });
  return changes;
}

function findSubscriber(tx: Tx, tenant: string, identity: string): Subscriber | null {
  return subscriberOfKey(tx, tenant, identityKey(identity));
}

/** findSubscriber for an identity already keyed (identityKey). */
function subscriberOfKey(tx: Tx, tenant: string, k: string): Subscriber | null {
  if (!k) return null;
  const alias = tx.get(tx.k.alias(tenant, k));
  if (alias?.type !== 'alias') return null;
  const sub = tx.get(tx.k.subscriber(tenant, alias.subscriberId));
  return sub?.type === 'subscriber' ? sub.subscriber : null;
}

// ---------------------------------------------------------------------------------------------
// Events

/**
 * Applies one SIP event. Never throws on odd input: unknown events come back as an 'ignored' note.
 * `active` is serviceActive(view, event.tenant) when the caller has read it already: no event
 * changes the administrative states, so a batch reads them once per run of one tenant's events.
 */
export function apply(
  view: StateView,
  event: McidEvent,
  config: DomainConfig = DEFAULT_DOMAIN_CONFIG,
  active?: boolean,
): ApplyResult {
  const tx = new Tx(view);
  if (event.category !== 'SIGNALS' || !/^sip/i.test(event.protocol || 'sip')) {
    tx.notes.push({ kind: 'ignored', reason: 'not a SIP signalling event' });
    return tx.result();
  }
  const sip = new SipEvent(event);
  const now = event.occurredAtMicros;
  // Subscriber data management (seed 003 §2.3.3) runs whatever the administrative states say.
  if (!sip.isResponse && sip.method === 'REGISTER') {
    onRegister(tx, event.tenant, sip, now);
    return tx.result();
  }
  if (!(active ?? serviceActive(tx, event.tenant, tx.k))) {
    tx.notes.push({ kind: 'ignored', reason: 'administratively locked' });
    const which = !sip.isResponse && sip.method === 'INVITE' ? sscKind(sip, config) : null;
    if (which && !sscReplayed(tx, event.tenant, sip)) {
      tx.notes.push({ kind: 'ssc', result: 'rejected', reason: 'locked' });
      const sub = findSubscriber(tx, event.tenant, callerIdentity(sip));
      recordSsc(tx, { tenant: event.tenant, sip, which, sub, now, config }, 'NOT_ALLOWED', 'locked', null);
    }
    return tx.result();
  }
  if (sip.isResponse) {
    if (sip.cseqMethod === 'INVITE') onInviteResponse(tx, event.tenant, sip, now, config);
    return tx.result();
  }
  switch (sip.method) {
    case 'INVITE':
      onInvite(tx, event.tenant, sip, now, config);
      break;
    case 'CANCEL':
      closeLegs(tx, event.tenant, sip.callId, now, config, () => ({ outcome: 'CANCELLED', diversion: null }));
      break;
    case 'INFO':
      onInfo(tx, event.tenant, sip, now);
      break;
    default:
      tx.notes.push({ kind: 'ignored', reason: `method ${sip.method || 'unknown'}` });
  }
  return tx.result();
}

/**
 * Time-driven work: purge stored details of users whose registration expired (seed 003
 * §2.3.3) and drop calls that never got a final response.
 */
export function tick(view: StateView, nowMicros: number, config: DomainConfig = DEFAULT_DOMAIN_CONFIG): ApplyResult {
  const tx = new Tx(view);
  for (const key of [...view.keys(keys.registrationPrefix())]) {
    const rec = view.get(key);
    if (rec?.type !== 'registration' || rec.registration.expiresAtMicros > nowMicros) continue;
    const [, tenant, ...rest] = key.split('/');
    purge(tx, tenant!, rest.join('/'), 'registration-expired');
  }
  const ttl = config.pendingCallTtlSeconds * 1e6;
  for (const key of [...view.keys(keys.callPrefix())]) {
    const rec = view.get(key);
    if (rec?.type !== 'call' || nowMicros - rec.call.updatedAtMicros < ttl) continue;
    const [, tenant] = key.split('/');
    finishLegs(tx, tenant!, rec.call.legs, nowMicros, config, () => ({ outcome: 'FAILED', diversion: null }));
    tx.del(key);
  }
  const sscTtl = config.sscOutcomeTtlSeconds * 1e6;
  for (const key of [...view.keys(keys.sscPrefix())]) {
    const rec = view.get(key);
    if (rec?.type === 'ssc' && nowMicros - rec.outcome.atMicros >= sscTtl) tx.del(key);
  }
  return tx.result();
}

function onRegister(tx: Tx, tenant: string, sip: SipEvent, now: number): void {
  const sub = findSubscriber(tx, tenant, sip.header('to') ?? '');
  if (!sub) {
    tx.notes.push({ kind: 'ignored', reason: 'REGISTER of a non-subscriber' });
    return;
  }
  const expires = registrationExpiry(sip);
  if (expires === null) return;
  if (expires === 0) {
    purge(tx, tenant, sub.id, 'deregistration');
    return;
  }
  tx.put(tx.k.registration(tenant, sub.id), {
    type: 'registration',
    registration: { expiresAtMicros: now + expires * 1e6 },
  });
}

/** Largest contact expiry of a REGISTER (RFC 3261 §10.2.1.1); 0 for `Contact: *` with Expires 0. */
function registrationExpiry(sip: SipEvent): number | null {
  const header = sip.header('expires') ?? sip.event.attributes.expires ?? null;
  const dflt = header !== null && /^\d+$/.test(header.trim()) ? Number(header.trim()) : null;
  const contacts = sip.headers('contact');
  if (contacts.length === 0) return dflt;
  let max: number | null = null;
  for (const c of contacts) {
    const p = headerParams(c).get('expires');
    const v = p !== undefined && /^\d+$/.test(p) ? Number(p) : dflt;
    if (v !== null) max = Math.max(max ?? 0, v);
  }
  return max;
}

function purge(tx: Tx, tenant: string, subscriberId: string, reason: 'deregistration' | 'registration-expired'): void {
  tx.del(tx.k.store(tenant, subscriberId));
  tx.del(tx.k.registration(tenant, subscriberId));
  tx.notes.push({ kind: 'purged', reason });
}

/** Purges first when the user's registration expired before this event (no tick ran in between). */
function purgeIfExpired(tx: Tx, tenant: string, subscriberId: string, now: number): void {
  const reg = tx.get(tx.k.registration(tenant, subscriberId));
  if (reg?.type === 'registration' && reg.registration.expiresAtMicros <= now) {
    purge(tx, tenant, subscriberId, 'registration-expired');
  }
}

function sscKind(sip: SipEvent, config: DomainConfig): 'SSC_LATEST' | 'SSC_PREVIOUS' | null {
  const ds = dialString(sip.requestUri);
  if (!ds) return null;
  if (config.ssc.latest.includes(ds)) return 'SSC_LATEST';
  if (config.ssc.previous.includes(ds)) return 'SSC_PREVIOUS';
  return null;
}

function callerIdentity(sip: SipEvent): string {
  return sip.headers('p-asserted-identity')[0] ?? sip.header('from') ?? '';
}

function hasTag(value: string | null): boolean {
  return value !== null && headerParams(value).has('tag');
}

/** History-Info as captured: the INVITE's own, else (when configured) its Diversion headers mapped. */
function historyInfoOf(sip: SipEvent, config: DomainConfig): string[] {
  const own = sip.headers('history-info');
  // Seed 003 §2.2 speaks of the initial INVITE only; responses (181) keep what they carry.
  if (own.length > 0 || !config.diversionToHistoryInfo || sip.isResponse) return own;
  return historyInfoFromDiversion(sip.headers('diversion'), sip.requestUri);
}

function capture(sip: SipEvent, now: number, config: DomainConfig): CommunicationDetails {
  const pcv = sip.header('p-charging-vector');
  const icid = pcv ? (/icid-value\s*=\s*"?([^";\s]+)/i.exec(pcv)?.[1] ?? null) : null;
  return {
    callId: sip.callId,
    requestUri: sip.requestUri,
    to: sip.header('to') ?? '',
    pAssertedIdentity: sip.headers('p-asserted-identity'),
    from: sip.header('from') ?? '',
    contact: sip.headers('contact'),
    historyInfo: historyInfoOf(sip, config),
    referredBy: sip.header('referred-by'),
    privacy: sip.header('privacy'),
    icid,
    inviteAtMicros: now,
  };
}

function getCall(tx: Tx, tenant: string, callId: string): PendingCall | null {
  const rec = tx.get(tx.k.call(tenant, callId));
  return rec?.type === 'call' ? rec.call : null;
}

function onInvite(tx: Tx, tenant: string, sip: SipEvent, now: number, config: DomainConfig): void {
  // Seed 003 §2: a re-INVITE never registers a communication; only initial INVITEs are captured.
  if (hasTag(sip.header('to'))) {
    tx.notes.push({ kind: 'ignored', reason: 're-INVITE' });
    return;
  }
  const ssc = sscKind(sip, config);
  if (ssc) {
    onSsc(tx, tenant, sip, ssc, now, config);
    return;
  }
  const call = getCall(tx, tenant, sip.callId);
  const target = identityKey(sip.requestUri);
  if (call) retargeted(tx, tenant, call, sip, target, now, config);
  // Read again after a retarget, which may have closed legs.
  const legs = call ? (getCall(tx, tenant, sip.callId)?.legs ?? []) : [];
  const added: Leg[] = [];

  const callee = subscriberOfKey(tx, tenant, target);
  if (callee?.terminating && !legs.some((l) => l.subscriberId === callee.id && l.role === 'TERMINATING')) {
    if (isCcRecallTo(sip, callee)) {
      // Seed 003 §2.4.3: the recall to the user who started CC does not update their store.
      tx.notes.push({ kind: 'ignored', reason: 'CC recall' });
    } else {
      purgeIfExpired(tx, tenant, callee.id, now);
      added.push(newLeg(callee, 'TERMINATING', sip, now, config));
    }
  }
  const caller = findSubscriber(tx, tenant, callerIdentity(sip));
  if (
    caller?.originating &&
    caller.mode === 'PERMANENT' &&
    !legs.some((l) => l.subscriberId === caller.id && l.role === 'ORIGINATING')
  ) {
    added.push(newLeg(caller, 'ORIGINATING', sip, now, config));
  }
  if (added.length === 0) return;
  tx.put(tx.k.call(tenant, sip.callId), { type: 'call', call: { legs: [...legs, ...added], updatedAtMicros: now } });
}

function newLeg(sub: Subscriber, role: Leg['role'], sip: SipEvent, now: number, config: DomainConfig): Leg {
  return {
    subscriberId: sub.id,
    role,
    mode: sub.mode,
    details: capture(sip, now, config),
    alertedAtMicros: null,
    answeredAtMicros: null,
    captured: false,
  };
}

/**
 * CC recall (TS 24.642): the INVITE to the user who started CC carries Call-Info with
 * purpose=call-completion naming the CC target (the original called user). When that URI is
 * the served user, the INVITE is the CC call to the called user and is handled as normal.
 */
function isCcRecallTo(sip: SipEvent, sub: Subscriber): boolean {
  for (const ci of sip.headers('call-info')) {
    if (headerParams(ci).get('purpose')?.toLowerCase() !== 'call-completion') continue;
    const named = identityKey(uriOf(ci));
    if (!sub.identities.map(identityKey).includes(named)) return true;
  }
  return false;
}

/**
 * A new initial INVITE of the same call towards another URI: the open terminating legs were
 * diverted. Seed 003 §2.4.1: forwarding never updates what the first 180/200 stored, and a
 * diversion before alerting (CFU, CFNL, CFNRc, CFB without alerting, immediate CD) stores nothing.
 */
function retargeted(
  tx: Tx,
  tenant: string,
  call: PendingCall,
  sip: SipEvent,
  target: string,
  now: number,
  config: DomainConfig,
): void {
  const history = parseHistoryInfo(historyInfoOf(sip, config));
  // RFC 4458 marks a diversion target with `cause`; an INVITE to a registered contact
  // (forking, or the S-CSCF routing to the UE) carries neither that nor a History-Info entry
  // retargeted away from the served user, and leaves the leg open.
  const causeOnTarget = uriParams(sip.requestUri).has('cause');
  const diverted: Leg[] = [];
  const kept: Leg[] = [];
  for (const leg of call.legs) {
    const mine = subscriberIdentities(tx, tenant, leg.subscriberId);
    const at = history.findIndex((h) => mine.includes(identityKey(h.uri)));
    const awayFromMe = at >= 0 && at < history.length - 1;
    if (leg.role === 'TERMINATING' && !mine.includes(target) && (awayFromMe || causeOnTarget)) diverted.push(leg);
    else kept.push(leg);
  }
  if (diverted.length === 0) return;
  finishLegs(tx, tenant, diverted, now, config, (leg) => {
    const mine = subscriberIdentities(tx, tenant, leg.subscriberId);
    const at = history.findIndex((h) => mine.includes(identityKey(h.uri)));
    const next = at >= 0 ? history[at + 1] : history[history.length - 1];
    const targetCause = Number(uriParams(sip.requestUri).get('cause'));
    const service =
      diversionOfCause(next?.cause ?? null) ??
      diversionOfCause(at >= 0 ? (history[at]?.reasonCause ?? null) : null) ??
      diversionOfCause(Number.isInteger(targetCause) ? targetCause : null);
    return { outcome: 'DIVERTED', diversion: service };
  });
  writeCall(tx, tenant, sip.callId, kept, now);
}

function subscriberIdentities(tx: Tx, tenant: string, id: string): string[] {
  const rec = tx.get(tx.k.subscriber(tenant, id));
  return rec?.type === 'subscriber' ? rec.subscriber.identities.map(identityKey) : [id];
}

function writeCall(tx: Tx, tenant: string, callId: string, legs: Leg[], now: number): void {
  if (legs.length === 0) tx.del(tx.k.call(tenant, callId));
  else tx.put(tx.k.call(tenant, callId), { type: 'call', call: { legs, updatedAtMicros: now } });
}

function onInviteResponse(tx: Tx, tenant: string, sip: SipEvent, now: number, config: DomainConfig): void {
  const found = getCall(tx, tenant, sip.callId);
  if (!found) return;
  // Legs of subscribers withdrawn meanwhile are dropped: nothing may be stored for them.
  const call = {
    ...found,
    legs: found.legs.filter((l) => tx.get(tx.k.subscriber(tenant, l.subscriberId)) !== undefined),
  };
  const status = sip.status;
  if (status === 180) {
    // First 180 from any fork captures (seed 003 §2.2, §2.4.5); later 180s find the leg captured.
    const legs = call.legs.map((l) => (l.captured ? l : captureLeg(tx, tenant, l, now, 'ALERTED')));
    writeCall(tx, tenant, sip.callId, legs, now);
    return;
  }
  if (status === 181) {
    // The AS diverted the call (TS 24.604 181 Call Is Being Forwarded).
    const history = parseHistoryInfo(historyInfoOf(sip, config));
    const diverted = (l: Leg) =>
      l.role === 'TERMINATING' &&
      (history.length === 0 ||
        history
          .slice(0, -1)
          .some((h) => subscriberIdentities(tx, tenant, l.subscriberId).includes(identityKey(h.uri))));
    const service = diversionOfCause(history[history.length - 1]?.cause ?? null);
    finishLegs(tx, tenant, call.legs.filter(diverted), now, config, () => ({
      outcome: 'DIVERTED',
      diversion: service,
    }));
    writeCall(
      tx,
      tenant,
      sip.callId,
      call.legs.filter((l) => !diverted(l)),
      now,
    );
    return;
  }
  if (status < 200) return; // 100, 183: no alerting, nothing to capture
  if (status < 300) {
    // No 180 seen on this leg: capture at the 200 OK (seed 003 §2.2).
    const legs = call.legs.map((l) => (l.captured ? l : captureLeg(tx, tenant, l, now, 'ANSWERED')));
    finishLegs(tx, tenant, legs, now, config, () => ({ outcome: 'ANSWERED', diversion: null }));
    tx.del(tx.k.call(tenant, sip.callId));
    return;
  }
  const ended = outcomeOfFinal(status, config);
  finishLegs(tx, tenant, call.legs, now, config, () => ended);
  tx.del(tx.k.call(tenant, sip.callId));
}

function outcomeOfFinal(
  status: number,
  config: DomainConfig,
): { outcome: Outcome; diversion: DiversionService | null } {
  if (status >= 300 && status < 400) return { outcome: 'DEFLECTED', diversion: 'CD' }; // the UE deflected (302)
  if (config.barredStatuses.includes(status)) return { outcome: 'BARRED', diversion: null };
  if (status === 486 || status === 600) return { outcome: 'BUSY', diversion: null };
  if (status === 487) return { outcome: 'CANCELLED', diversion: null };
  return { outcome: 'FAILED', diversion: null };
}

/** Puts a leg's details in the latest store (temporary) or reports them (permanent). */
function captureLeg(tx: Tx, tenant: string, leg: Leg, now: number, outcome: Outcome): Leg {
  const next: Leg = {
    ...leg,
    captured: true,
    alertedAtMicros: outcome === 'ALERTED' ? now : leg.alertedAtMicros,
    answeredAtMicros: outcome === 'ANSWERED' ? now : leg.answeredAtMicros,
  };
  if (leg.mode === 'PERMANENT') {
    // Permanent mode reports with the time the initial INVITE was received (seed 003 §2.2).
    tx.report(makeReport(tx, tenant, leg, 'PERMANENT', leg.details.inviteAtMicros, null, outcome, null, now));
    return next;
  }
  if (leg.role !== 'TERMINATING') return next;
  const key = tx.k.store(tenant, leg.subscriberId);
  const rec = tx.get(key);
  const store: TemporaryStore = rec?.type === 'store' ? rec.store : { latest: null, previous: null };
  if (store.latest?.details.callId === leg.details.callId) return next;
  const stored: StoredCommunication = { details: leg.details, storedAtMicros: now };
  tx.put(key, { type: 'store', store: { latest: stored, previous: store.latest } });
  tx.notes.push({ kind: 'stored', role: 'latest' });
  return next;
}

type Ending = { outcome: Outcome; diversion: DiversionService | null };

/** A leg ends: permanent mode still reports an attempt that was never captured (every communication). */
function finishLegs(
  tx: Tx,
  tenant: string,
  legs: Leg[],
  now: number,
  config: DomainConfig,
  ending: (leg: Leg) => Ending,
): void {
  for (const leg of legs) {
    if (leg.captured || leg.mode !== 'PERMANENT') continue;
    const e = ending(leg);
    if (e.outcome === 'BARRED' && !config.reportBarredAttempts) {
      tx.notes.push({ kind: 'ignored', reason: 'barred attempt' });
      continue;
    }
    tx.report(makeReport(tx, tenant, leg, 'PERMANENT', leg.details.inviteAtMicros, null, e.outcome, e.diversion, now));
  }
}

function makeReport(
  tx: Tx,
  tenant: string,
  leg: Leg,
  trigger: ReportTrigger,
  mcidTimestampMicros: number,
  invokedAtMicros: number | null,
  outcome: Outcome | null,
  diversion: DiversionService | null,
  now: number,
  invocationId = '',
): McidReport {
  const sub = tx.get(tx.k.subscriber(tenant, leg.subscriberId));
  const servedUser = sub?.type === 'subscriber' ? (sub.subscriber.identities[0] ?? leg.subscriberId) : leg.subscriberId;
  // One-shot hash: the same id as createHash().update().digest(), without a Hash object per report.
  const reportId = hash(
    'sha256',
    [tenant, leg.subscriberId, leg.role, trigger, leg.details.callId, invocationId].join('\u0000'),
    'hex',
  ).slice(0, 32);
  return {
    reportId,
    tenant,
    subscriberId: leg.subscriberId,
    servedUser,
    role: leg.role,
    mode: leg.mode,
    trigger,
    details: leg.details,
    mcidTimestampMicros,
    invokedAtMicros,
    outcome,
    diversion,
    createdAtMicros: now,
  };
}

/** Seed 003 §2.1: the served user's SSC registers the latest or the previous stored communication. */
function onSsc(
  tx: Tx,
  tenant: string,
  sip: SipEvent,
  which: 'SSC_LATEST' | 'SSC_PREVIOUS',
  now: number,
  config: DomainConfig,
): void {
  if (sscReplayed(tx, tenant, sip)) return;
  const sub = findSubscriber(tx, tenant, callerIdentity(sip));
  const ctx = { tenant, sip, which, sub, now, config };
  const reason = !sub ? 'not provisioned' : sub.mode !== 'TEMPORARY' || !sub.terminating ? 'not temporary mode' : null;
  if (!sub || reason) {
    tx.notes.push({ kind: 'ssc', result: 'rejected', reason: reason ?? 'not provisioned' });
    recordSsc(tx, ctx, 'NOT_ALLOWED', reason ?? 'not provisioned', null);
    return;
  }
  purgeIfExpired(tx, tenant, sub.id, now);
  const rec = tx.get(tx.k.store(tenant, sub.id));
  const entry = rec?.type === 'store' ? (which === 'SSC_LATEST' ? rec.store.latest : rec.store.previous) : null;
  if (!entry) {
    tx.notes.push({ kind: 'ssc', result: 'rejected', reason: 'no stored communication' });
    recordSsc(tx, ctx, 'NOT_ALLOWED', 'no stored communication', null);
    return;
  }
  if (entry.registeredAtMicros !== undefined) {
    tx.notes.push({ kind: 'ssc', result: 'rejected', reason: 'already registered' });
    recordSsc(tx, ctx, 'ALREADY_REGISTERED', null, null);
    return;
  }
  const reportId = registerStored(tx, tenant, sub, entry, which, now, sip.callId);
  tx.notes.push({ kind: 'ssc', result: 'registered' });
  recordSsc(tx, ctx, 'SUCCESS', null, reportId);
}

/** A retransmitted or replayed SSC INVITE keeps the outcome first recorded for it. */
function sscReplayed(tx: Tx, tenant: string, sip: SipEvent): boolean {
  if (tx.get(tx.k.ssc(tenant, sip.callId)) === undefined) return false;
  tx.notes.push({ kind: 'ignored', reason: 'SSC already answered' });
  return true;
}

interface SscContext {
  tenant: string;
  sip: SipEvent;
  which: 'SSC_LATEST' | 'SSC_PREVIOUS';
  sub: Subscriber | null;
  now: number;
  config: DomainConfig;
}

/** The tenant's announcement for an SSC result: its own setting, else the default. */
function sscAnnouncementFor(config: DomainConfig, tenant: string, result: SscResult): string {
  const a = { ...config.sscAnnouncements.default, ...config.sscAnnouncements.tenants[tenant] };
  return result === 'SUCCESS' ? a.success : result === 'ALREADY_REGISTERED' ? a.alreadyRegistered : a.notAllowed;
}

function recordSsc(tx: Tx, ctx: SscContext, result: SscResult, reason: string | null, reportId: string | null): void {
  const outcome: SscOutcome = {
    tenant: ctx.tenant,
    callId: ctx.sip.callId,
    code: ctx.which,
    result,
    reason,
    announcementId: sscAnnouncementFor(ctx.config, ctx.tenant, result),
    subscriberId: ctx.sub?.id ?? null,
    reportId,
    atMicros: ctx.now,
  };
  tx.put(tx.k.ssc(ctx.tenant, ctx.sip.callId), { type: 'ssc', outcome });
}

function registerStored(
  tx: Tx,
  tenant: string,
  sub: Subscriber,
  entry: StoredCommunication,
  trigger: ReportTrigger,
  now: number,
  invocationId: string,
): string {
  const leg: Leg = {
    subscriberId: sub.id,
    role: 'TERMINATING',
    mode: 'TEMPORARY',
    details: entry.details,
    alertedAtMicros: null,
    answeredAtMicros: null,
    captured: true,
  };
  const report = makeReport(tx, tenant, leg, trigger, entry.storedAtMicros, now, null, null, now, invocationId);
  tx.report(report);
  // Marked in the store, so a second SSC for the same communication answers "already registered".
  const key = tx.k.store(tenant, sub.id);
  const rec = tx.get(key);
  if (rec?.type === 'store') {
    const mark = (e: StoredCommunication | null) =>
      e && e.details.callId === entry.details.callId && e.registeredAtMicros === undefined
        ? { ...e, registeredAtMicros: now }
        : e;
    tx.put(key, { type: 'store', store: { latest: mark(rec.store.latest), previous: mark(rec.store.previous) } });
  }
  return report.reportId;
}

/**
 * MCID request inside the dialog (TS 24.616: INFO with application/vnd.etsi.mcid+xml,
 * McidRequestIndicator 1) registers that dialog's communication if it is in the store.
 */
function onInfo(tx: Tx, tenant: string, sip: SipEvent, now: number): void {
  const ct = (sip.header('content-type') ?? sip.event.contentType ?? '').toLowerCase();
  if (!ct.includes('application/vnd.etsi.mcid+xml') || !/McidRequestIndicator>\s*1\s*</i.test(sip.body)) {
    tx.notes.push({ kind: 'ignored', reason: 'INFO without MCID request' });
    return;
  }
  // The in-dialog request comes from the called user, so both From and PAI name them.
  const sub = findSubscriber(tx, tenant, callerIdentity(sip)) ?? findSubscriber(tx, tenant, sip.header('from') ?? '');
  if (sub?.mode !== 'TEMPORARY') {
    tx.notes.push({ kind: 'ssc', result: 'rejected', reason: 'not temporary mode' });
    return;
  }
  const rec = tx.get(tx.k.store(tenant, sub.id));
  const entry =
    rec?.type === 'store' ? [rec.store.latest, rec.store.previous].find((e) => e?.details.callId === sip.callId) : null;
  if (!entry) {
    tx.notes.push({ kind: 'ssc', result: 'rejected', reason: 'no stored communication' });
    return;
  }
  registerStored(tx, tenant, sub, entry, 'IN_CALL_REQUEST', now, `${sip.callId}/info`);
  tx.notes.push({ kind: 'ssc', result: 'registered' });
}

function closeLegs(
  tx: Tx,
  tenant: string,
  callId: string,
  now: number,
  config: DomainConfig,
  ending: (leg: Leg) => Ending,
): void {
  const call = getCall(tx, tenant, callId);
  if (!call) return;
  finishLegs(tx, tenant, call.legs, now, config, ending);
  tx.del(tx.k.call(tenant, callId));
}
