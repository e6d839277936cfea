// Prometheus metrics of target-match. Labels are only tenant and outcome: never a LIID or a target.
import { Counter, type Registry } from 'prom-client';

export interface MatchMetrics {
  /** One committed batch of `records` events of `tenant`: `rejected` went to the DLQ, `matched` records were written. */
  committed(tenant: string, records: number, rejected: number, matched: number): void;
  /** Events of a committed batch of `tenant` dropped for repeating an eventId already read. */
  duplicates(tenant: string, count: number): void;
}

export function createMatchMetrics(registry: Registry): MatchMetrics {
  const events = new Counter({
    name: 'li_target_match_events_total',
    help: 'Events read, by outcome (matched, unmatched, rejected).',
    labelNames: ['tenant', 'outcome'],
    registers: [registry],
  });
  const matchedOut = new Counter({
    name: 'li_target_match_matched_records_total',
    help: 'MatchedEvent records written, one per (event, LIID).',
    labelNames: ['tenant'],
    registers: [registry],
  });
  const duplicates = new Counter({
    name: 'li_target_match_duplicate_events_total',
    help: 'Events dropped without matching because their eventId was read already (the event was written twice).',
    labelNames: ['tenant'],
    registers: [registry],
  });
  return {
    duplicates(tenant, count) {
      if (count > 0) duplicates.inc({ tenant }, count);
    },
    committed(tenant, records, rejected, matched) {
      events.inc({ tenant, outcome: 'rejected' }, rejected);
      matchedOut.inc({ tenant }, matched);
      events.inc({ tenant, outcome: 'handled' }, records - rejected);
    },
  };
}
