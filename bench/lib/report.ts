// How every benchmark prints: the machine, then rows of figures, each with its ratio to the
// reference measured in the same run.
import { cpus, totalmem } from 'node:os';

export function printMachine(): void {
  const cpu = cpus();
  console.log(
    `machine: ${cpu.length} x ${cpu[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`,
  );
  console.log(`reference client: ${REFERENCE_LABELS[referenceClient()]} (BENCH_REFERENCE=${referenceClient()})`);
}

/** Which kafkajs the reference runs on (bus-reference.ts): BENCH_REFERENCE=patched (default) or kafkajs. */
export type ReferenceClient = 'kafkajs' | 'patched';

export function referenceClient(): ReferenceClient {
  const v = process.env.BENCH_REFERENCE ?? 'patched';
  if (v !== 'kafkajs' && v !== 'patched') throw new Error(`BENCH_REFERENCE: expected kafkajs or patched, got ${v}`);
  return v;
}

export const REFERENCE_LABELS: Record<ReferenceClient, string> = {
  patched: 'kafkajs 2.2.4 with the @li/bus replacements, in the bench process',
  kafkajs: 'kafkajs 2.2.4 as shipped, in a process without @li/bus',
};

export function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

export function printRows(rows: { name: string; value: number; unit: string; reference?: number }[]): void {
  const width = Math.max(...rows.map((r) => r.name.length));
  for (const r of rows) {
    const ratio = r.reference ? `  ratio ${(r.value / r.reference).toFixed(2)} x reference` : '';
    console.log(`${r.name.padEnd(width)}  ${fmt(r.value).padStart(12)} ${r.unit}${ratio}`);
  }
}

/**
 * This process's CPU time (user + system) since the call. On a machine shared with other work,
 * work per CPU second compares runs far better than work per wall-clock second.
 */
export function cpuMeter(): { seconds(): number } {
  const start = process.cpuUsage();
  return {
    seconds() {
      const d = process.cpuUsage(start);
      return (d.user + d.system) / 1e6;
    },
  };
}
