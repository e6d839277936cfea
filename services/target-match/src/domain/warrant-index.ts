// The live warrant index: built from li.<t>.warrants records, answers "which warrants does
// this event involve?" with one Map lookup per party identifier (plus one per prefix length of
// a number, for incomplete-number targets) and one trie walk per IP address - never a scan
// over warrants. Tenants are separate indexes, so an event can only ever match warrants of
// its own tenant.
import type { IpAddress, NormalizeOptions, TargetIndexEntry } from '@li/identifiers';
import {
  ipKey,
  isWarrantActiveAt,
  MIN_INCOMPLETE_NUMBER_DIGITS,
  parseIpAddress,
  parseIpv4Into,
  partyKeys,
  targetIndexEntry,
  warrantKey,
} from '@li/identifiers';
import type { MatchedEvent, NormalizedEvent, Party, PartyRole, Warrant } from '@li/schemas';
import { PARTY_ROLES, SELECTION_FLAG } from '@li/schemas';
import { PrefixTrie } from './prefix-trie.ts';
import { StringTable } from './string-table.ts';

interface Entry {
  warrant: Warrant;
  /** Index positions this warrant occupies (empty while it is deactivated). */
  positions: TargetIndexEntry[];
}

class TenantIndex {
  // Looked up with keys built per event: StringTable, not Map (see string-table.ts).
  readonly exact = new StringTable<Set<Entry>>();
  /** Incomplete-number targets by their "+digits" prefix; a number probes each of its prefixes. */
  readonly numberPrefixes = new StringTable<Set<Entry>>();
  readonly v4 = new PrefixTrie<Entry>(32);
  readonly v6 = new PrefixTrie<Entry>(128);
  readonly byKey = new Map<string, Entry>();
  /** Last version seen per warrant key, also after removal, so replays stay idempotent. */
  readonly versions = new Map<string, number>();

  place(entry: Entry, p: TargetIndexEntry): void {
    if (p.kind === 'exact' || p.kind === 'numberPrefix') {
      const map = p.kind === 'exact' ? this.exact : this.numberPrefixes;
      const k = p.kind === 'exact' ? p.key : p.number;
      let set = map.get(k);
      if (!set) {
        set = new Set();
        map.set(k, set);
      }
      set.add(entry);
    } else {
      (p.prefix.family === 4 ? this.v4 : this.v6).add(p.prefix.bytes, p.prefix.length, entry);
    }
  }

  unplace(entry: Entry, p: TargetIndexEntry): void {
    if (p.kind === 'exact' || p.kind === 'numberPrefix') {
      const map = p.kind === 'exact' ? this.exact : this.numberPrefixes;
      const k = p.kind === 'exact' ? p.key : p.number;
      const set = map.get(k);
      if (!set) return;
      set.delete(entry);
      if (set.size === 0) map.delete(k);
    } else {
      (p.prefix.family === 4 ? this.v4 : this.v6).remove(p.prefix.bytes, p.prefix.length, entry);
    }
  }
}

export type UpsertOutcome =
  | { applied: true; skippedTargets: string[] }
  | { applied: false; reason: 'STALE_VERSION' | 'BAD_RECORD' };

export interface WarrantIndexStats {
  tenants: number;
  warrants: number;
  exactKeys: number;
  trieNodes: number;
}

export class WarrantIndex {
  private readonly tenants = new Map<string, TenantIndex>();
  private readonly optionsFor: (tenant: string) => NormalizeOptions;
  /** An event's IPv4 network address while it is looked up (match is synchronous). */
  private readonly v4Scratch = new Uint8Array(4);

  /** optionsFor gives the tenant's national numbering defaults for reading event parties. */
  constructor(optionsFor: (tenant: string) => NormalizeOptions = () => ({})) {
    this.optionsFor = optionsFor;
  }

  private tenant(id: string): TenantIndex {
    let t = this.tenants.get(id);
    if (!t) {
      t = new TenantIndex();
      this.tenants.set(id, t);
    }
    return t;
  }

  /** Insert or replace a warrant; a record whose version is not newer than the indexed one is ignored. */
  upsert(w: Warrant): UpsertOutcome {
    if (!w || typeof w.tenant !== 'string' || typeof w.liid !== 'string' || !Array.isArray(w.targets)) {
      return { applied: false, reason: 'BAD_RECORD' };
    }
    const t = this.tenant(w.tenant);
    const key = warrantKey(w);
    const seen = t.versions.get(key);
    if (seen !== undefined && seen >= w.version) return { applied: false, reason: 'STALE_VERSION' };
    this.drop(t, key);
    t.versions.set(key, w.version);
    const skippedTargets: string[] = [];
    const positions: TargetIndexEntry[] = [];
    // A deactivated warrant can never match again unless a newer version re-activates it,
    // so it occupies no index positions.
    if (w.state !== 'DEACTIVATED') {
      for (const target of w.targets) {
        const p = targetIndexEntry(target.type, target.value, target.incomplete === true);
        if (p) positions.push(p);
        else skippedTargets.push(target.id);
      }
    }
    const entry: Entry = { warrant: w, positions };
    t.byKey.set(key, entry);
    for (const p of positions) t.place(entry, p);
    return { applied: true, skippedTargets };
  }

  /** A tombstone on the compacted topic: the warrant is gone. */
  remove(tenant: string, key: string): boolean {
    const t = this.tenants.get(tenant);
    if (!t) return false;
    return this.drop(t, key);
  }

  private drop(t: TenantIndex, key: string): boolean {
    const old = t.byKey.get(key);
    if (!old) return false;
    for (const p of old.positions) t.unplace(old, p);
    t.byKey.delete(key);
    return true;
  }

  get(tenant: string, key: string): Warrant | undefined {
    return this.tenants.get(tenant)?.byKey.get(key)?.warrant;
  }

  stats(): WarrantIndexStats {
    let warrants = 0;
    let exactKeys = 0;
    let trieNodes = 0;
    for (const t of this.tenants.values()) {
      warrants += t.byKey.size;
      exactKeys += t.exact.size + t.numberPrefixes.size;
      trieNodes += t.v4.nodeCount + t.v6.nodeCount;
    }
    return { tenants: this.tenants.size, warrants, exactKeys, trieNodes };
  }

  /**
   * One MatchedEvent per warrant that is active at the event's time, whose targets the event
   * involves in any role (parties, and the network source/destination addresses), and whose
   * report selection includes the event's category. `warrants`, if given, receives the warrant
   * of each MatchedEvent, in the same order.
   */
  match(event: NormalizedEvent, atMicros: number, warrants?: Warrant[]): MatchedEvent[] {
    const t = this.tenants.get(event.tenant);
    if (!t) return [];
    const flag = SELECTION_FLAG[event.category];
    if (!flag) return []; // ACCOUNT events are administrative, never reported
    // Per warrant: the roles the targets took part in, and the parties (as the event has them)
    // that matched. Made on the first hit: most events match nothing.
    let hits: Map<Entry, { roles: Set<PartyRole>; parties: Party[] }> | undefined;
    const hit = (e: Entry, party: Party) => {
      hits ??= new Map();
      let h = hits.get(e);
      if (!h) {
        h = { roles: new Set(), parties: [] };
        hits.set(e, h);
      }
      h.roles.add(party.role);
      if (!h.parties.includes(party)) h.parties.push(party);
    };
    // `party`: made on the first hit (an address of the event's network has no party object).
    const lookupIp = (a: IpAddress, key: string, party: () => Party) => {
      const set = t.exact.get(key);
      if (set) for (const e of set) hit(e, party());
      (a.family === 4 ? t.v4 : t.v6).forEachMatch(a.bytes, (e) => hit(e, party()));
    };
    const opts = this.optionsFor(event.tenant);
    for (const party of event.parties ?? []) {
      if (!party || typeof party !== 'object') continue;
      const pk = partyKeys(party.type, party.value, opts);
      if (!pk) continue;
      if (pk.ip) {
        lookupIp(pk.ip, pk.keys[0] as string, () => party);
        continue;
      }
      for (const k of pk.keys) {
        const set = t.exact.get(k);
        if (set) for (const e of set) hit(e, party);
        // At most 15 - MIN lookups per number, however many incomplete numbers are indexed.
        if (t.numberPrefixes.size > 0 && k.startsWith('e164|')) {
          const number = k.slice(5);
          for (let len = MIN_INCOMPLETE_NUMBER_DIGITS + 1; len <= number.length; len++) {
            const ps = t.numberPrefixes.get(number.slice(0, len));
            if (ps) for (const e of ps) hit(e, party);
          }
        }
      }
    }
    // The connection initiator (source) is the client side, the destination the server side.
    const lookupAddress = (role: PartyRole, value: string | null | undefined) => {
      if (typeof value !== 'string') return;
      let party: Party | undefined;
      const text = value.trim();
      // Most addresses are IPv4: read into scratch bytes, keyed by their own text (parsed IPv4
      // text is canonical, as ipKey would write it).
      if (parseIpv4Into(text, this.v4Scratch)) {
        const a: IpAddress = { family: 4, bytes: this.v4Scratch };
        lookupIp(a, `ip|${text}`, () => (party ??= { role, type: 'IPV4', value }));
        return;
      }
      const a = parseIpAddress(text);
      if (a) lookupIp(a, ipKey(a), () => (party ??= { role, type: a.family === 4 ? 'IPV4' : 'IPV6', value }));
    };
    if (event.network) {
      lookupAddress('CLIENT', event.network.srcAddress);
      lookupAddress('SERVER', event.network.dstAddress);
    }
    const out: MatchedEvent[] = [];
    if (!hits) return out;
    const selected: [Warrant, { roles: Set<PartyRole>; parties: Party[] }][] = [];
    for (const [entry, h] of hits) {
      const w = entry.warrant;
      if (isWarrantActiveAt(w, event.occurredAtMicros) && w.selection[flag]) selected.push([w, h]);
    }
    if (selected.length > 1) {
      selected.sort(([a], [b]) => (a.authorisationCountry + a.liid < b.authorisationCountry + b.liid ? -1 : 1));
    }
    for (const [w, { roles, parties }] of selected) {
      warrants?.push(w);
      out.push({
        liid: w.liid,
        tenant: w.tenant,
        authorisationCountry: w.authorisationCountry,
        warrantVersion: w.version,
        deliver: w.deliver,
        lemfIds: [...w.lemfIds],
        matchedRoles: PARTY_ROLES.filter((r) => roles.has(r)),
        matchedAtMicros: atMicros,
        event,
        matchedParties: parties.map((p) => ({ role: p.role, type: p.type, value: p.value })),
        courtCaseId: w.courtCaseId,
      });
    }
    return out;
  }
}
