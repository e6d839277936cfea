// File numbers survive a restart: cc-delivery saves the next number per LEMF and LIID in the
// compacted li.<t>.delivery-state before a file is uploaded under its name, and restores it at
// start, so a restarted service continues the numbering and never overwrites a file.
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Bus, createBus, readTopic, topicConfig, topicName } from '@li/bus';
import { startService } from '@li/runtime';
import type { LemfDestination } from '@li/schemas';
import { sampleFileSettings, sampleLemf } from '@li/schemas/testing';
import { memoryLogger, testInfra, uniqueTenant, waitFor } from '@li/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ccDeliveryService, lemfGroupId } from '../src/service.ts';
import { psPdu } from './helpers/ber.ts';
import { FtpSrvPeer } from './helpers/servers.ts';

const infra = testInfra();
let bus: Bus;
beforeAll(async () => {
  bus = await createBus(
    { brokers: infra.brokers, registryUrl: infra.registryUrl, clientId: 'dlv-seq-test' },
    memoryLogger().log,
  );
});
afterAll(async () => {
  await bus?.close();
});

describe('file numbers across a restart', () => {
  it('continue after the service restarts; no name is used twice', async () => {
    expect(topicConfig('delivery-state')).toContainEqual({ name: 'cleanup.policy', value: 'compact' });
    const t = uniqueTenant('seq');
    await bus.ensureTopics(t, ['hi2', 'hi3', 'reports', 'lemfs', 'dlq']);
    const ftp = await new FtpSrvPeer().start();
    const secrets = mkdtempSync(join(tmpdir(), 'li-dlv-secrets-'));
    writeFileSync(join(secrets, 'pw'), 'secret');
    const dest: LemfDestination = sampleLemf({
      tenant: t,
      id: 'lemf-files',
      transport: 'FTP',
      address: { host: '127.0.0.1', port: ftp.port },
      ccAddress: null,
      files: sampleFileSettings({ directory: 'hi2', maxRecords: 5, maxSeconds: 1, credentialRef: 'pw' }),
    });
    const lemfTopic = topicName(t, 'lemfs');
    const codec = await bus.codec<LemfDestination>(lemfTopic, 'LemfDestination');
    await bus.send([{ topic: lemfTopic, key: dest.id, value: await codec.encode(dest) }]);
    const env = {
      LI_TENANTS: t,
      LI_KAFKA_BROKERS: infra.brokers.join(','),
      LI_SCHEMA_REGISTRY_URL: infra.registryUrl,
      LI_METRICS_PORT: '0',
      LI_LOG_LEVEL: 'error',
      LI_OPERATOR_IDENTIFIER: 'OP1',
      LI_SECRETS_DIR: secrets,
    };
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
    const committedTo = async (n: number) => {
      const admin = await bus.admin();
      const [o] = await admin.fetchOffsets({ groupId: lemfGroupId(t, 'lemf-files'), topics: [topicName(t, 'hi2')] });
      return Number(o?.partitions[0]?.offset) === n;
    };
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
        const v = JSON.parse(r.value!.toString()) as { lemf: string; liid: string; next: number };
        expect(r.key).toBe(JSON.stringify([v.lemf, v.liid]));
        state.set(`${v.lemf}/${v.liid}`, v.next);
      }
      expect(Object.fromEntries(state)).toEqual({ 'lemf-files/LIIDSEQ1': 5, 'lemf-files/LIIDSEQ2': 3 });
    } finally {
      await ftp.dispose();
      rmSync(secrets, { recursive: true, force: true });
    }
  }, 120_000);
});
