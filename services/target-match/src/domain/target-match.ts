// target-match without its transport: service.ts feeds it the compacted li.<t>.warrants topic
// (applyWarrantRecord until the end offset, then markCaughtUp) and li.<t>.events (handleEvent),
// and produces the returned MatchedEvents to li.<t>.matched in the same transaction as the
// consumed offsets. Rejected events go to li.<t>.dlq with the reason.
import type { Clock } from '@li/core';
import type { NormalizeOptions } from '@li/identifiers';
import { warrantKey } from '@li/identifiers';
import type { MatchedEvent, Warrant } from '@li/schemas';
import { EVENT_CATEGORIES } from '@li/schemas';
import { TGM_ERRORS, type TgmErrorCode } from '../errors.ts';
import type { UpsertOutcome } from './warrant-index.ts';
import { WarrantIndex } from './warrant-index.ts';

export interface TargetMatchDeps {
  clock: Clock;
  /** National numbering defaults per tenant (e.g. country code 39), for national numbers in events. */
  tenantOptions?: (tenant: string) => NormalizeOptions;
}

export type EventOutcome = { ok: true; matched: MatchedEvent[] } | { ok: false; code: TgmErrorCode; reason: string };
export type WarrantOutcome = UpsertOutcome | { applied: false; reason: TgmErrorCode } | { removed: boolean };

/** A rejected event: its code, and the table's message with what was wrong (the DLQ reason). */
function rejected(code: TgmErrorCode, detail: string): EventOutcome {
  return { ok: false, code, reason: TGM_ERRORS.error(code, detail).message };
}

export class TargetMatch {
  readonly index: WarrantIndex;
  private readonly clock: Clock;
  private caughtUp = false;

  constructor(deps: TargetMatchDeps) {
    this.clock = deps.clock;
    this.index = new WarrantIndex(deps.tenantOptions);
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

  /** Ready once the warrants topic was read to its end offset at start. */
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
    return {
      ok: true,
      matched: this.index.match(event as Parameters<WarrantIndex['match']>[0], this.clock.now() * 1000),
    };
  }
}
