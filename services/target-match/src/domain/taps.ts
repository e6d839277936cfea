// Which calls' media ingest must capture (li.<t>.taps, key Call-ID): a tap is written when a SIP
// event of an INVITE dialog matches a warrant that delivers content, and withdrawn (tombstone)
// when the call ends (BYE, CANCEL, a failed INVITE) or no warrant covers it any more (warrant
// deactivated, suspended or removed, or a new version that no longer matches the call's parties
// or no longer selects content). Only such calls cost a Kafka record per media packet.
import type { MatchedEvent, NormalizedEvent, Tap, Warrant } from '@li/schemas';
import { StringTable } from './string-table.ts';

/** What a warrant's new version is matched against again: the parties of the call's tapped events. */
export type TappedCall = Pick<NormalizedEvent, 'tenant' | 'protocol' | 'communicationId' | 'parties' | 'network'>;

export interface TapChange {
  tenant: string;
  /** The Call-ID: the taps topic is compacted on it. */
  key: string;
  /** null: the tap ends. */
  value: Tap | null;
  /** The call was answered: a later failed INVITE is a failed re-INVITE, which ends nothing. */
  answered?: boolean;
  /** With a tap: the call it is for (kept in memory only, for warrant changes). */
  call?: TappedCall;
}

export interface TapBookOptions {
  /** A tap's life when nothing refreshes it (ingest drops it after). */
  ttlMicros: number;
  /** Taps remembered for withdrawal at warrant end; the oldest is forgotten beyond (it expires). */
  maxTaps: number;
}

const DIALOG_METHODS = new Set(['INVITE', 'ACK', 'PRACK', 'UPDATE', 'INFO']);

interface Entry {
  tenant: string;
  callId: string;
  liids: Set<string>;
  writtenAtMicros: number;
  answered: boolean;
  call: TappedCall | undefined;
}

const sameParty = (a: NormalizedEvent['parties'][number], b: NormalizedEvent['parties'][number]) =>
  a.role === b.role && a.type === b.type && a.value === b.value;

export class TapBook {
  /** In write order (the oldest is forgotten first). */
  private readonly entries = new Map<string, Entry>();
  /** The same entries per tenant, by Call-ID: looked up per event with the event's own string. */
  private readonly byCall = new Map<string, StringTable<Entry>>();
  private readonly o: TapBookOptions;

  constructor(o: Partial<TapBookOptions> = {}) {
    this.o = { ttlMicros: 24 * 3600 * 1_000_000, maxTaps: 200_000, ...o };
  }

  /**
   * The tap changes one event gives, from the warrants it matched. Pure: nothing is remembered
   * until commit() (called once the changes are committed with the batch).
   */
  changes(
    tenant: string,
    e: NormalizedEvent,
    matched: readonly MatchedEvent[],
    nowMicros: number,
    /** Changes of earlier events of the same batch, not committed yet. */
    batch: BatchTaps | readonly TapChange[] = [],
  ): TapChange[] {
    if (e.protocol.toUpperCase() !== 'SIP' || e.category !== 'SIGNALS' || !e.communicationId) return [];
    const method = (e.attributes.method ?? '').toUpperCase();
    const request = e.action !== 'sip.response';
    const status = Number(e.attributes.status ?? 0);
    const invite = !request && method === 'INVITE';
    const mayEnd = (request && (method === 'BYE' || method === 'CANCEL')) || (invite && status >= 300);
    // Nothing to tap and nothing that could end a tap: the call's state is not needed (most events).
    if (!mayEnd && (!DIALOG_METHODS.has(method) || !matched.some((m) => m.deliver === 'IRI_AND_CC'))) return [];
    const known = this.known(tenant, e.communicationId, batch) ?? undefined;
    const ends =
      (request && (method === 'BYE' || method === 'CANCEL')) || (invite && status >= 300 && !known?.answered);
    if (ends) return known ? [{ tenant, key: e.communicationId, value: null }] : [];
    if (!DIALOG_METHODS.has(method)) return [];
    const liids = matched.filter((m) => m.deliver === 'IRI_AND_CC').map((m) => m.liid);
    if (liids.length === 0) return [];
    const all = new Set([...(known?.liids ?? []), ...liids]);
    const answered = (known?.answered ?? false) || (invite && status >= 200 && status < 300);
    const fresh = known && nowMicros - known.writtenAtMicros < this.o.ttlMicros / 2;
    // The parties of every tapped event of the call (a re-INVITE or a diversion may add some).
    const parties = [...(known?.call?.parties ?? [])];
    for (const p of e.parties ?? []) if (p && !parties.some((q) => sameParty(p, q))) parties.push(p);
    const grew = parties.length !== (known?.call?.parties.length ?? 0);
    if (fresh && all.size === known.liids.size && answered === known.answered && !grew) return [];
    const value = this.tap(tenant, e.communicationId, [...all], nowMicros);
    const call: TappedCall = {
      tenant,
      protocol: e.protocol,
      communicationId: e.communicationId,
      parties,
      network: e.network ?? known?.call?.network ?? null,
    };
    return [{ tenant, key: e.communicationId, value, call, ...(answered ? { answered } : {}) }];
  }

  /** Remembers committed changes. */
  commit(changes: readonly TapChange[]): void {
    for (const c of changes) {
      const k = keyOf(c.tenant, c.key);
      this.entries.delete(k); // re-inserted last: the map's order is the write order
      this.byCall.get(c.tenant)?.delete(c.key);
      if (c.value === null) continue;
      if (this.entries.size >= this.o.maxTaps) {
        const oldest = this.entries.values().next().value;
        if (oldest !== undefined) {
          this.entries.delete(keyOf(oldest.tenant, oldest.callId));
          this.byCall.get(oldest.tenant)?.delete(oldest.callId);
        }
      }
      const entry: Entry = {
        tenant: c.tenant,
        callId: c.key,
        liids: new Set(c.value.liids),
        writtenAtMicros: c.value.tappedAtMicros,
        answered: c.answered === true,
        call: c.call,
      };
      this.entries.set(k, entry);
      let calls = this.byCall.get(c.tenant);
      if (!calls) {
        calls = new StringTable();
        this.byCall.set(c.tenant, calls);
      }
      calls.set(c.key, entry);
    }
  }

  /** A warrant no longer in effect: its calls lose it; a call no warrant covers any more is untapped. */
  warrantEnded(tenant: string, liid: string, nowMicros: number): TapChange[] {
    return this.withdraw(tenant, liid, () => false, nowMicros);
  }

  /**
   * A warrant's new version, still in effect (targets, selection or delivery changed): the calls
   * it tapped are matched again (`match`: the warrant index, which already holds this version)
   * and those it no longer covers with content lose it at once, as at its end.
   */
  warrantChanged(
    tenant: string,
    w: Warrant,
    match: (e: NormalizedEvent) => readonly MatchedEvent[],
    nowMicros: number,
  ): TapChange[] {
    if (w.state !== 'ACTIVE' || w.deliver !== 'IRI_AND_CC' || !w.selection.media) {
      return this.warrantEnded(tenant, w.liid, nowMicros);
    }
    const covers = (call: TappedCall | undefined) =>
      call !== undefined &&
      match(probe(call, nowMicros)).some(
        (m) => m.liid === w.liid && m.authorisationCountry === w.authorisationCountry && m.deliver === 'IRI_AND_CC',
      );
    return this.withdraw(tenant, w.liid, covers, nowMicros);
  }

  private withdraw(
    tenant: string,
    liid: string,
    keep: (call: TappedCall | undefined) => boolean,
    nowMicros: number,
  ): TapChange[] {
    const out: TapChange[] = [];
    for (const e of this.entries.values()) {
      if (e.tenant !== tenant || !e.liids.has(liid) || keep(e.call)) continue;
      const rest = [...e.liids].filter((l) => l !== liid);
      out.push({
        tenant,
        key: e.callId,
        value: rest.length === 0 ? null : this.tap(tenant, e.callId, rest, nowMicros),
        ...(e.answered ? { answered: true } : {}),
        ...(rest.length > 0 && e.call ? { call: e.call } : {}),
      });
    }
    return out;
  }

  private known(tenant: string, callId: string, batch: BatchTaps | readonly TapChange[]): Entry | null {
    const c =
      batch instanceof BatchTaps
        ? batch.latest(tenant, callId)
        : batch.findLast((x) => x.tenant === tenant && x.key === callId);
    if (c) {
      if (c.value === null) return null;
      return {
        tenant,
        callId,
        liids: new Set(c.value.liids),
        writtenAtMicros: c.value.tappedAtMicros,
        answered: c.answered === true,
        call: c.call,
      };
    }
    return this.byCall.get(tenant)?.get(callId) ?? null;
  }

  size(): number {
    return this.entries.size;
  }

  private tap(tenant: string, callId: string, liids: string[], nowMicros: number): Tap {
    return {
      tenant,
      communicationId: callId,
      liids: liids.sort(),
      tappedAtMicros: nowMicros,
      expiresAtMicros: nowMicros + this.o.ttlMicros,
    };
  }
}

function keyOf(tenant: string, callId: string): string {
  return `${tenant}\u0000${callId}`;
}

/**
 * A batch's tap changes, not committed yet, in order, with the latest per call at hand: each
 * event of a batch looks its call up here (a scan of the list was quadratic in the batch).
 */
export class BatchTaps {
  readonly all: TapChange[] = [];
  /** Per tenant, per Call-ID: keyed by the event's own strings, no key built per lookup. */
  private readonly byCall = new Map<string, StringTable<TapChange>>();

  add(changes: readonly TapChange[]): void {
    for (const c of changes) {
      this.all.push(c);
      let calls = this.byCall.get(c.tenant);
      if (!calls) {
        calls = new StringTable();
        this.byCall.set(c.tenant, calls);
      }
      calls.set(c.key, c);
    }
  }

  latest(tenant: string, callId: string): TapChange | undefined {
    return this.byCall.get(tenant)?.get(callId);
  }
}

/** The call's media as an event of now: does the warrant's new version still take its content? */
function probe(call: TappedCall, nowMicros: number): NormalizedEvent {
  return {
    ...call,
    category: 'MEDIA',
    eventId: '',
    action: 'sip.tap-check',
    occurredAtMicros: nowMicros,
    source: 'target-match',
    attributes: {},
    content: null,
    contentType: null,
  };
}
