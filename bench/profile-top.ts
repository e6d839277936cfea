// Prints a .cpuprofile's top frames by self time and its time per package: `node
// profile-top.ts <file> [rows]`. The tables in docs/PERFORMANCE.md come from this.
import { readFileSync } from 'node:fs';

interface Frame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface Profile {
  nodes: { id: number; callFrame: Frame }[];
  samples: number[];
  timeDeltas: number[];
}

const [file, rowsArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: node profile-top.ts <file.cpuprofile> [rows]');
  process.exit(2);
}
const rows = Number(rowsArg ?? 15);
const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const frames = new Map(p.nodes.map((n) => [n.id, n.callFrame]));
const where = (f: Frame) =>
  f.url.replace(/^file:\/\/.*?\/(services|libs|bench)\//, '$1/').replace(/.*node_modules\//, '');
const pkg = (f: Frame) => {
  if (!f.url) return f.functionName || '(native)';
  const m = /node_modules\/((@[^/]+\/)?[^/]+)/.exec(f.url);
  if (m) return m[1]!;
  const s = /\/((services|libs|bench)\/[^/]+)\//.exec(f.url);
  return s ? s[1]! : f.url.startsWith('node:') ? 'node internals' : f.url;
};
const self = new Map<string, number>();
const byPkg = new Map<string, number>();
let total = 0;
let idle = 0;
p.samples.forEach((id, i) => {
  const f = frames.get(id)!;
  const d = p.timeDeltas[i] ?? 0;
  // Waiting is not a cost of the code: shares are of the time on the CPU.
  if (f.functionName === '(idle)') {
    idle += d;
    return;
  }
  total += d;
  const k = `${f.functionName || '(anonymous)'} ${where(f)}${f.url ? `:${f.lineNumber + 1}` : ''}`;
  self.set(k, (self.get(k) ?? 0) + d);
  byPkg.set(pkg(f), (byPkg.get(pkg(f)) ?? 0) + d);
});
const line = (k: string, v: number) =>
  `${(v / 1000).toFixed(0).padStart(7)} ms ${((100 * v) / total).toFixed(1).padStart(5)} %  ${k}`;
console.log(
  `${(total / 1000).toFixed(0)} ms on the CPU (${(idle / 1000).toFixed(0)} ms idle); self time, top ${rows}:`,
);
for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, rows)) console.log(line(k, v));
console.log('by package:');
for (const [k, v] of [...byPkg].sort((a, b) => b[1] - a[1]).slice(0, rows)) console.log(line(k, v));
