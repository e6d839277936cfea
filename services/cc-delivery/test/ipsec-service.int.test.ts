// The cc-delivery service on the real broker with an it-annex2 LEMF behind a real strongSwan
// tunnel (helpers/ipsec-lab.ts; root only): the LEMF record from li.<t>.lemfs loads the tunnel
// over LI_IPSEC_VICI_SOCKET; while the tunnel is down the records wait in Kafka (the LEMF's group
// commits nothing over them, li_cc_delivery_ipsec_sa_up 0 with records pending) and every one
// arrives, gap-free, once it is back.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Bus, createBus, topicName } from '@li/bus';
import { startService } from '@li/runtime';
import { sampleLemf } from '@li/schemas/testing';
import { memoryLogger, testInfra, uniqueTenant } from '@li/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ccDeliveryService } from '../src/service.ts';
import { psPdu } from './helpers/ber.ts';
import { decodePsPdus } from './helpers/decoders.ts';
import { PORTS, PSK, startLab } from './helpers/ipsec-lab.ts';
import { committedRecords, deliveryEnv, publishLemf } from './helpers/service.ts';
import { sleep, waitFor } from './helpers/util.ts';

const infra = testInfra();
let bus: Bus;
beforeAll(async () => {
  bus = await createBus({ ...infra, clientId: 'dlv-ipsec-test' }, memoryLogger().log);
});
afterAll(async () => {
  await bus?.close();
});
const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

describe('cc-delivery service with an IPsec LEMF', () => {
  it('records wait in Kafka while the tunnel is down and all arrive after it is back', async () => {
    const { lab, recv, pcap } = await startLab('it-annex2', 34, cleanup);
    const t = uniqueTenant('dlvip');
    await bus.ensureTopics(t, ['hi2', 'hi3', 'reports', 'lemfs', 'dlq']);
    const secretsDir = mkdtempSync(join(tmpdir(), 'li-ipsec-secrets-'));
    cleanup.push(() => rmSync(secretsDir, { recursive: true, force: true }));
    mkdirSync(join(secretsDir, t));
    writeFileSync(join(secretsDir, t, 'lemf-psk'), `${PSK}\n`);
    const host = lab.a.lemfHost;
    await publishLemf(
      bus,
      sampleLemf({
        tenant: t,
        id: 'procura',
        transport: 'ETSI_TCP',
        address: { host, port: PORTS.iri },
        ccAddress: { host, port: PORTS.cc },
        tls: null,
        ipsec: {
          profile: 'it-annex2',
          gateway: lab.a.lemfGw,
          localAddress: lab.a.medGw,
          localTs: [lab.a.localTs],
          remoteTs: [lab.a.remoteTs],
          localId: null,
          remoteId: null,
          pskRef: 'lemf-psk',
          certRef: null,
          keyRef: null,
          caRef: null,
        },
      }),
    );
    const send = async (from: number, n: number) => {
      await bus.send(
        Array.from({ length: n }, (_, i) => ({
          topic: topicName(t, 'hi2'),
          key: 'LIIDP',
          value: psPdu('iri', 'LIIDP', 3, from + i),
          headers: { 'li.liid': 'LIIDP', 'li.cin': '3', 'li.seq': String(from + i), 'li.lemfs': 'procura' },
        })),
      );
    };
    const svc = await startService(
      ccDeliveryService,
      await deliveryEnv(t, {
        LI_SECRETS_DIR: secretsDir,
        LI_IPSEC_VICI_SOCKET: `unix://${lab.vici('med')}`,
        LI_IPSEC_POLL_MS: '200',
      }),
    );
    cleanup.push(() => svc.stop());
    const metric = async (re: RegExp) =>
      Number((await (await fetch(`http://127.0.0.1:${svc.metricsPort}/metrics`)).text()).match(re)?.[1] ?? NaN);
    const saUp = new RegExp(`li_cc_delivery_ipsec_sa_up\\{tenant="${t}",lemf="procura"[^}]*\\} (\\d)`);
    const seqs = () => decodePsPdus(recv('etsi-iri')).map((d) => d.seq);
    // records of the LEMF's own queue (li.<t>.lemf.procura.hi2) its group has committed
    const committed = () => committedRecords(bus, t, 'procura');

    await send(0, 50);
    await waitFor(() => new Set(seqs()).size === 50, 'the first records through the tunnel', 60_000);
    expect(await metric(saUp)).toBe(1);
    await waitFor(async () => (await committed()) === 50, 'commit over the first records', 20_000);

    // tunnel down: the LEMF gateway deletes the SA and the link is cut
    lab.swanctl('lemf', '--terminate', '--ike', 'med', '--force');
    lab.link(false);
    await waitFor(async () => (await metric(saUp)) === 0, 'sa_up 0', 10_000);
    await send(50, 50);
    await sleep(3000);
    expect(new Set(seqs()).size).toBe(50);
    expect(await committed()).toBe(50);
    const pending = new RegExp(
      `li_cc_delivery_pending_records\\{tenant="${t}",lemf="procura",transport="ETSI_TCP"[^}]*\\} (\\d+)`,
    );
    expect(await metric(pending)).toBeGreaterThan(0);

    lab.link(true);
    await waitFor(async () => (await metric(saUp)) === 1, 'the tunnel back', 60_000);
    await waitFor(() => new Set(seqs()).size === 100, 'every record', 60_000);
    expect([...new Set(seqs())].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    await waitFor(async () => (await committed()) === 100, 'commit over every record', 20_000);
    await lab.stopCapture();
    expect(lab.read(pcap, 'not (udp port 500 or udp port 4500) and not arp')).toEqual([]);
  }, 180_000);
});
