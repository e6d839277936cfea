// The reference every benchmark prints its ratio against: raw kafkajs produce→consume
// throughput of 1 KiB records on the same broker, measured in the same run.
//
// Which kafkajs: by default the one of the benchmark's own process, which has @li/bus's
// replacements of some kafkajs internals loaded (record coding, CRC-32C, producer grouping:
// libs/bus/src/kafkajs-*.ts), so the reference gets faster with them and the ratios show only
// what a stage costs beyond the client. BENCH_REFERENCE=kafkajs measures kafkajs as shipped
// instead, in a child process that never loads @li/bus (the "raw kafkajs" reference).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { kafkaSecurityOptions } from '@li/bus';
import { testInfra } from '@li/testing';
import { type BusReference, type BusReferenceOptions, runReference } from './reference-run.ts';
import { REFERENCE_LABELS, type ReferenceClient, referenceClient } from './report.ts';

export type { BusReference, BusReferenceOptions };

export { REFERENCE_LABELS };

export async function measureBusReference(
  options: BusReferenceOptions & { client?: ReferenceClient } = {},
): Promise<BusReference> {
  const { client = referenceClient(), ...rest } = options;
  // The same TLS and SCRAM as the services: the reference pays what they pay.
  const security = kafkaSecurityOptions(testInfra().security);
  if (client === 'patched') return runReference(security, rest);
  const child = spawn(process.execPath, [join(import.meta.dirname, 'raw-reference.ts')], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  // PEM buffers as text: JSON carries strings
  const ssl =
    security.ssl && typeof security.ssl === 'object'
      ? { ...security.ssl, ...(security.ssl.ca ? { ca: [security.ssl.ca].flat().map(String) } : {}) }
      : security.ssl;
  child.stdin.end(JSON.stringify({ security: { ...security, ssl }, options: rest }));
  const [out, code] = await Promise.all([text(child.stdout), exited]);
  if (code !== 0) throw new Error(`the kafkajs reference process exited with ${code}`);
  return JSON.parse(out) as BusReference;
}
