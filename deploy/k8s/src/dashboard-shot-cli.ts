// Renders the Grafana dashboard's panels (the same JSON the ConfigMap provisions) with real data
// from a Prometheus, as SVG time series in one HTML page, and screenshots it with a headless
// Chromium (Debian's `chromium`). No Grafana installs on our machines; the queries, legends,
// units and layout are the dashboard's own.
//   node src/dashboard-shot-cli.ts --prometheus http://127.0.0.1:9090 --out ../../docs/images/dashboard.png
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from './generate.ts';
import { dashboard } from './monitoring.ts';

const { values } = parseArgs({
  options: {
    prometheus: { type: 'string', default: 'http://127.0.0.1:9090' },
    out: { type: 'string', default: join(REPO_ROOT, 'docs/images/dashboard.png') },
    minutes: { type: 'string', default: '15' },
    chromium: { type: 'string', default: '/usr/bin/chromium' },
  },
});

type Target = { expr: string; legendFormat: string };
type Panel = { type: string; title: string; gridPos: { h: number; w: number; x: number; y: number } } & {
  targets?: Target[];
  fieldConfig?: { defaults: { unit: string } };
};
type Series = { name: string; points: [number, number][] };

const end = Math.floor(Date.now() / 1000);
const start = end - Number(values.minutes) * 60;
const step = 15;

async function queryRange(expr: string, legend: string): Promise<Series[]> {
  const url = new URL('/api/v1/query_range', values.prometheus);
  for (const [k, v] of Object.entries({ query: expr, start, end, step })) url.searchParams.set(k, String(v));
  const res = (await (await fetch(url)).json()) as {
    data?: { result: { metric: Record<string, string>; values: [number, string][] }[] };
  };
  return (res.data?.result ?? []).map((r) => ({
    name: legend.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, l: string) => r.metric[l] ?? ''),
    points: r.values.map(([t, v]) => [t, Number(v)] as [number, number]),
  }));
}

const COLOURS = ['#73bf69', '#f2cc0c', '#8ab8ff', '#ff780a', '#f2495c', '#5794f2', '#b877d9', '#fade2a'];
const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

function format(v: number, unit: string): string {
  if (unit === 's') return v < 1 ? `${(v * 1000).toFixed(0)} ms` : `${v.toFixed(2)} s`;
  if (unit === 'ops') return `${v < 10 ? v.toFixed(2) : v.toFixed(0)}/s`;
  if (unit === 'bool') return v >= 1 ? 'up' : 'down';
  return Math.abs(v) >= 1000 ? `${(v / 1000).toFixed(1)}k` : v.toFixed(v % 1 === 0 ? 0 : 2);
}

function svg(series: Series[], unit: string, w: number, h: number): string {
  const pad = { l: 56, r: 24, t: 8, b: 22 };
  const all = series.flatMap((s) => s.points.map((p) => p[1])).filter(Number.isFinite);
  const max = unit === 'bool' ? 1 : Math.max(1e-9, ...all) * 1.1;
  const x = (t: number) => pad.l + ((t - start) / (end - start)) * (w - pad.l - pad.r);
  const y = (v: number) => h - pad.b - (v / max) * (h - pad.t - pad.b);
  const grid = (unit === 'bool' ? [0, 1] : [0, 0.25, 0.5, 0.75, 1])
    .map(
      (f) =>
        `<line x1="${pad.l}" x2="${w - pad.r}" y1="${y(f * max)}" y2="${y(f * max)}" stroke="#2c3235"/>` +
        `<text x="${pad.l - 6}" y="${y(f * max) + 4}" fill="#8e8e8e" font-size="11" text-anchor="end">${esc(format(f * max, unit))}</text>`,
    )
    .join('');
  const ticks = [0, 1 / 3, 2 / 3, 1]
    .map((f) => {
      const t = start + f * (end - start);
      const label = new Date(t * 1000).toISOString().slice(11, 16);
      return `<text x="${x(t)}" y="${h - 6}" fill="#8e8e8e" font-size="11" text-anchor="middle">${label}</text>`;
    })
    .join('');
  const lines = series
    .map((s, i) => {
      const d = s.points.map(([t, v], j) => `${j === 0 ? 'M' : 'L'}${x(t).toFixed(1)},${y(v).toFixed(1)}`).join('');
      return `<path d="${d}" fill="none" stroke="${COLOURS[i % COLOURS.length]}" stroke-width="1.5"/>`;
    })
    .join('');
  const empty =
    series.length === 0 ? `<text x="${w / 2}" y="${h / 2}" fill="#8e8e8e" text-anchor="middle">No data</text>` : '';
  return `<svg width="${w}" height="${h}" xmlns="http://www.w3.org/2000/svg">${grid}${ticks}${lines}${empty}</svg>`;
}

const WIDTH = 1600;
const UNIT_H = 32;
const col = WIDTH / 24;
const d = dashboard() as { title: string; panels: Panel[] };
let bottom = 0;
const boxes: string[] = [];
for (const p of d.panels) {
  const { x, y, w, h } = p.gridPos;
  const left = x * col;
  const top = y * UNIT_H;
  const width = w * col - 8;
  const height = h * UNIT_H - 8;
  bottom = Math.max(bottom, top + height + 8);
  if (p.type === 'row') {
    boxes.push(`<div class="row" style="left:${left}px;top:${top}px;width:${width}px">${esc(p.title)}</div>`);
    continue;
  }
  const unit = p.fieldConfig?.defaults.unit ?? 'short';
  const series = (await Promise.all((p.targets ?? []).map((t) => queryRange(t.expr, t.legendFormat)))).flat();
  const legend = series
    .slice(0, 6)
    .map((s, i) => {
      const last = s.points.at(-1)?.[1];
      return `<span><i style="background:${COLOURS[i % COLOURS.length]}"></i>${esc(s.name)} ${last === undefined ? '' : esc(format(last, unit))}</span>`;
    })
    .join('');
  boxes.push(
    `<div class="panel" style="left:${left}px;top:${top}px;width:${width}px;height:${height}px">` +
      `<div class="title">${esc(p.title)}</div>${svg(series, unit, width - 16, height - 64)}<div class="legend">${legend}</div></div>`,
  );
}
const html = `<!doctype html><html><head><meta charset="utf-8"><style>
body{margin:0;background:#111217;font-family:Inter,Helvetica,Arial,sans-serif;color:#ccccdc;width:${WIDTH}px}
h1{font-size:18px;font-weight:500;margin:0;padding:12px 16px;height:24px}
h1 small{color:#8e8e8e;font-size:12px;margin-left:12px}
.row{position:absolute;font-size:15px;font-weight:500;padding:6px 8px}
.panel{position:absolute;background:#181b1f;border:1px solid #2c3235;border-radius:2px;padding:0 8px;box-sizing:border-box}
.title{font-size:13px;font-weight:500;padding:8px 0 4px}
.legend{font-size:11px;display:flex;flex-wrap:wrap;gap:4px 12px;padding-top:2px}
.legend i{display:inline-block;width:12px;height:3px;margin-right:4px;vertical-align:middle}
</style></head><body><h1>${esc(d.title)}<small>last ${values.minutes} min, ${new Date(end * 1000).toISOString().slice(0, 16)}Z, from ${esc(values.prometheus)}</small></h1>
<div style="position:relative;height:${bottom}px">${boxes.join('\n')}</div></body></html>`;

const out = resolve(values.out);
const page = join(dirname(out), '.dashboard.html');
mkdirSync(dirname(out), { recursive: true });
writeFileSync(page, html);
const r = spawnSync(
  values.chromium,
  [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--hide-scrollbars',
    `--window-size=${WIDTH},${bottom + 8}`,
    `--screenshot=${out}`,
    `file://${page}`,
  ],
  { encoding: 'utf8', timeout: 120_000 },
);
spawnSync('rm', ['-f', page]);
if (r.status !== 0) {
  console.error(r.stderr);
  process.exit(1);
}
console.log(`dashboard: ${out}`);
