// Runs the domain over the ports: apply → commit the changes → deliver the reports → record
// the delivery. main.ts calls handle() per consumed event and tick() on a timer.
import type { NormalizedEvent } from '@li/schemas';
import { Counter, type Registry } from 'prom-client';
import type { ApplyResult, DomainConfig } from './domain/engine.ts';
import { apply, DEFAULT_DOMAIN_CONFIG, tick } from './domain/engine.ts';
import { OverlayView } from './domain/memory-state.ts';
import type { Change, McidReport } from './domain/model.ts';
import { keys } from './domain/model.ts';
import type { Clock, Log, ReportSink, StateStore } from './ports.ts';

interface ServiceMetrics {
  events: Counter<'tenant' | 'result'>;
  reports: Counter<'tenant' | 'trigger'>;
  deliveries: Counter<'tenant' | 'result' | 'code'>;
}

function metrics(registry: Registry): ServiceMetrics {
  const get = (name: string) => registry.getSingleMetric(name);
  return {
    events:
      (get('mcid_events_total') as Counter<'tenant' | 'result'>) ??
      new Counter({
        name: 'mcid_events_total',
        help: 'SIP events applied',
        labelNames: ['tenant', 'result'],
        registers: [registry],
      }),
    reports:
      (get('mcid_reports_total') as Counter<'tenant' | 'trigger'>) ??
      new Counter({
        name: 'mcid_reports_total',
        help: 'MCID reports made, by trigger',
        labelNames: ['tenant', 'trigger'],
        registers: [registry],
      }),
    deliveries:
      (get('mcid_report_deliveries_total') as Counter<'tenant' | 'result' | 'code'>) ??
      new Counter({
        name: 'mcid_report_deliveries_total',
        help: 'Report deliveries to the CDS or local storage, by result and error code',
        labelNames: ['tenant', 'result', 'code'],
        registers: [registry],
      }),
  };
}

export interface McidServiceDeps {
  store: StateStore;
  sink: ReportSink;
  clock: Clock;
  log: Log;
  registry: Registry;
  domain?: DomainConfig;
}

export class McidService {
  private readonly deps: McidServiceDeps;
  private readonly m: ServiceMetrics;

  constructor(deps: McidServiceDeps) {
    this.deps = deps;
    this.m = metrics(deps.registry);
  }

  /** Applies one event; the returned promise settles after the state commit and delivery attempts. */
  async handle(event: NormalizedEvent): Promise<ApplyResult> {
    const r = apply(this.deps.store, event, this.deps.domain ?? DEFAULT_DOMAIN_CONFIG);
    await this.deps.store.commit(r.changes);
    this.m.events.inc({
      tenant: event.tenant,
      result: r.notes.some((n) => n.kind === 'ignored') ? 'ignored' : 'applied',
    });
    await this.deliverAll(r.reports);
    return r;
  }

  /**
   * Applies several events in order with one state commit, then delivers their reports: for a
   * consumer batch. Each event sees the writes of the ones before it.
   */
  async handleBatch(events: readonly NormalizedEvent[]): Promise<void> {
    const overlay = new OverlayView(this.deps.store);
    const reports: McidReport[] = [];
    for (const event of events) {
      const r = apply(overlay, event, this.deps.domain ?? DEFAULT_DOMAIN_CONFIG);
      overlay.stage(r.changes);
      reports.push(...r.reports);
      this.m.events.inc({
        tenant: event.tenant,
        result: r.notes.some((n) => n.kind === 'ignored') ? 'ignored' : 'applied',
      });
    }
    await this.deps.store.commit(overlay.changes());
    await this.deliverAll(reports);
  }

  async tick(): Promise<ApplyResult> {
    const r = tick(this.deps.store, this.deps.clock.nowMicros(), this.deps.domain ?? DEFAULT_DOMAIN_CONFIG);
    await this.deps.store.commit(r.changes);
    await this.deliverAll(r.reports);
    await this.redeliver();
    return r;
  }

  /** Retries every report no sink has confirmed yet (e.g. CDS and local storage both failed). */
  async redeliver(): Promise<number> {
    const pending: McidReport[] = [];
    for (const k of this.deps.store.keys('report/')) {
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
    for (const report of reports) {
      if (fresh) this.m.reports.inc({ tenant: report.tenant, trigger: report.trigger });
      const d = await this.deps.sink.deliver(report);
      this.m.deliveries.inc({ tenant: report.tenant, result: d.ok ? d.via : 'failed', code: d.ok ? '' : d.code });
      if (!d.ok) {
        this.deps.log.warn({ tenant: report.tenant, code: d.code }, 'MCID report not delivered; kept for retry');
        continue;
      }
      delivered.push({
        key: keys.report(report.tenant, report.reportId),
        value: { type: 'report', report, delivery: { via: d.via, atMicros: this.deps.clock.nowMicros() } },
      });
    }
    await this.deps.store.commit(delivered);
  }
}
