// Prometheus Operator objects and the Grafana dashboard, generated from one source each:
// the PrometheusRule from deploy/prometheus/alerts.yml (whose promtool tests stay), the
// dashboard from the panel list below (metric names as the services register them).
import { parse } from 'yaml';

type Obj = Record<string, unknown>;

/** alerts.yml's groups, unchanged, as a PrometheusRule. */
export function prometheusRule(alertsYaml: string): Obj {
  const rules = parse(alertsYaml) as { groups?: unknown[] };
  if (!Array.isArray(rules.groups) || rules.groups.length === 0) throw new Error('alerts.yml: no groups');
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: { name: 'li-alerts', labels: { 'app.kubernetes.io/part-of': 'li-mediation', role: 'alert-rules' } },
    spec: { groups: rules.groups },
  };
}

/** Scrapes /metrics of every pod of the platform on its `metrics` port (each replica on its own). */
export function podMonitor(): Obj {
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PodMonitor',
    metadata: { name: 'li-mediation' },
    spec: {
      selector: { matchLabels: { 'app.kubernetes.io/part-of': 'li-mediation' } },
      podMetricsEndpoints: [{ port: 'metrics', path: '/metrics', interval: '15s' }],
    },
  };
}

// Grafana's own variable syntax, not a JavaScript template.
const DATASOURCE = { type: 'prometheus', uid: '$' + '{datasource}' };

interface Panel {
  title: string;
  unit: string;
  exprs: { expr: string; legend: string }[];
}

// What an SRE opens first: delivery to each LEMF, then the DLQs, then the stages before.
const ROWS: { title: string; panels: Panel[] }[] = [
  {
    title: 'Delivery to LEMFs',
    panels: [
      {
        title: 'LEMF connected',
        unit: 'bool',
        exprs: [{ expr: 'max by (tenant, lemf) (li_cc_delivery_connected_bool)', legend: '{{tenant}}/{{lemf}}' }],
      },
      {
        title: 'Records sent per second',
        unit: 'ops',
        exprs: [
          {
            expr: 'sum by (tenant, lemf) (rate(li_cc_delivery_sent_records_total[5m]))',
            legend: '{{tenant}}/{{lemf}}',
          },
        ],
      },
      {
        title: 'Consumer lag (records)',
        unit: 'short',
        exprs: [{ expr: 'sum by (tenant, lemf) (li_cc_delivery_consumer_lag_records)', legend: '{{tenant}}/{{lemf}}' }],
      },
      {
        title: 'Keep-alive round trip',
        unit: 's',
        exprs: [
          { expr: 'max by (tenant, lemf) (li_cc_delivery_keepalive_rtt_seconds)', legend: '{{tenant}}/{{lemf}}' },
        ],
      },
    ],
  },
  {
    title: 'Dead-letter queues',
    panels: [
      {
        title: 'DLQ records per second by code',
        unit: 'ops',
        exprs: [
          { expr: 'sum by (service, code) (rate(li_bus_dlq_records_total[5m]))', legend: '{{service}} {{code}}' },
          {
            expr: 'sum by (code) (rate(li_cc_delivery_dead_letter_records_total[5m]))',
            legend: 'cc-delivery {{code}}',
          },
          { expr: 'sum by (code) (rate(li_ingest_problems_total[5m]))', legend: 'ingest {{code}}' },
        ],
      },
    ],
  },
  {
    title: 'Ingest, matching and encoding',
    panels: [
      {
        title: 'Ingest packets and events per second',
        unit: 'ops',
        exprs: [
          { expr: 'sum by (tenant) (rate(li_ingest_captured_packets_total[5m]))', legend: 'packets {{tenant}}' },
          { expr: 'sum by (tenant) (rate(li_ingest_events_total[5m]))', legend: 'events {{tenant}}' },
        ],
      },
      {
        title: 'Ingest problems and drops per second',
        unit: 'ops',
        exprs: [
          { expr: 'sum by (source, code) (rate(li_ingest_problems_total[5m]))', legend: '{{source}} {{code}}' },
          { expr: 'sum by (reason) (rate(li_ingest_dropped_total[5m]))', legend: 'dropped {{reason}}' },
        ],
      },
      {
        title: 'Matched records per second',
        unit: 'ops',
        exprs: [{ expr: 'sum by (tenant) (rate(li_target_match_matched_records_total[5m]))', legend: '{{tenant}}' }],
      },
      {
        title: 'Encoder records per second by kind',
        unit: 'ops',
        exprs: [
          {
            expr: 'sum by (handover, kind) (rate(li_iri_encoder_records_total[5m]))',
            legend: '{{handover}} {{kind}}',
          },
        ],
      },
    ],
  },
  {
    title: 'MCID storage',
    panels: [
      {
        title: 'MCID local storage full',
        unit: 'bool',
        exprs: [{ expr: 'max by (filesystem) (mcid_acr_disk_full)', legend: '{{filesystem}}' }],
      },
      {
        title: 'MCID ACR files closed per second',
        unit: 'ops',
        exprs: [{ expr: 'sum(rate(mcid_acr_files_closed_total[5m]))', legend: 'files' }],
      },
    ],
  },
];

/** The Grafana dashboard (schema 39): rows of time series on the `prometheus` datasource variable. */
export function dashboard(): Obj {
  const panels: Obj[] = [];
  let id = 1;
  let y = 0;
  for (const row of ROWS) {
    panels.push({ id: id++, type: 'row', title: row.title, collapsed: false, gridPos: { h: 1, w: 24, x: 0, y } });
    y += 1;
    const w = Math.max(6, Math.floor(24 / row.panels.length));
    row.panels.forEach((p, i) => {
      panels.push({
        id: id++,
        type: 'timeseries',
        title: p.title,
        datasource: DATASOURCE,
        fieldConfig: { defaults: { unit: p.unit }, overrides: [] },
        options: { legend: { displayMode: 'list', placement: 'bottom' }, tooltip: { mode: 'multi' } },
        gridPos: { h: 8, w, x: (i * w) % 24, y: y + Math.floor((i * w) / 24) * 8 },
        targets: p.exprs.map((e, j) => ({
          refId: String.fromCharCode(65 + j),
          expr: e.expr,
          legendFormat: e.legend,
          datasource: DATASOURCE,
        })),
      });
    });
    y += Math.ceil((row.panels.length * w) / 24) * 8;
  }
  return {
    uid: 'li-mediation',
    title: 'LI mediation: delivery first',
    tags: ['li-mediation'],
    timezone: 'utc',
    schemaVersion: 39,
    version: 1,
    refresh: '30s',
    time: { from: 'now-6h', to: 'now' },
    templating: {
      list: [{ name: 'datasource', type: 'datasource', query: 'prometheus', label: 'Prometheus' }],
    },
    panels,
  };
}

/** Every PromQL expression of the dashboard, for the test that checks them with promtool. */
export function dashboardExpressions(): string[] {
  return ROWS.flatMap((r) => r.panels.flatMap((p) => p.exprs.map((e) => e.expr)));
}

/** The dashboard as a ConfigMap the Grafana sidecar provisions (label grafana_dashboard). */
export function dashboardConfigMap(): Obj {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'li-grafana-dashboard', labels: { grafana_dashboard: '1' } },
    data: { 'li-mediation.json': `${JSON.stringify(dashboard(), null, 2)}\n` },
  };
}
