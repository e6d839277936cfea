// Tenant isolation at cc-delivery, on the real broker with the service as main.ts runs it:
// a LEMF that floods junk back hurts only itself, and a LEMF naming another tenant's secret
// gets nothing and sends nothing.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Bus, createBus, topicName } from '@li/bus';
import { startService } from '@li/runtime';
import { sampleFileSettings, sampleLemf } from '@li/schemas/testing';
import { memoryLogger, testInfra, uniqueTenant, waitFor } from '@li/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ccDeliveryService } from '../src/service.ts';
import { LemfHarness } from '../src/testing/index.ts';
import { psPdu } from './helpers/ber.ts';
import { FtpSrvPeer } from './helpers/servers.ts';
import { deliveryEnv, publishLemf } from './helpers/service.ts';

const infra = testInfra();
let bus: Bus;
beforeAll(async () => {
  bus = await createBus({ ...infra, clientId: 'dlv-isolation-test' }, memoryLogger().log);
});
afterAll(async () => {
  await bus?.close();
});

const FLOOD_BYTES = 32 * 1024 * 1024;

/**
 * A hostile LEMF: on every connection it writes FLOOD_BYTES of junk back (with back-pressure) and
 * ignores what it gets. `oversized`: a BER header announcing a 2 GiB PDU, then zeros; `framed`:
 * well-formed 1 KiB TLVs that are no PDU of ours, so only the volume gives it away.
 */
class FloodingLemf {
  port = 0;
  connections = 0;
  /** Connections the other side (cc-delivery) closed before the junk was all written. */
  cutShort = 0;
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();

  constructor(kind: 'oversized' | 'framed') {
    const tlv = Buffer.alloc(1024, 0x5a);
    tlv.set([0x04, 0x82, 0x03, 0xfc]); // OCTET STRING, 1020 bytes
    const chunk = kind === 'framed' ? Buffer.concat(Array.from({ length: 64 }, () => tlv)) : Buffer.alloc(64 * 1024, 0);
    this.#server = net.createServer((s) => {
      this.connections++;
      this.#sockets.add(s);
      s.on('data', () => undefined);
      s.on('error', () => undefined);
      let written = 0;
      let done = false;
      s.on('close', () => {
        this.#sockets.delete(s);
        if (!done) this.cutShort++;
      });
      const pump = () => {
        while (!s.destroyed && written < FLOOD_BYTES) {
          const first = written === 0 && kind === 'oversized';
          const out = first ? Buffer.concat([Buffer.from([0x30, 0x84, 0x7f, 0xff, 0xff, 0xff]), chunk]) : chunk;
          written += out.length;
          if (!s.write(out)) return void s.once('drain', pump);
        }
        if (written >= FLOOD_BYTES) done = true;
      };
      pump();
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((r) => this.#server.listen(0, '127.0.0.1', () => r()));
    this.port = (this.#server.address() as net.AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((r) => this.#server.close(() => r()));
  }
}

async function scrape(port: number): Promise<string> {
  return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
}

function value(text: string, name: string, labels: string): number | null {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels},`) || l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : null;
}

describe('a hostile LEMF hurts only itself', () => {
  it('two LEMFs flood 32 MiB of junk back: their connections are closed and counted while a third keeps its latency', async () => {
    const t = uniqueTenant('flood');
    await bus.ensureTopics(t, ['hi2', 'hi3', 'reports', 'lemfs', 'dlq']);
    const good = await new LemfHarness().start();
    const big = await new FloodingLemf('oversized').start();
    const framed = await new FloodingLemf('framed').start();
    const etsi = (id: string, port: number) =>
      sampleLemf({
        tenant: t,
        id,
        address: { host: '127.0.0.1', port },
        ccAddress: { host: '127.0.0.1', port },
        allowInsecure: true, // the test LEMFs have no TLS
      });
    const svc = await startService(ccDeliveryService, await deliveryEnv(t));
    try {
      let seq = 0;
      /** One IRI for the good LEMF; resolves with the time until it arrived. */
      const roundTrip = async () => {
        const before = good.frames.length;
        const started = performance.now();
        await bus.send([
          {
            topic: topicName(t, 'hi2'),
            key: 'LIIDOK',
            value: psPdu('iri', 'LIIDOK', 1, seq),
            headers: { 'li.liid': 'LIIDOK', 'li.cin': '1', 'li.seq': String(seq++), 'li.lemfs': 'lemf-good' },
          },
        ]);
        await waitFor(() => good.frames.length > before, { what: 'record at the good LEMF', timeoutMs: 20_000 });
        return performance.now() - started;
      };
      await publishLemf(bus, etsi('lemf-good', good.port));
      await roundTrip(); // the good LEMF's group and connections are up
      await publishLemf(bus, etsi('flood-big', big.port));
      await publishLemf(bus, etsi('flood-framed', framed.port));
      await waitFor(() => big.connections > 0 && framed.connections > 0, { what: 'flooders connected' });

      // While the flooders flood (and reconnect and flood again), the good LEMF gets each record on time.
      const latencies: number[] = [];
      for (let i = 0; i < 30; i++) {
        latencies.push(await roundTrip());
        await new Promise((r) => setTimeout(r, 100));
      }
      latencies.sort((a, b) => a - b);
      console.log(
        `good LEMF during the flood: p50 ${latencies[15]!.toFixed(0)} ms, max ${latencies.at(-1)!.toFixed(0)} ms`,
      );
      expect(latencies.at(-1)!).toBeLessThan(2000);

      expect(big.cutShort).toBeGreaterThan(0);
      expect(framed.cutShort).toBeGreaterThan(0);
      const labels = (lemf: string) => `tenant="${t}",lemf="${lemf}",transport="ETSI_TCP"`;
      const m = await waitFor(
        async () => {
          const text = await scrape(svc.metricsPort);
          const closed = (lemf: string, code: string) =>
            value(text, 'li_cc_delivery_lemf_violations_total', `${labels(lemf)},code="${code}"`) ?? 0;
          return closed('flood-big', 'DLV_ERR_LEMF_PROTOCOL') > 0 && closed('flood-framed', 'DLV_ERR_LEMF_FLOOD') > 0
            ? text
            : undefined;
        },
        { what: 'violations counted', timeoutMs: 10_000, intervalMs: 100 },
      );
      expect(m).toMatch(
        new RegExp(`li_cc_delivery_last_error_info\\{${labels('flood-big')},code="DLV_ERR_LEMF_PROTOCOL"[^}]*\\} 1`),
      );
      expect(m).toMatch(
        new RegExp(`li_cc_delivery_last_error_info\\{${labels('flood-framed')},code="DLV_ERR_LEMF_FLOOD"[^}]*\\} 1`),
      );
      expect(value(m, 'li_cc_delivery_lemf_violations_total', `${labels('lemf-good')},code="DLV_ERR_LEMF_FLOOD"`)).toBe(
        null,
      );
      expect(value(m, 'li_cc_delivery_lemf_insecure', labels('lemf-good'))).toBe(1);
    } finally {
      await svc.stop();
      await good.stop();
      await big.stop();
      await framed.stop();
    }
  }, 120_000);
});

describe("secrets stay in their tenant's namespace", () => {
  it("a LEMF naming another tenant's secret gets a status error and sends nothing; its own secret works", async () => {
    const a = uniqueTenant('seca');
    const b = uniqueTenant('secb');
    for (const t of [a, b]) await bus.ensureTopics(t, ['hi2', 'hi3', 'reports', 'lemfs', 'dlq']);
    const ftp = await new FtpSrvPeer().start(); // accepts user mdf with password "secret"
    // per-tenant layout: <secretsDir>/<tenant>/<ref>; only tenant b holds the FTP password
    const secrets = mkdtempSync(join(tmpdir(), 'li-dlv-secrets-'));
    mkdirSync(join(secrets, a));
    mkdirSync(join(secrets, b));
    writeFileSync(join(secrets, b, 'ftp-pw'), 'secret');
    writeFileSync(join(secrets, a, 'own-pw'), 'wrong');
    const ftpLemf = (id: string, credentialRef: string) =>
      sampleLemf({
        tenant: a,
        id,
        transport: 'FTP',
        address: { host: '127.0.0.1', port: ftp.port },
        ccAddress: null,
        files: sampleFileSettings({ directory: id, maxRecords: 1, credentialRef }),
        allowInsecure: true, // the test FTP server is plaintext
      });
    const lemfs = {
      'by-path': ftpLemf('by-path', `../${b}/ftp-pw`), // b's secret by a path: refused outright
      'by-name': ftpLemf('by-name', 'ftp-pw'), // b's secret's name: not in a's directory
      own: ftpLemf('own', 'own-pw'), // a's own secret: read (and wrong for this server)
    };
    const svc = await startService(ccDeliveryService, await deliveryEnv(`${a},${b}`, { LI_SECRETS_DIR: secrets }));
    try {
      for (const d of Object.values(lemfs)) await publishLemf(bus, d);
      await bus.send(
        Object.keys(lemfs).map((id) => ({
          topic: topicName(a, 'hi2'),
          key: 'LIIDS',
          value: psPdu('iri', 'LIIDS', 1, 0),
          headers: { 'li.liid': 'LIIDS', 'li.cin': '1', 'li.seq': '0', 'li.lemfs': id },
        })),
      );
      const code = (text: string, lemf: string) =>
        text.match(
          new RegExp(`li_cc_delivery_last_error_info\\{tenant="${a}",lemf="${lemf}",transport="FTP",code="(\\w+)"`),
        )?.[1];
      const m = await waitFor(
        async () => {
          const text = await scrape(svc.metricsPort);
          // The status is set when the transport is made; the record is pending once fetched.
          const pending = (lemf: string) =>
            value(text, 'li_cc_delivery_pending_records', `tenant="${a}",lemf="${lemf}",transport="FTP"`);
          return code(text, 'by-path') &&
            code(text, 'by-name') &&
            code(text, 'own') === 'DLV_ERR_AUTH' &&
            pending('by-path') === 1 &&
            pending('by-name') === 1
            ? text
            : undefined;
        },
        { what: 'status of each LEMF and its record pending', timeoutMs: 30_000, intervalMs: 100 },
      );
      expect(code(m, 'by-path')).toBe('DLV_ERR_SECRET_REF');
      expect(code(m, 'by-name')).toBe('DLV_ERR_BAD_CONFIG'); // "credential reference not found"
      expect(value(m, 'li_cc_delivery_pending_records', `tenant="${a}",lemf="by-path",transport="FTP"`)).toBe(1);
      expect(value(m, 'li_cc_delivery_pending_records', `tenant="${a}",lemf="by-name",transport="FTP"`)).toBe(1);
      // nothing reached the server: no upload, and no login with b's password
      expect(new Set(ftp.logins)).toEqual(new Set(['mdf:wrong']));
      expect(ftp.uploads()).toEqual([]);
    } finally {
      await svc.stop();
      await ftp.dispose();
      rmSync(secrets, { recursive: true, force: true });
    }
  }, 90_000);
});
