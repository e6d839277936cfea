// bench/bus: raw kafkajs produce→consume throughput of 1 KiB records on the local broker.
// The reference for every other benchmark. Run: npm run bench:bus (infra must be up).
import { measureBusReference } from './lib/bus-reference.ts';
import { benchDeadline } from './lib/deadline.ts';
import { fmt, printMachine, printRows } from './lib/report.ts';

const records = Number(process.env.BENCH_RECORDS ?? 100_000);
benchDeadline('bench/bus', 600);
printMachine();
// A warm-up round lets the JIT and the broker settle; the second round is the figure.
await measureBusReference({ records: Math.min(records, 20_000) });
const r = await measureBusReference({ records });
console.log(`bench/bus: ${fmt(records)} records of ${r.recordBytes} B, 1 partition, acks=all`);
printRows([
  { name: 'produce', value: r.produceRecordsPerSec, unit: 'records/s' },
  { name: 'consume', value: r.consumeRecordsPerSec, unit: 'records/s' },
  { name: 'produce→consume', value: r.pipelineRecordsPerSec, unit: 'records/s' },
  { name: 'produce→consume', value: r.pipelineMBPerSec, unit: 'MB/s' },
  { name: 'produce→consume per CPU second', value: r.recordsPerCpuSec, unit: 'records/CPU-s' },
]);
