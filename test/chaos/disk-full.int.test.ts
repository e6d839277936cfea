// Chaos scenario 6 (issue #16): a disk fills up where the pipeline writes files, mid-stream, and
// the space comes back. Real traffic (SIPp calls mirrored to ingest) runs through the in-process
// pipeline to a warrant whose LEMF takes HI2 files over SFTP (Debian OpenSSH) and to an MCID
// subscriber whose reports mcid-store stores in local ACR files. Each disk is a small tmpfs that
// the test fills with one filler file.
//
// cc-delivery keeps no local spool: a file LEMF's file is built in memory, uploaded under a
// temporary name and renamed (adapters/file-transport.ts). The disk that fills on its path is the
// file server's, so that is the one filled here. While full: a clear error (DLV_ERR_UPLOAD_SHORT,
// retries counted), no offset committed past a record not in a final file, no crash, no DLQ record.
// After: every record in the files, (LIID, CIN) sequence numbers 0..n without gap or repeat, file
// numbers 1..n without gap or repeat. mcid-store: MCD_ERR_DISK_FULL while full, the reports kept
// as undelivered and stored once each after the space returns.
import { execFileSync } from 'node:child_process';
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Bus, createBus, lemfTopicName, type ReadRecord, readTopic, topicName } from '@li/bus';
import { lemfGroupId } from '@li/cc-delivery/service';
import { SshdPeer } from '@li/cc-delivery/test-servers';
import { pduLength } from '@li/etsi';
import { memoryLogger, testInfra, uniqueTenant, waitFor } from '@li/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkSequences, describeCheck, isComplete } from '../demo/report.ts';
import { TOKENS } from '../e2e/harness.ts';
import { type ReceivedRecord, summarise } from '../pipeline/lemf.ts';
import { addWarrant, type Pipeline, startPipeline } from '../pipeline/pipeline.ts';
import { SIP_SERVICE, sipCall } from '../pipeline/traffic.ts';
import { faultSeconds, recordRecovery } from './scenario.ts';

const LEMF = 'lemf-sftp';
const LIID = 'DISKFULL1';
const FILE_NAME = /^([A-Z0-9]+)_(\d{6})\.ber$/;

let bus: Bus;
let pipeline: Pipeline;
let sshd: SshdPeer;
let acrDir: string;
let secrets: string;
let tenant: string;
const mounts: string[] = [];

/** Mounts a tmpfs of `size` on dir; the scenario cannot run without one, so it says what it needs. */
function mountTmpfs(dir: string, size: string): void {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (e) {
    const why = (e as { stderr?: Buffer }).stderr?.toString().trim() || String(e);
    throw new Error(
      `the disk-full scenario mounts a ${size} tmpfs on ${dir} and needs root (or CAP_SYS_ADMIN) for it: ${why}`,
    );
  }
  mounts.push(dir);
}

/** Fills dir's file system to the last byte with one file; returns its path. */
function fill(dir: string): string {
  const path = join(dir, 'filler');
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(64 * 1024, 0xaa);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  } finally {
    closeSync(fd);
  }
  return path;
}

/** Splits a file of concatenated BER PDUs. */
function pdus(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  while (at < bytes.length) {
    const len = pduLength(bytes.subarray(at));
    if (!len.ok || len.length === undefined || at + len.length > bytes.length) {
      throw new Error(`file holds a truncated or non-BER PDU at byte ${at}`);
    }
    out.push(bytes.subarray(at, at + len.length));
    at += len.length;
  }
  return out;
}

/** The HI2 files on the SFTP server (final names only) and the records they hold, in file order. */
function delivered(): { names: string[]; records: ReceivedRecord[] } {
  const names = readdirSync(sshd.files)
    .filter((n) => FILE_NAME.test(n))
    .sort();
  const records = names.flatMap((n) => pdus(readFileSync(join(sshd.files, n))).map((b) => summarise('HI2', b)));
  return { names, records };
}

const idOf = (r: { liid: string; cin: number; seq: number; type: string }) => `${r.liid}/${r.cin}/${r.seq}/${r.type}`;

/** What cc-delivery's router copied from li.<t>.hi2 into the LEMF's queue, decoded, with where each record sits. */
async function hi2Topic(): Promise<{ rec: ReadRecord; id: string }[]> {
  const recs = await readTopic(bus.kafka, lemfTopicName(tenant, LEMF, 'hi2'));
  return recs.filter((r) => r.value).map((rec) => ({ rec, id: idOf(summarise('HI2', rec.value!)) }));
}

/** cc-delivery's committed offset per partition of the LEMF's hi2 queue for the LEMF's group. */
async function committed(): Promise<Map<number, number>> {
  const admin = await bus.admin();
  const [o] = await admin.fetchOffsets({
    groupId: lemfGroupId(tenant, LEMF),
    topics: [lemfTopicName(tenant, LEMF, 'hi2')],
  });
  return new Map((o?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
}

async function metrics(service: string): Promise<string> {
  return (await fetch(`http://127.0.0.1:${pipeline.metricsPorts[service]}/metrics`)).text();
}

/** Sum of a metric's samples whose line contains every `has` string. */
function sample(text: string, name: string, ...has: string[]): number {
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) && has.every((h) => l.includes(h)))
    .reduce((s, l) => s + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

/** Runs SIPp calls to the target, one after another, until `until` resolves true; returns how many. */
async function callsUntil(until: () => boolean, atLeast: number): Promise<number> {
  let n = 0;
  while (n < atLeast || !until()) {
    const c = await sipCall(pipeline.sipUdpPort, 200);
    const r = await c.done;
    if (!r.ok) throw new Error(`SIPp call failed:\n${r.output.slice(-1500)}`);
    n++;
  }
  return n;
}

/** What mcid-store's report listing answers (other answers are only printed). */
interface McidBody {
  total: number;
  reports: { report: { reportId: string } }[];
}

/** mcid-store's REST API, as the tenant's provisioner (or the operator's admin for the global state). */
async function mcidApi(
  method: string,
  path: string,
  body?: unknown,
  token = pipeline.tokens.prov,
): Promise<{ status: number; body: McidBody }> {
  const res = await fetch(`http://127.0.0.1:${pipeline.mcidHttpPort}/v1${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : null,
  });
  return { status: res.status, body: (await res.json()) as McidBody };
}

beforeAll(async () => {
  bus = await createBus({ ...testInfra(), clientId: 'chaos-disk-full' }, memoryLogger().log);
  tenant = uniqueTenant('diskfull');
  sshd = await new SshdPeer().start();
  mountTmpfs(sshd.files, '1m');
  acrDir = mkdtempSync(join(tmpdir(), 'li-chaos-acr-'));
  mountTmpfs(acrDir, '1m');
  secrets = mkdtempSync(join(tmpdir(), 'li-chaos-secrets-'));
  mkdirSync(join(secrets, tenant));
  writeFileSync(join(secrets, tenant, 'sftp-key'), sshd.clientKey);
  pipeline = await startPipeline({ tenant, mcid: true, mcidDirectory: acrDir, secretsDir: secrets });
  const lemf = await pipeline.call(pipeline.tokens.admin, 'PUT', `/tenants/${tenant}/lemfs/${LEMF}`, {
    name: 'SFTP file server',
    transport: 'SFTP',
    address: { host: '127.0.0.1', port: sshd.port },
    files: {
      directory: sshd.files,
      namePattern: '{liid}_{seq:6}.ber',
      maxRecords: 5,
      maxBytes: 1_000_000,
      maxSeconds: 1,
      username: sshd.user,
      credentialRef: 'sftp-key',
      streams: ['HI2'],
      format: 'TS102232',
    },
    allowInsecure: true, // the test server's host key is not pinned
  });
  expect(lemf.status, JSON.stringify(lemf.json)).toBeLessThan(300);
  await addWarrant(pipeline, {
    liid: LIID,
    kind: 'VOICE',
    target: { type: 'E164', value: SIP_SERVICE },
    lemfIds: [LEMF],
  });
  // The same number is an MCID subscriber in permanent mode: every answered call is reported.
  for (const path of ['/admin-state', `/tenants/${tenant}/admin-state`]) {
    const r = await mcidApi('PUT', path, { state: 'UNLOCKED' }, TOKENS.op);
    expect(r.status, `${path}: ${JSON.stringify(r.body)}`).toBe(200);
  }
  const sub = await mcidApi('POST', `/tenants/${tenant}/subscribers`, {
    identities: [`tel:${SIP_SERVICE}`],
    mode: 'PERMANENT',
  });
  expect(sub.status, JSON.stringify(sub.body)).toBe(201);
}, 180_000);

afterAll(async () => {
  await pipeline?.stop();
  await bus?.close();
  await sshd?.stop();
  for (const m of mounts.reverse()) execFileSync('umount', ['-l', m]);
  await sshd?.dispose();
  if (acrDir) rmSync(acrDir, { recursive: true, force: true });
  if (secrets) rmSync(secrets, { recursive: true, force: true });
}, 60_000);

describe('disk full (chaos scenario 6)', () => {
  it("SFTP file server's disk full: clear error, offsets held, every record and file number after the space returns", async () => {
    const fault = faultSeconds(60, 8);
    // Before the fault: traffic flows and files arrive.
    await callsUntil(() => true, 2);
    await waitFor(() => delivered().records.length > 0, {
      what: 'first HI2 files on the SFTP server',
      timeoutMs: 60_000,
    });

    const filler = fill(sshd.files);
    const faultStart = Date.now();
    const before = delivered().records.length;
    // During the fault: calls go on; uploads fail with a clear, retried error.
    const calls = await callsUntil(() => Date.now() - faultStart >= fault * 1000, 3);
    const m = await waitFor(
      async () => {
        const text = await metrics('cc-delivery');
        // OpenSSH leaves an empty file and the client sees success: the size check catches it
        return sample(text, 'li_cc_delivery_last_error_info', `lemf="${LEMF}"`, 'code="DLV_ERR_UPLOAD_SHORT"') === 1 &&
          sample(text, 'li_cc_delivery_retries_total', `lemf="${LEMF}"`) > 0
          ? text
          : undefined;
      },
      { what: 'cc-delivery to report DLV_ERR_UPLOAD_SHORT and retry', timeoutMs: 60_000, intervalMs: 250 },
    );
    const ready = await fetch(`http://127.0.0.1:${pipeline.metricsPorts['cc-delivery']}/readyz`);
    console.log(
      `[disk-full] SFTP: ${calls} calls during ${fault} s of full disk; retries ${sample(m, 'li_cc_delivery_retries_total', `lemf="${LEMF}"`)}, /readyz ${ready.status}`,
    );
    // Every call's records are in the LEMF's queue (neither the encoder nor the router waits for delivery) ...
    const expected = await waitFor(
      async () => {
        const t = await hi2Topic();
        const ends = t.filter((r) => r.id.includes('IRI-END')).length;
        return ends >= 2 + calls ? t : undefined;
      },
      {
        what: `an IRI-END in the LEMF's hi2 queue for each of the ${2 + calls} calls`,
        timeoutMs: 60_000,
        intervalMs: 500,
      },
    );
    // ... but no offset is committed past a record that is not in a final file.
    const onServer = new Set(delivered().records.map(idOf));
    const missing = expected.filter((r) => !onServer.has(r.id));
    expect(missing.length, 'records held back by the full disk').toBeGreaterThan(0);
    const held = await committed();
    for (const r of missing) {
      expect(held.get(r.rec.partition) ?? 0, `committed offset of partition ${r.rec.partition}`).toBeLessThanOrEqual(
        Number(r.rec.offset),
      );
    }
    expect(delivered().records.length).toBeLessThanOrEqual(before + 5); // at most a file that was in flight

    // Space returns.
    unlinkSync(filler);
    const freed = Date.now();
    await waitFor(() => delivered().records.length >= expected.length, {
      what: `all ${expected.length} HI2 records on the SFTP server after the space returned`,
      timeoutMs: 120_000,
      intervalMs: 100,
    });
    const recoverySeconds = (Date.now() - freed) / 1000;

    const { names, records } = delivered();
    expect(records.map(idOf).sort()).toEqual(expected.map((r) => r.id).sort());
    const checks = checkSequences(records);
    for (const c of checks) expect(isComplete(c), describeCheck(c)).toBe(true);
    // File numbers 1..n per LIID, no gap, no repeat; no temporary file left behind.
    const numbers = new Map<string, number[]>();
    for (const n of names) {
      const [, liid, seq] = FILE_NAME.exec(n)!;
      numbers.set(liid!, [...(numbers.get(liid!) ?? []), Number(seq)]);
    }
    for (const [liid, seqs] of numbers) {
      expect(seqs, `file numbers of ${liid}`).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    }
    expect(readdirSync(sshd.files).filter((n) => n.endsWith('.part'))).toEqual([]);
    // Offsets catch up; nothing went to the DLQ; the service never stopped.
    const last = new Map<number, number>();
    for (const r of expected) last.set(r.rec.partition, Math.max(last.get(r.rec.partition) ?? 0, Number(r.rec.offset)));
    await waitFor(
      async () => {
        const c = await committed();
        return [...last].every(([p, o]) => (c.get(p) ?? 0) > o);
      },
      { what: 'offsets committed past every delivered record', timeoutMs: 30_000, intervalMs: 250 },
    );
    expect((await readTopic(bus.kafka, topicName(tenant, 'dlq'))).map((r) => r.headers['li.dlq.code'])).toEqual([]);
    expect((await fetch(`http://127.0.0.1:${pipeline.metricsPorts['cc-delivery']}/healthz`)).ok).toBe(true);
    recordRecovery('disk-full-sftp-server', {
      faultSeconds: fault,
      recoverySeconds,
      records: records.length,
      note: `${names.length} files, ${checks.length} (LIID, CIN) streams`,
    });
  }, 300_000);

  it("mcid-store's ACR directory full: MCD_ERR_DISK_FULL, reports kept and each stored once after the space returns", async () => {
    const fault = faultSeconds(60, 8);
    const reports = async () => (await mcidApi('GET', `/tenants/${tenant}/reports?limit=1000`)).body;
    const undelivered = async () => (await mcidApi('GET', `/tenants/${tenant}/reports?undelivered=true`)).body.total;
    const before = (await reports()).total;

    const filler = fill(acrDir);
    const faultStart = Date.now();
    const calls = await callsUntil(() => Date.now() - faultStart >= fault * 1000, 3);
    await waitFor(async () => (await reports()).total >= before + calls, {
      what: `${calls} new MCID reports`,
      timeoutMs: 60_000,
      intervalMs: 250,
    });
    const m = await metrics('mcid-store');
    expect(sample(m, 'mcid_acr_disk_full'), 'mcid_acr_disk_full while the disk is full').toBe(1);
    expect(sample(m, 'mcid_acr_storage_requests_total', 'result="failure"')).toBeGreaterThan(0);
    expect(await undelivered(), 'reports waiting for space').toBeGreaterThan(0);
    console.log(
      `[disk-full] mcid-store: ${calls} calls during ${fault} s of full disk, ${await undelivered()} undelivered`,
    );

    unlinkSync(filler);
    const freed = Date.now();
    await waitFor(async () => (await undelivered()) === 0, {
      what: 'every MCID report stored after the space returned',
      timeoutMs: 120_000,
      intervalMs: 100,
    });
    const recoverySeconds = (Date.now() - freed) / 1000;

    // Each report's ACR (its Session-Id ends in mcid-<reportId>) is in the files exactly once.
    const all = await reports();
    expect(all.total).toBe(before + calls);
    const files = readdirSync(acrDir)
      .filter((n) => n.includes('.acr'))
      .map((n) => readFileSync(join(acrDir, n)).toString('latin1'))
      .join('\n');
    const count = (s: string) => files.split(s).length - 1;
    for (const r of all.reports)
      expect(count(`;mcid-${r.report.reportId}`), `ACRs of report ${r.report.reportId}`).toBe(1);
    expect(count(';mcid-'), 'ACRs in the files').toBe(all.total);
    expect(sample(await metrics('mcid-store'), 'mcid_acr_disk_full')).toBe(0);
    expect((await readTopic(bus.kafka, topicName(tenant, 'dlq'))).map((r) => r.headers['li.dlq.code'])).toEqual([]);
    recordRecovery('disk-full-mcid-acr', { faultSeconds: fault, recoverySeconds, records: all.total });
  }, 300_000);
});
