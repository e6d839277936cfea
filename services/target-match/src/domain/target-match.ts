// target-match without its transport: service.ts feeds it the compacted li.<t>.warrants topics and
// the tenant registry li._system.tenants (applyWarrantRecord / applyTenantRecord until the end
// offsets, then markCaughtUp) and li.<t>.events (handleEvent),
// and produces the returned MatchedEvents to li.<t>.matched in the same transaction as the
// consumed offsets. Rejected events go to li.<t>.dlq with the reason.
import type { Clock } from '@li/core';
import type { NormalizeOptions } from '@li/identifiers';
import { warrantKey } from '@li/identifiers';
import type { MatchedEvent, NormalizedEvent, Tenant, Warrant } from '@li/schemas';
import { EVENT_CATEGORIES } from '@li/schemas';
import { TGM_ERRORS, type TgmErrorCode } from '../errors.ts';
import type { UpsertOutcome } from './warrant-index.ts';
import { WarrantIndex } from './warrant-index.ts';

/**
 * The fields of an event that matching, the tap book, the duplicate check and the watermarks
 * read: all but source, content and contentType; the service decodes only these
 * (its MatchedEvents copy the event as it came) (test: `event-fields.test.ts`).
 */
export const MATCH_EVENT_FIELDS = [
  'eventId',
  'tenant',
  'category',
  'action',
  'occurredAtMicros',
  'protocol',
  'communicationId',
  'parties',
  'network',
  'attributes',
] as const satisfies readonly (keyof NormalizedEvent)[];

export interface TargetMatchDeps {
  clock: Clock;
  /**
   * The deployment's numbering defaults, for a tenant that has no record on li._system.tenants:
   * a tenant's own record (its defaultCountryCode, nationalTrunkPrefix) always wins.
   */
  tenantOptions?: (tenant: string) => NormalizeOptions;
}

export type EventOutcome =
  | {
      ok: true;
      matched: MatchedEvent[];
      /** Those of `matched` whose warrant selects media: their calls' RTP is worth publishing. */
      media: MatchedEvent[];
    }
  | { ok: false; code: TgmErrorCode; reason: string };
export type WarrantOutcome = UpsertOutcome | { applied: false; reason: TgmErrorCode } | { removed: boolean };
export type TenantOutcome = { applied: boolean; reason?: TgmErrorCode | 'STALE_VERSION' } | { removed: boolean };

const COUNTRY_CODE = /^[1-9][0-9]{0,2}$/;
const TRUNK_PREFIX = /^[0-9]{1,2}$/;

/** A rejected event: its code, and the table's message with what was wrong (the DLQ reason). */
function rejected(code: TgmErrorCode, detail: string): EventOutcome {
  return { ok: false, code, reason: TGM_ERRORS.error(code, detail).message };
}

export class TargetMatch {
  readonly index: WarrantIndex;
  private readonly clock: Clock;
  private caughtUp = false;
  /** The warrant of each match of the event in hand (handleEvent is synchronous). */
  private readonly warrants: Warrant[] = [];
  /** Numbering plan and record version per tenant, from li._system.tenants. */
  private readonly numbering = new Map<string, { options: NormalizeOptions; version: number }>();

  constructor(deps: TargetMatchDeps) {
    this.clock = deps.clock;
    const fallback = deps.tenantOptions ?? (() => ({}));
    // Read per event, so a tenant record applies to the next event without rebuilding anything:
    // warrant targets are indexed in international form already (admf normalises them on entry).
    this.index = new WarrantIndex((tenant) => this.numbering.get(tenant)?.options ?? fallback(tenant));
  }

  /** One record of li._system.tenants, keyed by tenant id; value null is a tombstone. */
  applyTenantRecord(key: string, value: Tenant | null): TenantOutcome {
    if (value === null) return { removed: this.numbering.delete(key) };
    if (
      value.id !== key ||
      typeof value.defaultCountryCode !== 'string' ||
      !COUNTRY_CODE.test(value.defaultCountryCode) ||
      (value.nationalTrunkPrefix != null && !TRUNK_PREFIX.test(value.nationalTrunkPrefix))
    ) {
      return { applied: false, reason: 'TGM_ERR_BAD_TENANT' };
    }
    const seen = this.numbering.get(key);
    if (seen && seen.version > value.version) return { applied: false, reason: 'STALE_VERSION' };
    const options: NormalizeOptions = { defaultCountryCode: value.defaultCountryCode };
    if (value.nationalTrunkPrefix) options.nationalTrunkPrefix = value.nationalTrunkPrefix;
    this.numbering.set(key, { options, version: value.version });
    return { applied: true };
  }

  /** One record of li.<topicTenant>.warrants; value null is a tombstone. */
  applyWarrantRecord(topicTenant: string, key: string, value: Warrant | null): WarrantOutcome {
    if (value === null) return { removed: this.index.remove(topicTenant, key) };
    // A record naming another tenant, or keyed differently from its content, is not trusted.
    if (value.tenant !== topicTenant) return { applied: false, reason: 'TGM_ERR_TENANT_MISMATCH' };
    if (typeof value.liid !== 'string' || warrantKey(value) !== key)
      return { applied: false, reason: 'TGM_ERR_BAD_WARRANT' };
    return this.index.upsert(value);
  }

  /** Ready once the warrants topics and the tenant registry were read to their end offsets at start. */
  markCaughtUp(): void {
    this.caughtUp = true;
  }

  isReady(): boolean {
    return this.caughtUp;
  }

  /** One record of li.<topicTenant>.events. */
  handleEvent(topicTenant: string, event: unknown): EventOutcome {
    const e = event as Record<string, unknown> | null;
    if (!e || typeof e !== 'object') return rejected('TGM_ERR_BAD_EVENT', 'event is not an object');
    if (e.tenant !== topicTenant) return rejected('TGM_ERR_TENANT_MISMATCH', 'event tenant differs from its topic');
    if (!(EVENT_CATEGORIES as readonly unknown[]).includes(e.category)) {
      return rejected('TGM_ERR_BAD_EVENT', 'unknown category');
    }
    if (typeof e.occurredAtMicros !== 'number' || !Number.isFinite(e.occurredAtMicros)) {
      return rejected('TGM_ERR_BAD_EVENT', 'occurredAtMicros is not a number');
    }
    if (!Array.isArray(e.parties)) return rejected('TGM_ERR_BAD_EVENT', 'parties is not a list');
    const warrants = this.warrants;
    warrants.length = 0;
    const matched = this.index.match(event as Parameters<WarrantIndex['match']>[0], this.clock.now() * 1000, warrants);
    // Most events match nothing: no second empty array for them.
    const media = matched.length === 0 ? matched : matched.filter((_, i) => warrants[i]!.selection.media);
    return { ok: true, matched, media };
  }
}
