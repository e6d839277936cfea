// What an FTP LEMF's files hold, through the whole service: the streams (files.streams) and the
// ONE encoding (files.format) the LEMF asked for, never both encodings of an IRI; and {lemf} in
// the name pattern is the LEMF's own id (the wiring keys LEMFs <tenant>/<id>, which once sent
// every such file to the DLQ).
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Bus, createBus, topicName } from '@li/bus';
import { startService } from '@li/runtime';
import type { FileSettings } from '@li/schemas';
import { sampleFileSettings, sampleLemf } from '@li/schemas/testing';
import { memoryLogger, testInfra, uniqueTenant, waitFor } from '@li/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ccDeliveryService } from '../src/service.ts';
import { psPdu } from './helpers/ber.ts';
import { FtpSrvPeer } from './helpers/servers.ts';
import { deliveryEnv, publishLemf } from './helpers/service.ts';

const infra = testInfra();
let bus: Bus;
beforeAll(async () => {
  bus = await createBus({ ...infra, clientId: 'dlv-select-test' }, memoryLogger().log);
});
afterAll(async () => {
  await bus?.close();
});

describe('file LEMF selection', () => {
  it('gives each FTP LEMF its streams in its one format, in files named by its own id', async () => {
    const t = uniqueTenant('sel');
    await bus.ensureTopics(t, ['hi2', 'hi3', 'reports', 'lemfs', 'dlq']);
    const ftp = await new FtpSrvPeer().start();
    const secrets = mkdtempSync(join(tmpdir(), 'li-dlv-secrets-'));
    mkdirSync(join(secrets, t));
    writeFileSync(join(secrets, t, 'pw'), 'secret');
    const files = (over: Partial<FileSettings>) =>
      sampleFileSettings({
        directory: 'out',
        namePattern: '{lemf}_{liid}_{seq}.ber',
        maxRecords: 1000,
        maxSeconds: 1,
        credentialRef: 'pw',
        ...over,
      });
    const lemf = (id: string, f: FileSettings) =>
      sampleLemf({
        allowInsecure: true,
        tenant: t,
        id,
        transport: 'FTP',
        address: { host: '127.0.0.1', port: ftp.port },
        ccAddress: null,
        files: f,
      });
    // an Italian LEMF taking TS 101 671 IRI files; one with the defaults (IRI and CC, TS 102 232)
    await publishLemf(bus, lemf('it-iri', files({ streams: ['HI2'], format: 'TS101671' })));
    await publishLemf(bus, lemf('etsi-all', files({})));

    const both = 'it-iri,etsi-all';
    const iri232 = Array.from({ length: 3 }, (_, i) => psPdu('iri', 'LSEL1', 1, i));
    const iri671 = Array.from({ length: 3 }, (_, i) => Buffer.from(`TS101671-IRI-${i};`));
    const cc = Array.from({ length: 2 }, (_, i) => psPdu('cc', 'LSEL1', 1, i));
    const record = (stream: 'hi2' | 'hi3', value: Buffer, seq: number, format: string) => ({
      topic: topicName(t, stream),
      key: 'LSEL1',
      value,
      headers: { 'li.liid': 'LSEL1', 'li.cin': '1', 'li.seq': String(seq), 'li.lemfs': both, 'li.format': format },
    });
    const dir = join(ftp.root, 'out');
    const names = () =>
      existsSync(dir)
        ? readdirSync(dir)
            .filter((n) => !n.startsWith('.'))
            .sort()
        : [];
    const content = (prefix: string) =>
      Buffer.concat(
        names()
          .filter((n) => n.startsWith(prefix))
          .map((n) => readFileSync(join(dir, n))),
      );
    const expected232 = Buffer.concat([...iri232, ...cc]).length;

    const svc = await startService(ccDeliveryService, await deliveryEnv(t, { LI_SECRETS_DIR: secrets }));
    try {
      // the encoder writes each Italian-profile IRI twice: as a PS-PDU and as a TS 101 671 record
      await bus.send(
        iri232.flatMap((v, i) => [record('hi2', v, i, 'TS102232'), record('hi2', iri671[i]!, i, 'TS101671')]),
      );
      await bus.send(cc.map((v, i) => record('hi3', v, i, 'TS102232')));
      await waitFor(
        () => content('it-iri_').length === Buffer.concat(iri671).length && content('etsi-all_').length === expected232,
        { what: 'the files of both LEMFs', timeoutMs: 30_000, intervalMs: 100 },
      );
      expect(names().every((n) => /^(it-iri|etsi-all)_LSEL1_\d+\.ber$/.test(n))).toBe(true);
      expect(names()).toContain('it-iri_LSEL1_1.ber');
      expect(names()).toContain('etsi-all_LSEL1_1.ber');
      // TS 101 671 LEMF: its IRI records only, in order; no PS-PDU, no CC
      expect(content('it-iri_').toString()).toBe(Buffer.concat(iri671).toString());
      // default LEMF: every PS-PDU (IRI and CC), never a TS 101 671 record
      const all = content('etsi-all_');
      expect(all.includes('TS101671')).toBe(false);
      for (const v of [...iri232, ...cc]) expect(all.includes(v)).toBe(true);
      // nothing went to the DLQ: no file name was refused
      expect(await dlqCount(t)).toBe(0);
    } finally {
      await svc.stop();
      await ftp.dispose();
      rmSync(secrets, { recursive: true, force: true });
    }
  }, 90_000);
});

async function dlqCount(tenant: string): Promise<number> {
  const admin = await bus.admin();
  const offsets = await admin.fetchTopicOffsets(topicName(tenant, 'dlq'));
  return offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
}
