// bench/spool: what ingest's disk spool costs per durability policy (spool.fsync). Appends
// records of an encoded event's size in batches of the sizes the publisher hands it (one batch
// per linger while Kafka is away), with fsync never / interval / always, on the file system of
// BENCH_SPOOL_DIR (default the OS temporary directory; fsync on a tmpfs costs nothing, so the
// bench prints the file-system type). 'never' is the reference.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OutputRecord } from '@li/bus';
import { DiskSpool } from '@li/ingest/testing';
import { benchDeadline } from './lib/deadline.ts';
import { printMachine, printRows } from './lib/report.ts';

const RECORD_BYTES = Number(process.env.BENCH_RECORD_BYTES ?? 600);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const base = process.env.BENCH_SPOOL_DIR ?? tmpdir();
benchDeadline('bench/spool', 300);
printMachine();
console.log(
  `spool directory under ${base} (${execFileSync('stat', ['-f', '-c', '%T', base], { encoding: 'utf8' }).trim()}), records of ${RECORD_BYTES} octets, ${SECONDS} s per run`,
);

const record: OutputRecord = {
  topic: 'li.bench.events',
  key: 'call-1@bench',
  value: Buffer.alloc(RECORD_BYTES, 0x61),
  headers: {},
};

type Mode = 'never' | 'interval' | 'always';

/** Appends batches of `batch` records for SECONDS (committing as Kafka would); records per second. */
function run(mode: Mode, batch: number): number {
  const dir = mkdtempSync(join(base, 'bench-spool-'));
  const spool = new DiskSpool({
    directory: dir,
    maxBytes: 1 << 30,
    fsync: mode === 'interval' ? { mode, intervalMs: 1000 } : { mode },
  });
  const records = Array.from({ length: batch }, () => record);
  let n = 0;
  const t0 = performance.now();
  const end = t0 + SECONDS * 1000;
  while (performance.now() < end) {
    spool.append(records);
    n += batch;
    // Kafka takes the spool's head now and then, as after an outage: segments get deleted.
    if (spool.bytes > 64 << 20) {
      for (let b = spool.peek(500); b.length > 0; b = spool.peek(500)) spool.commit(b.length);
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  spool.close();
  rmSync(dir, { recursive: true, force: true });
  return n / seconds;
}

run('never', 100); // warm-up: the first run pays for page-cache and allocator growth

for (const batch of [1, 10, 100]) {
  const never = run('never', batch);
  console.log(`\nbatches of ${batch} record(s) (one per publisher linger):`);
  printRows([
    { name: 'fsync never (reference)', value: never, unit: 'records/s' },
    { name: 'fsync interval (1 s)', value: run('interval', batch), unit: 'records/s', reference: never },
    { name: 'fsync always', value: run('always', batch), unit: 'records/s', reference: never },
  ]);
}
