// Which calls' media ingest must capture (li.<t>.taps, key Call-ID): a tap is written when a SIP
// event of an INVITE dialog matches a warrant that delivers content, and withdrawn (tombstone)
// when the call ends (BYE, CANCEL, a failed INVITE) or no warrant covers it any more (warrant
// deactivated, suspended or removed). Only such calls cost a Kafka record per media packet.
import type { MatchedEvent, NormalizedEvent, Tap } from '@li/schemas';

export interface TapChange {
  tenant: string;
  /** The Call-ID: the taps topic is compacted on it. */
  key: string;
  /** null: the tap ends. */
  value: Tap | null;
  /** The call was answered: a later failed INVITE is a failed re-INVITE, which ends nothing. */
  answered?: boolean;
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
}

export class TapBook {
  private readonly entries = new Map<string, Entry>();
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
    batch: readonly TapChange[] = [],
  ): TapChange[] {
    if (e.protocol.toUpperCase() !== 'SIP' || e.category !== 'SIGNALS' || !e.communicationId) return [];
    const method = (e.attributes.method ?? '').toUpperCase();
    const request = e.action !== 'sip.response';
    const status = Number(e.attributes.status ?? 0);
    const known = this.known(tenant, e.communicationId, batch) ?? undefined;
    const invite = !request && method === 'INVITE';
    const ends =
      (request && (method === 'BYE' || method === 'CANCEL')) || (invite && status >= 300 && !known?.answered);
    if (ends) return known ? [{ tenant, key: e.communicationId, value: null }] : [];
    if (!DIALOG_METHODS.has(method)) return [];
    const liids = matched.filter((m) => m.deliver === 'IRI_AND_CC').map((m) => m.liid);
    if (liids.length === 0) return [];
    const all = new Set([...(known?.liids ?? []), ...liids]);
    const answered = (known?.answered ?? false) || (invite && status >= 200 && status < 300);
    const fresh = known && nowMicros - known.writtenAtMicros < this.o.ttlMicros / 2;
    if (fresh && all.size === known.liids.size && answered === known.answered) return [];
    const value = this.tap(tenant, e.communicationId, [...all], nowMicros);
    return [{ tenant, key: e.communicationId, value, ...(answered ? { answered } : {}) }];
  }

  /** Remembers committed changes. */
  commit(changes: readonly TapChange[]): void {
    for (const c of changes) {
      const k = this.keyOf(c.tenant, c.key);
      this.entries.delete(k); // re-inserted last: the map's order is the write order
      if (c.value === null) continue;
      if (this.entries.size >= this.o.maxTaps) {
        const oldest = this.entries.keys().next().value;
        if (oldest !== undefined) this.entries.delete(oldest);
      }
      this.entries.set(k, {
        tenant: c.tenant,
        callId: c.key,
        liids: new Set(c.value.liids),
        writtenAtMicros: c.value.tappedAtMicros,
        answered: c.answered === true,
      });
    }
  }

  /** A warrant no longer in effect: its calls lose it; a call no warrant covers any more is untapped. */
  warrantEnded(tenant: string, liid: string, nowMicros: number): TapChange[] {
    const out: TapChange[] = [];
    for (const e of this.entries.values()) {
      if (e.tenant !== tenant || !e.liids.has(liid)) continue;
      const rest = [...e.liids].filter((l) => l !== liid);
      out.push({
        tenant,
        key: e.callId,
        value: rest.length === 0 ? null : this.tap(tenant, e.callId, rest, nowMicros),
        ...(e.answered ? { answered: true } : {}),
      });
    }
    return out;
  }

  private known(tenant: string, callId: string, batch: readonly TapChange[]): Entry | null {
    for (let i = batch.length - 1; i >= 0; i--) {
      const c = batch[i] as TapChange;
      if (c.tenant !== tenant || c.key !== callId) continue;
      if (c.value === null) return null;
      return {
        tenant,
        callId,
        liids: new Set(c.value.liids),
        writtenAtMicros: c.value.tappedAtMicros,
        answered: c.answered === true,
      };
    }
    return this.entries.get(this.keyOf(tenant, callId)) ?? null;
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

  private keyOf(tenant: string, callId: string): string {
    return `${tenant}\u0000${callId}`;
  }
}
