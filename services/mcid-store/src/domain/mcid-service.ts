// Runs the engine over the ports: apply → commit the changes → deliver the reports → record
// the delivery. service.ts calls handleBatch() per consumed batch and tick() on a timer.
import type { Clock } from '@li/core';
import type { ApplyResult, DomainConfig } from './engine.ts';
import { apply, DEFAULT_DOMAIN_CONFIG, serviceActive, tick } from './engine.ts';
import { OverlayView } from './memory-state.ts';
import type { Change, McidReport } from './model.ts';
import { keys, nowMicros } from './model.ts';
import type { DeliveryResult, McidObserver, ReportSink, StateStore } from './ports.ts';
import type { McidEvent } from './sip.ts';

interface McidServiceDeps {
  store: StateStore;
  sink: ReportSink;
  clock: Clock;
  observer: McidObserver;
  domain?: DomainConfig;
}

export class McidService {
  private readonly deps: McidServiceDeps;
  // Reports a delivery is under way for: a timer's redeliver() running beside a batch (or
  // beside a slower timer run) must not deliver them a second time.
  private readonly delivering = new Set<string>();

  constructor(deps: McidServiceDeps) {
    this.deps = deps;
  }

  /** Applies one event; the returned promise settles after the state commit and delivery attempts. */
  async handle(event: McidEvent): Promise<ApplyResult> {
    const r = apply(this.deps.store, event, this.deps.domain ?? DEFAULT_DOMAIN_CONFIG);
    await this.deps.store.commit(r.changes);
    this.deps.observer.eventsApplied(event.tenant, isIgnored(r) ? 'ignored' : 'applied', 1);
    await this.deliverAll(r.reports);
    return r;
  }

  /**
   * Applies several events in order with one state commit, then delivers their reports: for a
   * consumer batch. Each event sees the writes of the ones before it.
   */
  async handleBatch(events: readonly McidEvent[]): Promise<void> {
    const overlay = new OverlayView(this.deps.store);
    const reports: McidReport[] = [];
    // Counted per run of one tenant's events, so the counters move once per batch.
    let tenant = '';
    let applied = 0;
    let ignored = 0;
    const count = () => {
      if (applied > 0) this.deps.observer.eventsApplied(tenant, 'applied', applied);
      if (ignored > 0) this.deps.observer.eventsApplied(tenant, 'ignored', ignored);
      applied = 0;
      ignored = 0;
    };
    // The administrative states, read once per run of one tenant's events: no event changes
    // them, and nothing else can between two events of this synchronous loop.
    let active: boolean | null = null;
    for (const event of events) {
      if (event.tenant !== tenant || active === null) {
        count();
        tenant = event.tenant;
        active = serviceActive(overlay, tenant);
      }
      const r = apply(overlay, event, this.deps.domain ?? DEFAULT_DOMAIN_CONFIG, active);
      overlay.stage(r.changes);
      for (const report of r.reports) reports.push(report);
      if (isIgnored(r)) ignored++;
      else applied++;
    }
    count();
    await this.deps.store.commit(overlay.changes());
    await this.deliverAll(reports);
  }

  async tick(): Promise<ApplyResult> {
    const r = tick(this.deps.store, nowMicros(this.deps.clock), this.deps.domain ?? DEFAULT_DOMAIN_CONFIG);
    await this.deps.store.commit(r.changes);
    await this.deliverAll(r.reports);
    await this.redeliver();
    return r;
  }

  /** Retries every report no sink has confirmed yet (e.g. CDS and local storage both failed). */
  async redeliver(): Promise<number> {
    const pending: McidReport[] = [];
    const store = this.deps.store;
    for (const k of store.undeliveredReportKeys?.() ?? store.keys('report/')) {
      if (this.delivering.has(k)) continue;
      const v = this.deps.store.get(k);
      if (v?.type === 'report' && v.delivery === null) pending.push(v.report);
    }
    pending.sort((a, b) => a.createdAtMicros - b.createdAtMicros);
    await this.deliverAll(pending, false);
    return pending.length;
  }

  private async deliverAll(reports: McidReport[], fresh = true): Promise<void> {
    // Deliveries are recorded in one commit after the batch: a crash before it re-delivers,
    // which the sinks' report ids make recognisable.
    const delivered: Change[] = [];
    if (fresh && reports.length > 0) this.deps.observer.reportsMade(reports);
    const reportKeys = reports.map((r) => keys.report(r.tenant, r.reportId));
    for (const k of reportKeys) this.delivering.add(k);
    try {
      const results = await this.deliverInOrder(reports);
      if (reports.length > 0) this.deps.observer.deliveriesTried(reports, results);
      reports.forEach((report, i) => {
        const d = results[i]!;
        if (!d.ok) return;
        delivered.push({
          key: reportKeys[i]!,
          value: { type: 'report', report, delivery: { via: d.via, atMicros: nowMicros(this.deps.clock) } },
        });
      });
      await this.deps.store.commit(delivered);
    } finally {
      for (const k of reportKeys) this.delivering.delete(k);
    }
  }

  private async deliverInOrder(reports: readonly McidReport[]): Promise<DeliveryResult[]> {
    if (reports.length === 0) return [];
    const sink = this.deps.sink;
    if (sink.deliverMany) return sink.deliverMany(reports);
    const results: DeliveryResult[] = [];
    for (const report of reports) results.push(await sink.deliver(report));
    return results;
  }
}

function isIgnored(r: ApplyResult): boolean {
  return r.notes.some((n) => n.kind === 'ignored');
}
