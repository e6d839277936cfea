// File numbers survive a restart: cc-delivery saves the next number per LEMF and LIID in the
// compacted li.<t>.delivery-state before a file is uploaded under its name, and restores it at
// start, so a restarted service continues the numbering and never overwrites a file. And a stop
// closes the files still open, delivers and commits them, so nothing is sent twice.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Bus, createBus, partitionOfKey, readTopic, topicConfig, topicName } from '@li/bus';
import { startService } from '@li/runtime';
import type { LemfDestination } from '@li/schemas';
import { sampleFileSettings, sampleLemf } from '@li/schemas/testing';
import { memoryLogger, testInfra, uniqueTenant, waitFor } from '@li/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ccDeliveryService, lemfGroupId } from '../src/service.ts';
import { psPdu } from './helpers/ber.ts';
import { FtpSrvPeer } from './helpers/servers.ts';
import { committedRecords, deliveryEnv, publishLemf } from './helpers/service.ts';

const infra = testInfra();
let bus: Bus;
beforeAll(async () => {
  bus = await createBus({ ...infra, clientId: 'dlv-seq-test' }, memoryLogger().log);
});
afterAll(async () => {
  await bus?.close();
});

/** One FTP LEMF, its tenant's topics, and the service's environment. */
async function ftpLemf(prefix: string, files: { maxRecords: number; maxSeconds: number }, hi2Partitions = 1) {
  const t = uniqueTenant(prefix);
  // the LEMF's queue gets as many partitions as hi2
  if (hi2Partitions > 1) await bus.ensureTopics(t, ['hi2'], hi2Partitions);
  await bus.ensureTopics(t, ['hi2', 'hi3', 'reports', 'lemfs', 'dlq']);
  const ftp = await new FtpSrvPeer().start();
  const secrets = mkdtempSync(join(tmpdir(), 'li-dlv-secrets-'));
  // per-tenant layout: <secretsDir>/<tenant>/<ref>
  mkdirSync(join(secrets, t));
  writeFileSync(join(secrets, t, 'pw'), 'secret');
  const dest: LemfDestination = sampleLemf({
    allowInsecure: true,
    tenant: t,
    id: 'lemf-files',
    transport: 'FTP',
    address: { host: '127.0.0.1', port: ftp.port },
    ccAddress: null,
    files: sampleFileSettings({ directory: 'hi2', ...files, credentialRef: 'pw' }),
  });
  await publishLemf(bus, dest);
  const env = await deliveryEnv(t, { LI_SECRETS_DIR: secrets });
  const send = (liid: string, from: number, n: number) =>
    bus.send(
      Array.from({ length: n }, (_, i) => ({
        topic: topicName(t, 'hi2'),
        key: liid,
        value: psPdu('iri', liid, 1, from + i),
        headers: { 'li.liid': liid, 'li.cin': '1', 'li.seq': String(from + i), 'li.lemfs': 'lemf-files' },
      })),
    );
  const dir = join(ftp.root, 'hi2');
  const names = () =>
    existsSync(dir)
      ? readdirSync(dir)
          .filter((n) => !n.startsWith('.'))
          .sort()
      : [];
  // records of the LEMF's hi2 queue its group committed (offsets also count the router's markers)
  const committed = () => committedRecords(bus, t, 'lemf-files');
  const dispose = async () => {
    await ftp.dispose();
    rmSync(secrets, { recursive: true, force: true });
  };
  return { t, env, send, dir, names, committed, dispose };
}

describe('file numbers across a restart', () => {
  it('continue after the service restarts, past an unreadable state record; no name is used twice', async () => {
    expect(topicConfig('delivery-state')).toContainEqual({ name: 'cleanup.policy', value: 'compact' });
    const { t, env, send, names, committed, dispose } = await ftpLemf('seq', { maxRecords: 5, maxSeconds: 1 });
    const committedTo = async (n: number) => (await committed()) === n;
    try {
      let svc = await startService(ccDeliveryService, env);
      try {
        await send('LIIDSEQ1', 0, 10);
        await send('LIIDSEQ2', 0, 5);
        await waitFor(() => names().length === 3, { what: 'first files', timeoutMs: 30_000, intervalMs: 100 });
        await waitFor(() => committedTo(15), { what: 'first commit', timeoutMs: 20_000, intervalMs: 100 });
      } finally {
        await svc.stop();
      }
      // A record the store cannot read is skipped at restore, not fatal to it.
      await bus.send([{ topic: topicName(t, 'delivery-state'), key: 'unreadable', value: Buffer.from('not json') }]);
      svc = await startService(ccDeliveryService, env);
      try {
        await send('LIIDSEQ1', 10, 10);
        await send('LIIDSEQ2', 5, 5);
        await waitFor(() => names().length === 6, {
          what: 'files after the restart',
          timeoutMs: 30_000,
          intervalMs: 100,
        });
        await waitFor(() => committedTo(30), { what: 'second commit', timeoutMs: 20_000, intervalMs: 100 });
      } finally {
        await svc.stop();
      }
      expect(names()).toEqual([
        'LIIDSEQ1_000001.ber',
        'LIIDSEQ1_000002.ber',
        'LIIDSEQ1_000003.ber',
        'LIIDSEQ1_000004.ber',
        'LIIDSEQ2_000001.ber',
        'LIIDSEQ2_000002.ber',
      ]);
      // the state topic holds the next number per (LEMF, LIID)
      const state = new Map<string, number>();
      for (const r of await readTopic(bus.kafka, topicName(t, 'delivery-state'))) {
        if (r.key === 'unreadable') continue;
        const v = JSON.parse(r.value!.toString()) as { lemf: string; liid: string; next: number };
        expect(r.key).toBe(JSON.stringify([v.lemf, v.liid]));
        state.set(`${v.lemf}/${v.liid}`, v.next);
      }
      expect(Object.fromEntries(state)).toEqual({ 'lemf-files/LIIDSEQ1': 5, 'lemf-files/LIIDSEQ2': 3 });
    } finally {
      await dispose();
    }
  }, 120_000);
});

/** The partition the producers' murmur2 partitioner gives a key (kafkajs = Java client). */

describe('file numbers between live processes', () => {
  it('a LIID whose partition moves to a process started earlier goes on after the number its previous owner saved', async () => {
    const { t, env, send, dir, names, committed, dispose } = await ftpLemf(
      'seqlive',
      { maxRecords: 5, maxSeconds: 1 },
      3,
    );
    // one LIID per partition of the LEMF's queue
    const liids: string[] = [];
    for (let i = 0; liids.length < 3; i++) if (partitionOfKey(`LIVE${i}`, 3) === liids.length) liids.push(`LIVE${i}`);
    const sendAll = (from: number) => Promise.all(liids.map((l) => send(l, from, 5)));
    const members = async () => {
      const admin = await bus.admin();
      const [g] = (await admin.describeGroups([lemfGroupId(t, 'lemf-files')])).groups;
      return g?.state === 'Stable' ? g.members.filter((m) => m.memberAssignment.length > 0).length : 0;
    };
    try {
      const a = await startService(ccDeliveryService, env);
      let b: Awaited<ReturnType<typeof startService>> | undefined;
      try {
        await sendAll(0);
        await waitFor(async () => (await committed()) === 15, {
          what: 'first files',
          timeoutMs: 30_000,
          intervalMs: 100,
        });
        // b reads the numbers now (next: 2), then shares the partitions with a
        b = await startService(ccDeliveryService, env);
        await waitFor(async () => (await members()) === 2, { what: 'two members', timeoutMs: 60_000, intervalMs: 200 });
        await sendAll(5);
        await waitFor(async () => (await committed()) === 30, {
          what: 'second files',
          timeoutMs: 30_000,
          intervalMs: 100,
        });
      } finally {
        await a.stop();
      }
      try {
        // a's partitions moved to b, whose numbers of them are from before a's second files
        await sendAll(10);
        await waitFor(async () => (await committed()) === 45, {
          what: 'third files',
          timeoutMs: 60_000,
          intervalMs: 100,
        });
      } finally {
        await b?.stop();
      }
      // which records each file holds, for the message: a number used twice shows as a file overwritten
      const held = names().map((n) => {
        const b = readFileSync(join(dir, n));
        const liid = n.split('_')[0]!;
        return `${n}: ${[...Array(15).keys()].filter((i) => b.includes(psPdu('iri', liid, 1, i))).join(',')}`;
      });
      expect(names(), held.join('; ')).toEqual(liids.flatMap((l) => [1, 2, 3].map((n) => `${l}_00000${n}.ber`)).sort());
    } finally {
      await dispose();
    }
  }, 180_000);
});

describe('stopping with files open', () => {
  it('closes them, delivers and commits them, so a restart sends nothing again', async () => {
    // Files that would stay open for 10 minutes: only the stop closes them.
    const { env, send, dir, names, committed, dispose } = await ftpLemf('shut', { maxRecords: 1000, maxSeconds: 600 });
    try {
      let svc = await startService(ccDeliveryService, env);
      await send('LIIDSHUT', 0, 3);
      const pending = (n: number) => async () =>
        (await (await fetch(`http://127.0.0.1:${svc.metricsPort}/metrics`)).text())
          .split('\n')
          .find((l) => l.startsWith('li_cc_delivery_pending_records{'))
          ?.endsWith(` ${n}`);
      await waitFor(pending(3), { what: 'three records in the open file', timeoutMs: 30_000, intervalMs: 100 });
      expect(names()).toEqual([]);
      await svc.stop();
      expect(names()).toEqual(['LIIDSHUT_000001.ber']);
      const expected = Buffer.concat([0, 1, 2].map((i) => psPdu('iri', 'LIIDSHUT', 1, i)));
      expect(readFileSync(join(dir, 'LIIDSHUT_000001.ber')).equals(expected)).toBe(true);
      expect(await committed()).toBe(3);

      // After a restart nothing is re-read: no second file appears while new records flow.
      svc = await startService(ccDeliveryService, env);
      try {
        await send('LIIDSHUT', 3, 1);
        await waitFor(pending(1), { what: 'the new record in an open file', timeoutMs: 30_000, intervalMs: 100 });
      } finally {
        await svc.stop();
      }
      expect(names()).toEqual(['LIIDSHUT_000001.ber', 'LIIDSHUT_000002.ber']);
      expect(readFileSync(join(dir, 'LIIDSHUT_000002.ber')).equals(psPdu('iri', 'LIIDSHUT', 1, 3))).toBe(true);
    } finally {
      await dispose();
    }
  }, 120_000);
});
