// The McidService's counters (prom-client) and its log line for an undelivered report.
import type { Logger } from '@li/log';
import { Counter, type Registry } from 'prom-client';
import type { McidReport } from '../domain/model.ts';
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
    eventsApplied: (tenant, result, count) => events.inc({ tenant, result }, count),
    reportsMade(made) {
      for (const [labels, n] of tally(made, (r) => ({ tenant: r.tenant, trigger: r.trigger }))) reports.inc(labels, n);
    },
    deliveriesTried(tried, results) {
      const labelsOf = (r: McidReport, i: number) => {
        const d = results[i]!;
        return { tenant: r.tenant, result: d.ok ? d.via : 'failed', code: d.ok ? '' : d.code };
      };
      for (const [labels, n] of tally(tried, labelsOf)) deliveries.inc(labels, n);
      tried.forEach((r, i) => {
        const d = results[i]!;
        if (!d.ok) log.warn({ tenant: r.tenant, code: d.code }, 'MCID report not delivered; kept for retry');
      });
    },
  };
}

/** How many items share each label set: one counter increment per set rather than per item. */
function tally<T, L extends Record<string, string>>(
  items: readonly T[],
  labelsOf: (item: T, i: number) => L,
): [L, number][] {
  const counts = new Map<string, [L, number]>();
  items.forEach((item, i) => {
    const labels = labelsOf(item, i);
    const key = Object.values(labels).join('\u0000');
    const seen = counts.get(key);
    if (seen) seen[1]++;
    else counts.set(key, [labels, 1]);
  });
  return [...counts.values()];
}
