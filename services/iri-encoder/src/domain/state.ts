// Step 2 of apply(): CIN allocation, the communication's phase and gap-free sequence numbers,
// kept as explicit key -> value entries. The service writes every StateChange to the compacted
// changelog topic in the same Kafka transaction as the records it produced, and rebuilds
// EncoderState from that topic on start, so counters survive crashes without gaps or reuse.

import { createHash } from 'node:crypto';
import { unreachable } from '@li/core';
import type { MatchedEvent } from '@li/schemas';
import type { Classification, EventRole, IriRecordType, IriRole, ServiceKind } from './classify.ts';

/** Next CIN to hand out for a LIID. */
interface CinCounter {
  t: 'cin';
  next: number;
}

/** One communication (call, mail session, chat session) of a LIID. */
export interface CommunicationEntry {
  t: 'comm';
  cin: number;
  /** none: CIN allocated but no BEGIN sent; open: BEGIN sent; ended: END sent. */
  phase: 'none' | 'open' | 'ended';
  /** A call was answered (2xx to INVITE): later INVITE failures are re-INVITE failures. */
  answered: boolean;
  lastEventMicros: number;
  /** The service of the communication's IRIs (routes its media to IPMMCC or IPCC). */
  service?: ServiceKind;
}

/** Next sequence numbers of a (LIID, CIN), separately for IRI and CC (TS 102 232-1 5.2.7). */
interface SequenceEntry {
  t: 'seq';
  iri: number;
  cc: number;
}

/** The last version of a warrant the encoder sent an HI1 notification for, and its HI1 counter. */
export interface Hi1Entry {
  t: 'hi1';
  version: number;
  state: 'ACTIVE' | 'SUSPENDED' | 'DEACTIVATED';
  /** ACTIVE but its validity window had not started: liActivated is still to come. */
  pending?: true;
  lemfIds: string[];
  /** Targets, LEMFs and validity of that version: a change while ACTIVE is a modification. */
  fingerprint: string;
  /** Next sequenceNumber of this warrant's HI1 PDUs (CIN 0), gap-free like the IRI/CC ones. */
  seq: number;
}

type StateValue = CinCounter | CommunicationEntry | SequenceEntry | Hi1Entry;

/** The whole state: a plain, JSON-serialisable map from changelog key to value. */
export interface EncoderState {
  entries: Record<string, StateValue>;
}

/** One changelog update; value null is a tombstone (delete the key). */
export interface StateChange {
  key: string;
  value: StateValue | null;
}

export function emptyState(): EncoderState {
  return { entries: {} };
}

// Keys start with the LIID so the service can partition the changelog like the records.
export const cinKey = (liid: string) => `${liid}/cin`;
/** The communication id is hashed: the changelog then holds no Call-ID or account names. */
function commKey(liid: string, communicationId: string): string {
  return `${liid}/comm/${commHash(communicationId)}`;
}

// Events of one call arrive together: remember recent hashes (bounded) instead of rehashing.
const hashCache = new Map<string, string>();
function commHash(communicationId: string): string {
  let h = hashCache.get(communicationId);
  if (h === undefined) {
    h = createHash('sha256').update(communicationId).digest('base64url').slice(0, 22);
    if (hashCache.size >= 8192) hashCache.clear();
    hashCache.set(communicationId, h);
  }
  return h;
}
const seqKey = (liid: string, cin: number) => `${liid}/seq/${cin}`;

/** CINs stay below 10^8 so TS 101 671 (8 ASCII digits) and TS 102 232-1 carry the same number. */
export const MAX_CIN = 99_999_999;
/** Sequence numbers wrap to 0 after 2^32-1 (TS 102 232-1 INTEGER (0..4294967295)). */
export const MAX_SEQ = 0xffff_ffff;

/**
 * A read-through view over the state that records every write as a StateChange. apply() uses
 * it so the input state is never mutated; commit() applies the changes once they are durable.
 */
export class StateView {
  private readonly state: EncoderState;
  private readonly overlay = new Map<string, StateValue | null>();

  constructor(state: EncoderState) {
    this.state = state;
  }

  get<T extends StateValue>(key: string, t: T['t']): T | undefined {
    const v = this.overlay.has(key) ? this.overlay.get(key) : this.state.entries[key];
    return v && v.t === t ? (v as T) : undefined;
  }

  set(key: string, value: StateValue | null): void {
    this.overlay.set(key, value);
  }

  changes(): StateChange[] {
    return [...this.overlay].map(([key, value]) => ({ key, value }));
  }
}

/** Applies durable changes to the in-memory state (in place). */
export function commit(state: EncoderState, changes: readonly StateChange[]): void {
  for (const c of changes) {
    if (c.value === null) delete state.entries[c.key];
    else state.entries[c.key] = c.value;
  }
}

/** Rebuilds the state from the changelog (last value per key wins; null deletes). */
export function restore(records: Iterable<StateChange>): EncoderState {
  const s = emptyState();
  for (const r of records) {
    if (r.value === null) delete s.entries[r.key];
    else s.entries[r.key] = r.value;
  }
  return s;
}

/** Stable CIN for a communication of a LIID: the same id keeps its CIN, new ids get the next. */
export function cinFor(view: StateView, liid: string, communicationId: string, nowMicros: number): CommunicationEntry {
  const key = commKey(liid, communicationId);
  const existing = view.get<CommunicationEntry>(key, 'comm');
  if (existing) return existing;
  const counter = view.get<CinCounter>(cinKey(liid), 'cin');
  const cin = counter?.next ?? 1; // CIN 0 is left for keep-alives and HI1 notifications
  view.set(cinKey(liid), { t: 'cin', next: cin >= MAX_CIN ? 1 : cin + 1 });
  const entry: CommunicationEntry = { t: 'comm', cin, phase: 'none', answered: false, lastEventMicros: nowMicros };
  view.set(key, entry);
  return entry;
}

/**
 * The LIID's communications with a BEGIN and no END yet, by CIN. Reads inherited entries too
 * (for-in), like expire(), so it works on the service's per-batch working copy.
 */
export function openCommunications(state: EncoderState, liid: string): { key: string; comm: CommunicationEntry }[] {
  const prefix = `${liid}/comm/`;
  const out: { key: string; comm: CommunicationEntry }[] = [];
  for (const key in state.entries) {
    if (!key.startsWith(prefix)) continue;
    const v = state.entries[key];
    if (v?.t === 'comm' && v.phase === 'open') out.push({ key, comm: v });
  }
  return out.sort((a, b) => a.comm.cin - b.comm.cin);
}

/** Takes the next IRI or CC sequence number of (LIID, CIN). */
export function nextSeq(view: StateView, liid: string, cin: number, stream: 'iri' | 'cc'): number {
  const key = seqKey(liid, cin);
  const cur = view.get<SequenceEntry>(key, 'seq') ?? { t: 'seq', iri: 0, cc: 0 };
  const n = cur[stream];
  view.set(key, { ...cur, [stream]: n >= MAX_SEQ ? 0 : n + 1 });
  return n;
}

/** The IRI type a role gives in the communication's current phase, and the phase after it. */
interface Transition {
  type: IriRecordType;
  phase: CommunicationEntry['phase'];
}

export function resolve(role: IriRole, comm: CommunicationEntry): Transition;
export function resolve(role: EventRole, comm: CommunicationEntry): Transition | undefined;
export function resolve(role: EventRole, comm: CommunicationEntry): Transition | undefined {
  const open = comm.phase === 'open';
  switch (role) {
    case 'open':
      return open ? { type: 'CONTINUE', phase: 'open' } : { type: 'BEGIN', phase: 'open' };
    case 'inside':
    case 'answer':
      if (open) return { type: 'CONTINUE', phase: 'open' };
      return comm.phase === 'ended' ? { type: 'REPORT', phase: 'ended' } : { type: 'BEGIN', phase: 'open' };
    case 'insideOrReport':
      return open ? { type: 'CONTINUE', phase: 'open' } : { type: 'REPORT', phase: comm.phase };
    case 'inviteFailure':
      if (comm.answered) return resolve('inside', comm);
      return open ? { type: 'END', phase: 'ended' } : { type: 'REPORT', phase: comm.phase };
    case 'close':
      return open ? { type: 'END', phase: 'ended' } : { type: 'REPORT', phase: comm.phase };
    case 'report':
      return { type: 'REPORT', phase: comm.phase };
    case 'ccOnly':
    case 'reportOnly':
    case 'ignore':
      return undefined;
    default:
      return unreachable(role, 'role');
  }
}

/** What the event's records are numbered and routed by. */
export interface Allocation {
  cin: number;
  /** The IRI record the event gives; absent for media (CC only). */
  iriType?: IriRecordType;
  /** Whose values the event takes: its own service, or for media its communication's. */
  service: ServiceKind;
  /** Takes the next IRI or CC sequence number of (LIID, CIN). */
  nextSeq(stream: 'iri' | 'cc'): number;
}

/**
 * The event's CIN, its IRI type, and the communication after it. Sequence numbers are taken
 * when the PDUs are encoded, so only the PDUs that exist get one.
 */
export function allocate(view: StateView, m: MatchedEvent, c: Classification): Allocation {
  const e = m.event;
  // Events without a communication id stand alone: their own id keys the CIN.
  const communicationId = e.communicationId || e.eventId;
  const comm = cinFor(view, m.liid, communicationId, e.occurredAtMicros);
  const nextSeqOf = (stream: 'iri' | 'cc') => nextSeq(view, m.liid, comm.cin, stream);
  if (c.role === 'ccOnly') {
    if (e.occurredAtMicros > comm.lastEventMicros) {
      view.set(commKey(m.liid, communicationId), { ...comm, lastEventMicros: e.occurredAtMicros });
    }
    // Media after SIP signalling is IPMMCC; a communication without IRIs yet routes like IP.
    return { cin: comm.cin, service: comm.service ?? 'ip', nextSeq: nextSeqOf };
  }
  const r = resolve(c.role, comm);
  view.set(commKey(m.liid, communicationId), {
    ...comm,
    phase: r.phase,
    answered: comm.answered || c.role === 'answer',
    lastEventMicros: Math.max(comm.lastEventMicros, e.occurredAtMicros),
    service: comm.service ?? c.service,
  });
  return { cin: comm.cin, iriType: r.type, service: c.service, nextSeq: nextSeqOf };
}

/** How long the encoder keeps communications (config stateEndedRetentionSeconds, stateIdleSeconds). */
export interface ExpiryPolicy {
  /** Keep ended communications this long, so late messages of the call (ACK, 200 to BYE) still get its CIN. */
  endedRetentionMicros: number;
  /** Forget communications with no event for this long (mail idle timeouts are 5-30 min). */
  idleMicros: number;
}

/** Which communications a sweep may expire: at most `limit` changes, of these LIIDs only. */
interface ExpiryScope {
  limit?: number;
  liids?: ReadonlySet<string>;
}

/**
 * Tombstones for the communications past their retention as of nowMicros, and for their sequence
 * counters (the rest beyond `limit` go in a later sweep). The per-LIID CIN counter is kept: an id
 * seen again gets a new CIN whose counters start at 0, so no (LIID, CIN) repeats a sequence
 * number before the counter wraps at MAX_CIN. Reads inherited entries too, so it works on the
 * service's per-batch working copy (a batch's own tombstones shadow them as undefined).
 */
export function expire(
  state: EncoderState,
  nowMicros: number,
  policy: ExpiryPolicy,
  { limit = Number.POSITIVE_INFINITY, liids }: ExpiryScope = {},
): StateChange[] {
  const out: StateChange[] = [];
  // for-in, not Object.entries: the working copy's committed entries are on its prototype.
  for (const key in state.entries) {
    if (out.length >= limit) break;
    const v = state.entries[key];
    if (v?.t !== 'comm') continue;
    const limitMicros = v.phase === 'ended' ? policy.endedRetentionMicros : policy.idleMicros;
    if (nowMicros - v.lastEventMicros < limitMicros) continue;
    const liid = key.slice(0, key.indexOf('/comm/'));
    if (liids && !liids.has(liid)) continue;
    out.push({ key, value: null });
    const sk = seqKey(liid, v.cin);
    if (state.entries[sk]) out.push({ key: sk, value: null });
  }
  return out;
}
