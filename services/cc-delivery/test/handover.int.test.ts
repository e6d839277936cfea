// Rebalancing between live cc-delivery processes (issue 14): a LEMF queue's partitions move when a
// second process joins and when it leaves again, while records flow. The process giving a
// partition up closes its open files (numbers stored), stops sending its records and commits what
// the LEMF confirmed; the one taking it over waits for that, reloads the stored file numbers and
// reads from the offset committed by then. At the FTP LEMF: no file name used twice (a reused name
// overwrites a file, so its records would be missing) and every record exactly once (no resend).
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Bus, createBus, topicName } from '@li/bus';
import { decodePsPdu } from '@li/etsi';
import { startService } from '@li/runtime';
import type { LemfDestination } from '@li/schemas';
import { sampleFileSettings, sampleLemf } from '@li/schemas/testing';
import { memoryLogger, testInfra, uniqueTenant, waitFor } from '@li/testing';
import { Partitioners } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ccDeliveryService, lemfGroupId } from '../src/service.ts';
import { LemfHarness } from '../src/testing/index.ts';
import { psPdu } from './helpers/ber.ts';
import { FtpSrvPeer } from './helpers/servers.ts';
import { committedToEnd, deliveryEnv, publishLemf } from './helpers/service.ts';

const PARTITIONS = 3;
const infra = testInfra();
let bus: Bus;
beforeAll(async () => {
  bus = await createBus({ ...infra, clientId: 'dlv-handover-test' }, memoryLogger().log);
});
afterAll(async () => {
  await bus?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The partition kafkajs's default partitioner gives a key. */
function partitionOf(key: string): number {
  const partitionMetadata = Array.from({ length: PARTITIONS }, (_, i) => ({
    partitionId: i,
    leader: 0,
    replicas: [0],
    isr: [0],
    offlineReplicas: [],
    partitionErrorCode: 0,
  }));
  return Partitioners.DefaultPartitioner()({ topic: 'x', partitionMetadata, message: { key, value: null } });
}

/** Two LIIDs on each partition, so each process has files of its own. */
function liids(tag: string): string[] {
  const per: string[][] = Array.from({ length: PARTITIONS }, () => []);
  for (let i = 0; per.some((l) => l.length < 2); i++) {
    const liid = `HO${i}${tag}`;
    const p = per[partitionOf(liid)]!;
    if (p.length < 2) p.push(liid);
  }
  return per.flat();
}

/** Occurrences of `needle` in `hay`. */
function count(hay: Buffer, needle: Buffer): number {
  let n = 0;
  for (let i = hay.indexOf(needle); i >= 0; i = hay.indexOf(needle, i + 1)) n++;
  return n;
}

describe('rebalancing between two live cc-delivery processes', () => {
  it('moves partitions on a join and a leave: file numbers never repeat, no record is sent twice', async () => {
    const t = uniqueTenant('handover');
    await bus.ensureTopics(t, ['hi2', 'hi3', 'reports'], PARTITIONS);
    await bus.ensureTopics(t, ['lemfs', 'dlq']);
    const ftp = await new FtpSrvPeer().start();
    const secrets = mkdtempSync(join(tmpdir(), 'li-dlv-secrets-'));
    mkdirSync(join(secrets, t));
    writeFileSync(join(secrets, t, 'pw'), 'secret');
    const dest: LemfDestination = sampleLemf({
      allowInsecure: true,
      tenant: t,
      id: 'lemf-files',
      transport: 'FTP',
      address: { host: '127.0.0.1', port: ftp.port },
      ccAddress: null,
      files: sampleFileSettings({ directory: 'hi2', maxRecords: 3, maxSeconds: 1, credentialRef: 'pw' }),
    });
    await publishLemf(bus, dest);
    const env = await deliveryEnv(t, {
      LI_SECRETS_DIR: secrets,
      LI_TOPIC_PARTITIONS: `hi2=${PARTITIONS},hi3=${PARTITIONS},reports=${PARTITIONS}`,
      LI_HANDOVER_MS: '3000',
    });
    const ids = liids(t.slice(-6).toUpperCase());
    const sent: Buffer[] = [];
    let round = 0;
    let flowing = true;
    // one record per LIID every 150 ms, until stopped
    const traffic = (async () => {
      while (flowing) {
        const seq = round++;
        const records = ids.map((liid) => ({
          topic: topicName(t, 'hi2'),
          key: liid,
          value: psPdu('iri', liid, 1, seq),
          headers: { 'li.liid': liid, 'li.cin': '1', 'li.seq': String(seq), 'li.lemfs': 'lemf-files' },
        }));
        await bus.send(records);
        for (const r of records) sent.push(r.value);
        await sleep(150);
      }
    })();
    const admin = await bus.admin();
    const members = async () =>
      (await admin.describeGroups([lemfGroupId(t, 'lemf-files')])).groups[0]?.members.filter(
        (m) => m.memberAssignment.length > 0,
      ).length ?? 0;
    const a = await startService(ccDeliveryService, env);
    let b: Awaited<ReturnType<typeof startService>> | undefined;
    try {
      await waitFor(() => ftp.uploads().length >= 3, { what: 'files from A', timeoutMs: 30_000, intervalMs: 100 });
      b = await startService(ccDeliveryService, env);
      // the join: both processes hold partitions of the LEMF's queue
      await waitFor(async () => (await members()) === 2, { what: 'two members', timeoutMs: 30_000, intervalMs: 200 });
      // B took its partitions over (after the hand-over wait) and uploads files of its own
      const sentByB = async () =>
        Number(
          (await (await fetch(`http://127.0.0.1:${b!.metricsPort}/metrics`)).text())
            .split('\n')
            .find((l) => l.startsWith('li_cc_delivery_sent_records_total{'))
            ?.split(' ')
            .at(-1) ?? 0,
        );
      await waitFor(async () => (await sentByB()) >= 12, { what: 'files from B', timeoutMs: 30_000, intervalMs: 200 });
      // the leave: B's partitions go back to A
      await b.stop();
      b = undefined;
      const left = ftp.uploads().length;
      await waitFor(() => ftp.uploads().length >= left + 6, {
        what: 'files after the leave',
        timeoutMs: 30_000,
        intervalMs: 100,
      });
      flowing = false;
      await traffic;
      await waitFor(() => committedToEnd(bus, t, 'lemf-files'), {
        what: 'everything committed',
        timeoutMs: 30_000,
        intervalMs: 200,
      });
    } finally {
      flowing = false;
      await traffic.catch(() => undefined);
      await b?.stop();
      await a.stop();
    }
    try {
      const dir = join(ftp.root, 'hi2');
      const names = readdirSync(dir).filter((n) => !n.startsWith('.'));
      const all = Buffer.concat(names.map((n) => readFileSync(join(dir, n))));
      const times = sent.map((pdu) => count(all, pdu));
      const where = (pdu: Buffer) =>
        names
          .filter((n) => readFileSync(join(dir, n)).includes(pdu))
          .map((n) => `${n}@${statSync(join(dir, n)).mtimeMs}`);
      for (const [i, n] of times.entries())
        if (n > 1) console.log(`[handover] twice: #${i} in ${where(sent[i]!).join(' ')}`);
      // every record in exactly one file: none lost to an overwritten name, none sent twice
      expect(times.filter((n) => n === 0).length, 'records missing').toBe(0);
      expect(times.filter((n) => n > 1).length, 'records sent twice').toBe(0);
      expect(all.length).toBe(sent.reduce((n, p) => n + p.length, 0));
      // numbers per LIID: 1..n, each once (names were never reused, none skipped without a crash)
      for (const liid of ids) {
        const seqs = names
          .filter((n) => n.startsWith(`${liid}_`))
          .map((n) => Number(/_(\d+)\./.exec(n)?.[1]))
          .sort((x, y) => x - y);
        expect(seqs, liid).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
      }
    } finally {
      await ftp.dispose();
      rmSync(secrets, { recursive: true, force: true });
    }
  }, 180_000);

  it('ETSI TCP confirmed by keep-alives: a second process joins mid-stream and the LEMF gets no (LIID, CIN, seq) twice', async () => {
    const t = uniqueTenant('handtcp');
    await bus.ensureTopics(t, ['hi2', 'hi3', 'reports'], PARTITIONS);
    await bus.ensureTopics(t, ['lemfs', 'dlq']);
    const lemf = await new LemfHarness().start();
    // no PDU acknowledgement: a record is confirmed only by a keep-alive answered after it, so
    // records sent and not yet confirmed are what a rebalance used to send again
    await publishLemf(
      bus,
      sampleLemf({
        allowInsecure: true,
        tenant: t,
        id: 'lemf-tcp',
        address: { host: '127.0.0.1', port: lemf.port },
        ccAddress: null,
        acknowledged: false,
        keepaliveSeconds: 30,
      }),
    );
    const env = await deliveryEnv(t, {
      LI_TOPIC_PARTITIONS: `hi2=${PARTITIONS},hi3=${PARTITIONS},reports=${PARTITIONS}`,
      LI_HANDOVER_MS: '3000',
    });
    const ids = liids(t.slice(-6).toUpperCase());
    let round = 0;
    let flowing = true;
    const traffic = (async () => {
      while (flowing) {
        const seq = round++;
        await bus.send(
          ids.map((liid) => ({
            topic: topicName(t, 'hi2'),
            key: liid,
            value: psPdu('iri', liid, 1, seq),
            headers: { 'li.liid': liid, 'li.cin': '1', 'li.seq': String(seq), 'li.lemfs': 'lemf-tcp' },
          })),
        );
        await sleep(50);
      }
    })();
    const admin = await bus.admin();
    const members = async () =>
      (await admin.describeGroups([lemfGroupId(t, 'lemf-tcp')])).groups[0]?.members.filter(
        (m) => m.memberAssignment.length > 0,
      ).length ?? 0;
    const a = await startService(ccDeliveryService, env);
    let b: Awaited<ReturnType<typeof startService>> | undefined;
    try {
      await waitFor(() => lemf.received >= 60, { what: 'records from A', timeoutMs: 30_000, intervalMs: 100 });
      b = await startService(ccDeliveryService, env);
      await waitFor(async () => (await members()) === 2, { what: 'two members', timeoutMs: 30_000, intervalMs: 200 });
      // B took partitions over and delivers on a connection of its own; records keep flowing
      await waitFor(() => lemf.connections >= 2, { what: 'B connected', timeoutMs: 30_000, intervalMs: 100 });
      const atJoin = lemf.received;
      await waitFor(() => lemf.received >= atJoin + 120, { what: 'records after the join', timeoutMs: 30_000 });
      flowing = false;
      await traffic;
      await waitFor(() => committedToEnd(bus, t, 'lemf-tcp'), {
        what: 'everything committed',
        timeoutMs: 30_000,
        intervalMs: 200,
      });
    } finally {
      flowing = false;
      await traffic.catch(() => undefined);
      await b?.stop();
      await a.stop();
    }
    try {
      const got = lemf.frames.map((f) => {
        const r = decodePsPdu(f);
        if (!r.ok) throw new Error(`undecodable PDU at the LEMF: ${r.reason}`);
        return `${r.value.header.liid}/${r.value.header.communicationIdentifier?.cin ?? ''}/${r.value.header.sequenceNumber}`;
      });
      const seen = new Set(got);
      const expected = ids.length * round;
      expect(seen.size, 'every record at the LEMF').toBe(expected);
      expect(got.length - seen.size, 'records received twice').toBe(0);
      console.log(
        `[handover] tcp: ${expected} records, two processes, a join mid-stream: ${got.length} PDUs at the LEMF`,
      );
    } finally {
      await lemf.stop();
    }
  }, 180_000);
});
