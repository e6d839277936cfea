// The McidService's counters (prom-client) and its log line for an undelivered report.
import type { Logger } from '@li/log';
import { Counter, type Registry } from 'prom-client';
import type { McidObserver } from '../domain/ports.ts';

function counter<L extends string>(registry: Registry, name: string, help: string, labelNames: L[]): Counter<L> {
  return (
    (registry.getSingleMetric(name) as Counter<L> | undefined) ??
    new Counter({ name, help, labelNames, registers: [registry] })
  );
}

export function mcidObserver(registry: Registry, log: Logger): McidObserver {
  const events = counter(registry, 'mcid_events_total', 'SIP events applied', ['tenant', 'result']);
  const reports = counter(registry, 'mcid_reports_total', 'MCID reports made, by trigger', ['tenant', 'trigger']);
  const deliveries = counter(
    registry,
    'mcid_report_deliveries_total',
    'Report deliveries to the CDS or local storage, by result and error code',
    ['tenant', 'result', 'code'],
  );
  return {
    eventApplied: (tenant, result) => events.inc({ tenant, result }),
    reportMade: (report) => reports.inc({ tenant: report.tenant, trigger: report.trigger }),
    deliveryTried(report, d) {
      deliveries.inc({ tenant: report.tenant, result: d.ok ? d.via : 'failed', code: d.ok ? '' : d.code });
      if (!d.ok) log.warn({ tenant: report.tenant, code: d.code }, 'MCID report not delivered; kept for retry');
    },
  };
}
