// bench/client: is @platformatic/kafka (pure JavaScript) a faster Kafka client than kafkajs for
// what the pipeline does? Side by side in one run, each measurement in a process of its own
// (bench/lib/client-run.ts), on the shared broker with the services' TLS + SCRAM:
//   raw  produce→consume of BENCH_RECORDS × 1 KiB in requests of 1 000 (as bench:bus);
//   txn  processor.ts's loop: read a batch (read_committed), produce as many records, add the
//        input offset, commit; BENCH_TXN_RECORDS records pre-produced after an aborted
//        transaction of 1 000 the consumer must skip (committed/end tells).
// Clients: kafkajs as shipped, kafkajs with @li/bus's replacements (what the services run),
// @platformatic/kafka 2.12.1. A failure prints the client's error and the run goes on.
// Run: npm run bench:client (infra must be up).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { kafkaSecurityOptions } from '@li/bus';
import { testInfra } from '@li/testing';
import type { ClientUnderTest, RawResult, RunOptions, TxnResult } from './lib/client-run.ts';
import { benchDeadline } from './lib/deadline.ts';
import { fmt, printMachine } from './lib/report.ts';

const CLIENTS: ClientUnderTest[] = ['kafkajs', 'patched', 'platformatic'];
const LABELS: Record<ClientUnderTest, string> = {
  kafkajs: 'kafkajs 2.2.4 as shipped',
  patched: 'kafkajs 2.2.4 + @li/bus replacements',
  platformatic: '@platformatic/kafka 2.12.1',
};
const CHILD_TIMEOUT_MS = 180_000;

benchDeadline('bench/client', 1500);
printMachine();
const infra = testInfra();
const security = kafkaSecurityOptions(infra.security);
// PEM buffers as text: JSON carries strings
const ssl =
  security.ssl && typeof security.ssl === 'object'
    ? { ...security.ssl, ...(security.ssl.ca ? { ca: [security.ssl.ca].flat().map(String) } : {}) }
    : security.ssl;
const base: RunOptions = {
  brokers: infra.brokers,
  records: Number(process.env.BENCH_RECORDS ?? 100_000),
  recordBytes: 1024,
  batchSize: 1000,
  txnBatchMax: Number(process.env.BENCH_TXN_BATCH ?? 1000),
  timeoutMs: 120_000,
  pltRetryMs: Number(process.env.BENCH_PLT_RETRY_MS ?? 20),
  abortedPrefix: process.env.BENCH_TXN_ABORTED !== '0',
};
const txnRecords = Number(process.env.BENCH_TXN_RECORDS ?? 50_000);

/** One measurement in a child process; its error output goes through, a failure is returned as text. */
async function measure<T>(client: ClientUnderTest, kind: 'raw' | 'txn', options: RunOptions): Promise<T | string> {
  // @li/bus replaces kafkajs internals only if it loads before kafkajs: first, by --import.
  const preload = client === 'patched' ? ['--import', import.meta.resolve('@li/bus')] : [];
  const child = spawn(process.execPath, [...preload, join(import.meta.dirname, 'lib/client-run.ts')], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  child.stdin.end(JSON.stringify({ client, kind, security: { ...security, ssl }, options }));
  const [out, err, code] = await Promise.all([text(child.stdout), text(child.stderr), exited]);
  clearTimeout(killer);
  if (code !== 0) {
    const why = code === null ? `killed after ${CHILD_TIMEOUT_MS / 1000} s` : `exit ${code}`;
    return `${why}: ${err.trim().split('\n').slice(-6).join(' | ')}`;
  }
  return JSON.parse(out) as T;
}

const raw: [ClientUnderTest, RawResult | string][] = [];
const txn: [ClientUnderTest, TxnResult | string][] = [];
for (const client of CLIENTS) {
  console.error(`[bench/client] ${LABELS[client]}: warm-up, raw, transactional`);
  // A short round first lets the broker settle on this client's requests.
  await measure<RawResult>(client, 'raw', { ...base, records: Math.min(base.records, 20_000) });
  raw.push([client, await measure<RawResult>(client, 'raw', base)]);
  txn.push([client, await measure<TxnResult>(client, 'txn', { ...base, records: txnRecords })]);
}

const width = Math.max(...CLIENTS.map((c) => LABELS[c].length));
const cell = (n: number, d = 0) => fmt(n, d).padStart(10);
console.log(
  `\nbench/client raw: ${fmt(base.records)} records of ${base.recordBytes} B, requests of ${base.batchSize}, acks=all, 1 partition`,
);
console.log(
  `${'client'.padEnd(width)}  ${'produce/s'.padStart(10)} ${'prod→cons/s'.padStart(11)} ${'per CPU-s'.padStart(10)}`,
);
for (const [client, r] of raw) {
  if (typeof r === 'string') console.log(`${LABELS[client].padEnd(width)}  FAILED ${r}`);
  else
    console.log(
      `${LABELS[client].padEnd(width)}  ${cell(r.produceRecordsPerSec)} ${cell(r.pipelineRecordsPerSec).padStart(11)} ${cell(r.recordsPerCpuSec)}`,
    );
}
console.log(
  `\nbench/client txn: ${fmt(txnRecords)} records of ${base.recordBytes} B in, as many out, 1 partition each; read_committed; one transaction per batch`,
);
console.log(
  `${'client'.padEnd(width)}  ${'batches'.padStart(7)} ${'rec/batch'.padStart(9)} ${'batches/s'.padStart(10)} ${'records/s'.padStart(10)} ${'per CPU-s'.padStart(10)} ${'txn ms mean/p50/p99'.padStart(20)}  committed/end`,
);
for (const [client, r] of txn) {
  if (typeof r === 'string') console.log(`${LABELS[client].padEnd(width)}  FAILED ${r}`);
  else
    console.log(
      `${LABELS[client].padEnd(width)}  ${fmt(r.batches).padStart(7)} ${fmt(r.records / r.batches).padStart(9)} ${cell(r.batchesPerSec, 1)} ${cell(r.recordsPerSec)} ${cell(r.recordsPerCpuSec)} ${`${fmt(r.txnMsMean, 1)}/${fmt(r.txnMsP50, 1)}/${fmt(r.txnMsP99, 1)}`.padStart(20)}  ${r.committedOffset}/${r.endOffset}${r.committedOffset === r.endOffset ? '' : ' (aborted records read?)'}`,
    );
}
for (const [client, r] of txn) {
  if (typeof r !== 'string' && r.retried) {
    const list = Object.entries(r.retried).map(([what, n]) => `${what} × ${n}`);
    console.log(`${LABELS[client]} producer retries: ${list.join(', ') || 'none'}`);
  }
}
process.exit(0);
