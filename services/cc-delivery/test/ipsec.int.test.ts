// IPsec-tunnelled delivery through a real tunnel (issue 20): two network namespaces joined by a
// veth pair, a charon in each (helpers/ipsec-lab.ts); cc-delivery's IPsec controller loads the
// mediation side over VICI from the LEMF records. ETSI TCP, HI2 TCP and FTP deliver through the
// tunnel; the LEMF decodes every record; the capture on the veth holds only IKE and ESP. Mid-
// stream the tunnel goes down (records wait, the alert condition holds) and comes back (every
// record arrives, gap-free); short SA lifetimes make the tunnel rekey during delivery. Needs root.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { recordingLogger } from '@li/log/testing';
import type { IpsecSettings, LemfDestination } from '@li/schemas';
import { sampleLemf } from '@li/schemas/testing';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { IpsecController } from '../src/adapters/ipsec-controller.ts';
import { FrameReader } from '../src/domain/framing.ts';
import type { DeliveryRecord } from '../src/domain/types.ts';
import { hi2Iri, psPdu } from './helpers/ber.ts';
import { decodeHi2WithTshark, decodePsPdus } from './helpers/decoders.ts';
import { PORTS, PSK, startLab } from './helpers/ipsec-lab.ts';
import { record, sleep, testDeliveries, waitFor } from './helpers/util.ts';

/** The BER records of a received byte stream, as the LEMF splits them. */
function berFrames(stream: Buffer): Buffer[] {
  const { frames, error } = new FrameReader('ber').push(stream);
  expect(error).toBe(false);
  return frames.map((f) => Buffer.from(f));
}

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function scenario(profile: 'it-annex2' | 'modern', n: number) {
  const { lab, certs, ftpRoot, pcap, recv } = await startLab(profile, n, cleanup);

  const secrets: Record<string, string> = {
    pw: 'secret',
    psk: PSK,
    ...(certs ? { cert: certs.medCert, key: certs.medKey, ca: certs.ca } : {}),
  };
  const resolve = (_tenant: string, ref: string) => (ref in secrets ? Buffer.from(secrets[ref]!) : null);
  const registry = new Registry();
  const { log } = recordingLogger();
  const controller = new IpsecController({
    viciSocket: lab.vici('med'),
    secrets: resolve,
    registry,
    log,
    pollMs: 200,
    retryMs: 1000,
    // short lifetimes: the CHILD_SA rekeys during delivery
    lifetimeOverride: { ikeSeconds: 3600, childSeconds: 5 },
  });
  controller.start();
  cleanup.push(() => controller.stop());
  const { deliveries, registry: dlvRegistry, dead } = testDeliveries({ secrets: resolve, tunnels: controller });
  cleanup.push(() => deliveries.stop());

  const ipsec: IpsecSettings = {
    profile,
    gateway: lab.a.lemfGw,
    localAddress: lab.a.medGw,
    localTs: [lab.a.localTs],
    remoteTs: [lab.a.remoteTs],
    localId: certs ? 'med.example' : null,
    remoteId: certs ? 'lemf.example' : null,
    pskRef: certs ? null : 'psk',
    certRef: certs ? 'cert' : null,
    keyRef: certs ? 'key' : null,
    caRef: certs ? 'ca' : null,
  };
  const host = lab.a.lemfHost;
  // plaintext transports are allowed without allowInsecure: the tunnel encrypts
  const lemfs: LemfDestination[] = [
    sampleLemf({
      id: 'etsi',
      transport: 'ETSI_TCP',
      address: { host, port: PORTS.iri },
      ccAddress: { host, port: PORTS.cc },
      tls: null,
      ipsec,
    }),
    sampleLemf({
      id: 'hi2',
      transport: 'HI2_TCP',
      address: { host, port: PORTS.hi2 },
      ccAddress: null,
      tls: null,
      ipsec,
    }),
    sampleLemf({
      id: 'ftp',
      transport: 'FTP',
      address: { host, port: PORTS.ftp },
      ccAddress: null,
      tls: null,
      ipsec,
      files: {
        directory: 'hi2',
        namePattern: '{liid}_{seq:6}.ber',
        maxRecords: 10,
        maxBytes: 1_000_000,
        maxSeconds: 1,
        username: 'mdf',
        credentialRef: 'pw',
        hostKeySha256: null,
        streams: ['HI2'],
        format: 'TS102232',
      },
    }),
  ];
  for (const l of lemfs) expect(l.allowInsecure ?? false).toBe(false);
  for (const l of lemfs) await deliveries.applyLemf(l);
  await waitFor(() => controller.ready('etsi'), 'the tunnel up', 30_000);
  const sa = controller.state('etsi')!.sa!;
  console.log(`[${profile}] negotiated IKEv${sa.version} IKE ${sa.ikeProposal} ESP ${sa.espProposal}`);
  console.log(lab.swanctl('med', '--list-sas'));

  // a stream of records, in rounds
  const sent = { etsi: [] as DeliveryRecord[], hi2: [] as DeliveryRecord[], ftp: [] as DeliveryRecord[] };
  let round = 0;
  const offerRound = () => {
    const i = round++;
    const e = [
      record('etsi', 'LIIDA', i, 'HI2', psPdu('iri', 'LIIDA', 5, i)),
      record('etsi', 'LIIDA', i, 'HI3', psPdu('cc', 'LIIDA', 5, i)),
    ];
    const h = [record('hi2', 'LIIDB', i, 'HI2', hi2Iri('LIIDB', 10_000 + i))];
    const f = [record('ftp', 'LIIDC', i, 'HI2', psPdu('iri', 'LIIDC', 6, i))];
    sent.etsi.push(...e);
    sent.hi2.push(...h);
    sent.ftp.push(...f);
    deliveries.offer('etsi', e);
    deliveries.offer('hi2', h);
    deliveries.offer('ftp', f);
  };
  const ftpBytes = () => {
    const d = join(ftpRoot, 'hi2');
    if (!existsSync(d)) return Buffer.alloc(0);
    const names = readdirSync(d)
      .filter((x) => !x.endsWith('.part'))
      .sort();
    return Buffer.concat(names.map((x) => readFileSync(join(d, x))));
  };
  for (let k = 0; k < 20; k++) {
    offerRound();
    await sleep(100);
  }
  await waitFor(() => decodePsPdus(recv('etsi-cc')).length >= 10, 'CC through the tunnel', 20_000);

  // tunnel down mid-stream: the LEMF gateway deletes the SA and the link is cut
  lab.swanctl('lemf', '--terminate', '--ike', 'med', '--force');
  lab.link(false);
  await waitFor(() => !controller.ready('etsi'), 'the tunnel seen down', 10_000);
  const atDown = { iri: decodePsPdus(recv('etsi-iri')).length, hi2: recv('hi2').length };
  for (let k = 0; k < 15; k++) {
    offerRound();
    await sleep(100);
  }
  await sleep(1500);
  // the alert's condition: tunnel down (sa_up 0) while records wait (pending > 0)
  const up = await registry.getSingleMetric('li_cc_delivery_ipsec_sa_up')!.get();
  expect(
    up.values
      .filter((v) => v.value === 0)
      .map((v) => v.labels.lemf)
      .sort(),
  ).toEqual(['etsi', 'ftp', 'hi2']);
  const pending = await dlvRegistry.getSingleMetric('li_cc_delivery_pending_records')!.get();
  const pendingEtsi = pending.values.find((v) => v.labels.lemf === 'etsi')?.value ?? 0;
  expect(pendingEtsi).toBeGreaterThan(0);
  // nothing got through while down
  expect(decodePsPdus(recv('etsi-iri')).length).toBe(atDown.iri);
  expect(recv('hi2').length).toBe(atDown.hi2);
  lab.link(true);
  await waitFor(() => controller.ready('etsi'), 'the tunnel back', 60_000);
  // more records after the tunnel is back, across a CHILD_SA rekey (5 s lifetime)
  for (let k = 0; k < 30; k++) {
    offerRound();
    await sleep(300);
  }
  const rounds = round;

  // every record arrives, decodable, gap-free
  const seqs = (recs: { liid: string; seq: number }[]) => recs.map((r) => r.seq);
  const all = Array.from({ length: rounds }, (_, i) => i);
  await waitFor(() => new Set(seqs(decodePsPdus(recv('etsi-iri')))).size === rounds, 'every ETSI IRI', 60_000);
  await waitFor(() => new Set(seqs(decodePsPdus(recv('etsi-cc')))).size === rounds, 'every ETSI CC', 60_000);
  await waitFor(
    () => recv('hi2').length >= Buffer.concat(sent.hi2.map((r) => r.bytes)).length,
    'every HI2 record',
    60_000,
  );
  await waitFor(() => new Set(seqs(decodePsPdus(ftpBytes()))).size === rounds, 'every FTP record', 60_000);
  const iri = decodePsPdus(recv('etsi-iri'));
  const cc = decodePsPdus(recv('etsi-cc'));
  expect([...new Set(seqs(iri))].sort((x, y) => x - y)).toEqual(all);
  expect([...new Set(seqs(cc))].sort((x, y) => x - y)).toEqual(all);
  expect(new Set(iri.map((d) => d.liid))).toEqual(new Set(['LIIDA']));
  expect(recv('hi2').equals(Buffer.concat(sent.hi2.map((r) => r.bytes)))).toBe(true);
  const hi2Got = berFrames(recv('hi2'));
  expect(hi2Got).toHaveLength(rounds);
  expect(decodeHi2WithTshark(hi2Got)).toEqual(sent.hi2.map(() => 'LIIDB'));
  expect(ftpBytes().equals(Buffer.concat(sent.ftp.map((r) => r.bytes)))).toBe(true);
  expect(dead).toEqual([]);
  const dupIri = iri.length - rounds;
  console.log(lab.swanctl('med', '--list-sas'));
  const rekeys = await registry.getSingleMetric('li_cc_delivery_ipsec_rekeys_total')!.get();
  const rekeysEtsi = rekeys.values.find((v) => v.labels.lemf === 'etsi')?.value ?? 0;
  const bytes = await registry.getSingleMetric('li_cc_delivery_ipsec_bytes_total')!.get();
  console.log(
    `[${profile}] rounds ${rounds}: ETSI IRI ${iri.length} (resent ${dupIri}), CC ${cc.length}, HI2 ${sent.hi2.length}, FTP ${sent.ftp.length}; rekeys ${rekeysEtsi}; ESP bytes ${bytes.values
      .filter((v) => v.labels.lemf === 'etsi')
      .map((v) => `${v.labels.direction}=${v.value}`)
      .join(' ')}`,
  );

  // the wire between the gateways: IKE and ESP only
  await lab.stopCapture();
  const ike = lab.read(pcap, 'udp port 500 or udp port 4500');
  const other = lab.read(pcap, 'not (udp port 500 or udp port 4500) and not arp');
  const clearTcp = lab.read(pcap, 'tcp');
  console.log(`[${profile}] capture: ${ike.length} IKE/ESP packets, ${other.length} other, ${clearTcp.length} TCP`);
  expect(ike.filter((l) => l.includes('ESP')).length).toBeGreaterThan(50);
  expect(other).toEqual([]);
  expect(clearTcp).toEqual([]);
  // and the payload bytes appear nowhere on the wire
  const wire = readFileSync(pcap);
  expect(wire.includes(Buffer.from('LIIDA'))).toBe(false);
  expect(wire.includes(Buffer.from('LIIDC'))).toBe(false);
  expect(rekeysEtsi).toBeGreaterThanOrEqual(1);
  // charon's own word: CHILD_SAs rekeyed during delivery (not only re-established after the outage)
  const charonLog = readFileSync(join(lab.dir, 'med', 'charon.log'), 'utf8');
  expect(charonLog).toMatch(/creating rekey job for CHILD_SA/);
  return { sa, charonLog };
}

describe('IPsec-tunnelled delivery (strongSwan, two namespaces)', () => {
  it('it-annex2: IKEv1 main mode AES_CBC_128/HMAC_SHA1_96/MODP_1024, ETSI TCP, HI2 TCP, FTP through the tunnel; outage and rekey lose nothing', async () => {
    const { sa, charonLog } = await scenario('it-annex2', 31);
    // main mode, never aggressive mode
    expect(charonLog).toMatch(/initiating Main Mode IKE_SA/);
    expect(charonLog).not.toMatch(/Aggressive Mode/);
    expect(sa.version).toBe('1');
    expect(sa.ikeProposal).toBe('AES_CBC/128/HMAC_SHA1_96/PRF_HMAC_SHA1/MODP_1024');
    expect(sa.espProposal).toBe('AES_CBC/128/HMAC_SHA1_96');
  }, 240_000);

  it('modern: IKEv2 AES_GCM_16_256 with ECP-256/X25519 and certificates, same delivery', async () => {
    const { sa } = await scenario('modern', 32);
    expect(sa.version).toBe('2');
    expect(sa.ikeProposal).toMatch(/^AES_GCM_16\/256\/PRF_HMAC_SHA2_384\/(ECP_256|CURVE_25519)$/);
  }, 240_000);

  it('live: wrong PSK holds delivery (nothing but IKE on the wire); the LEMF changed to the right PSK delivers all; a charon restart is repaired; removed, its connection goes', async () => {
    const { lab, pcap, recv } = await startLab('it-annex2', 33, cleanup);
    const secrets: Record<string, string> = { psk: PSK, wrong: 'not-the-psk' };
    const resolve = (_t: string, ref: string) => (ref in secrets ? Buffer.from(secrets[ref]!) : null);
    const registry = new Registry();
    const controller = new IpsecController({
      viciSocket: lab.vici('med'),
      secrets: resolve,
      registry,
      log: recordingLogger().log,
      pollMs: 200,
      retryMs: 1000,
    });
    controller.start();
    cleanup.push(() => controller.stop());
    const { deliveries } = testDeliveries({ secrets: resolve, tunnels: controller });
    cleanup.push(() => deliveries.stop());
    const ipsec: IpsecSettings = {
      profile: 'it-annex2',
      gateway: lab.a.lemfGw,
      localAddress: lab.a.medGw,
      localTs: [lab.a.localTs],
      remoteTs: [lab.a.remoteTs],
      localId: null,
      remoteId: null,
      pskRef: 'wrong',
      certRef: null,
      keyRef: null,
      caRef: null,
    };
    const host = lab.a.lemfHost;
    const v1 = sampleLemf({
      id: 'hi2',
      transport: 'HI2_TCP',
      address: { host, port: PORTS.hi2 },
      ccAddress: null,
      tls: null,
      ipsec,
      version: 1,
    });
    await deliveries.applyLemf(v1);
    const sent = Array.from({ length: 20 }, (_, i) => record('hi2', 'LIIDB', i, 'HI2', hi2Iri('LIIDB', 20_000 + i)));
    deliveries.offer('hi2', sent);
    await sleep(4000);
    expect(controller.ready('hi2')).toBe(false);
    expect(recv('hi2').length).toBe(0);
    expect(deliveries.delivery('hi2')!.pending()).toBe(20);
    const conns = () => lab.swanctl('med', '--list-conns');
    const firstName = controller.state('hi2')!.name;
    expect(conns()).toContain(firstName);
    // the LEMF record changes (live, as admf publishes it): the right PSK
    await deliveries.applyLemf({ ...v1, ipsec: { ...ipsec, pskRef: 'psk' }, version: 2 });
    await waitFor(() => controller.ready('hi2'), 'the tunnel with the right PSK', 30_000);
    await waitFor(
      () => recv('hi2').length === Buffer.concat(sent.map((r) => r.bytes)).length,
      'every HI2 record',
      30_000,
    );
    expect(recv('hi2').equals(Buffer.concat(sent.map((r) => r.bytes)))).toBe(true);
    expect(decodeHi2WithTshark(berFrames(recv('hi2')))).toEqual(sent.map(() => 'LIIDB'));
    // the old connection was unloaded, the new one is loaded
    expect(conns()).not.toContain(firstName);
    expect(conns()).toContain(controller.state('hi2')!.name);
    // charon restarts with nothing loaded: the controller loads the connection again, delivery resumes
    await lab.restartCharon('med');
    await waitFor(() => !controller.ready('hi2'), 'the tunnel seen gone', 10_000);
    const more = Array.from({ length: 10 }, (_, i) =>
      record('hi2', 'LIIDB', 20 + i, 'HI2', hi2Iri('LIIDB', 20_020 + i)),
    );
    deliveries.offer('hi2', more);
    await waitFor(() => controller.ready('hi2'), 'the tunnel after charon restarted', 30_000);
    const all = [...sent, ...more];
    await waitFor(
      () => recv('hi2').length >= Buffer.concat(all.map((r) => r.bytes)).length,
      'the records after the restart',
      30_000,
    );
    expect(recv('hi2').equals(Buffer.concat(all.map((r) => r.bytes)))).toBe(true);
    // removed: its connection and SAs go
    await deliveries.applyLemf({ ...v1, enabled: false, version: 3 });
    await waitFor(() => !conns().includes('li.acme.'), 'the connection unloaded', 10_000);
    await waitFor(() => !lab.swanctl('med', '--list-sas').includes('li.acme.'), 'the SAs closed', 10_000);
    await lab.stopCapture();
    expect(lab.read(pcap, 'not (udp port 500 or udp port 4500) and not arp')).toEqual([]);
    expect(lab.read(pcap, 'tcp')).toEqual([]);
  }, 120_000);
});
