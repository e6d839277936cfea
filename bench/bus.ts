// bench/bus: raw kafkajs produce→consume throughput of 1 KiB records on the local broker.
// The reference for every other benchmark. Run: npm run bench:bus (infra must be up).
import { type BusReference, measureBusReference, REFERENCE_LABELS } from './lib/bus-reference.ts';
import { benchDeadline } from './lib/deadline.ts';
import type { ReferenceClient } from './lib/report.ts';
import { fmt, printMachine, printRows } from './lib/report.ts';

const records = Number(process.env.BENCH_RECORDS ?? 100_000);
benchDeadline('bench/bus', 600);
printMachine();
// Both clients: kafkajs as shipped (own process) and with @li/bus's replacements (this process).
// A warm-up round lets the JIT and the broker settle; the second round is the figure.
const results: [ReferenceClient, BusReference][] = [];
for (const client of ['kafkajs', 'patched'] as const) {
  await measureBusReference({ client, records: Math.min(records, 20_000) });
  results.push([client, await measureBusReference({ client, records })]);
}
for (const [client, r] of results) {
  console.log(
    `bench/bus: ${fmt(records)} records of ${r.recordBytes} B, 1 partition, acks=all; ${REFERENCE_LABELS[client]}`,
  );
  printRows([
    { name: 'produce', value: r.produceRecordsPerSec, unit: 'records/s' },
    { name: 'consume', value: r.consumeRecordsPerSec, unit: 'records/s' },
    { name: 'produce→consume', value: r.pipelineRecordsPerSec, unit: 'records/s' },
    { name: 'produce→consume', value: r.pipelineMBPerSec, unit: 'MB/s' },
    { name: 'produce→consume per CPU second', value: r.recordsPerCpuSec, unit: 'records/CPU-s' },
  ]);
}
