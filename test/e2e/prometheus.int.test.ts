// A real Prometheus scrapes all six services while a warrant's traffic flows from ingest to a
// LEMF, with deploy/prometheus/alerts.yml loaded. PromQL over its HTTP API must agree with what
// happened: every target up, the encoder's and cc-delivery's counters equal to the records the
// LEMF received, the consumer lag 0, the rules evaluating without error and quiet on a healthy
// pipeline, and the LEMF-down expression and the consumer lag reacting to an outage.
import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Bus, createBus, topicName } from '@li/bus';
import { LemfHarness } from '@li/cc-delivery/testing';
import type { NormalizedEvent } from '@li/schemas';
import { sampleEvent } from '@li/schemas/testing';
import { memoryLogger, testInfra, uniqueTenant, waitFor } from '@li/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addWarrant, type Pipeline, startPipeline } from '../pipeline/pipeline.ts';

const PROMETHEUS = process.env.PROMETHEUS ?? '/usr/bin/prometheus';
const RULES = join(import.meta.dirname, '../../deploy/prometheus/alerts.yml');
const TARGET = '+390612345678';
const LEMF = 'lemf-prom';
const N = 12; // calls: one INVITE (IRI-BEGIN on HI2) and one RTP packet (CC on HI3) each
const M = 5; // calls during the LEMF's HI2 outage

type Sample = { metric: Record<string, string>; value: [number, string] };

let bus: Bus;
let prometheus: ChildProcess | undefined;
const dirs: string[] = [];
const tmp = (prefix: string) => {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
};

beforeAll(async () => {
  const infra = testInfra();
  bus = await createBus({ ...infra, clientId: 'e2e-prometheus' }, memoryLogger().log);
});
afterAll(async () => {
  if (prometheus && prometheus.exitCode === null) {
    const exited = new Promise((r) => prometheus!.once('exit', r));
    prometheus.kill('SIGTERM');
    const timer = setTimeout(() => prometheus?.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
  await bus?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** Starts Prometheus scraping the given jobs every second, with the project's alert rules. */
async function startPrometheus(jobs: Record<string, number>): Promise<string> {
  const dir = tmp('prometheus-');
  const config = [
    'global: { scrape_interval: 1s, evaluation_interval: 1s }',
    `rule_files: [${JSON.stringify(RULES)}]`,
    'scrape_configs:',
    ...Object.entries(jobs).flatMap(([job, port]) => [
      `  - job_name: ${job}`,
      `    static_configs: [{ targets: ['127.0.0.1:${port}'] }]`,
    ]),
  ].join('\n');
  writeFileSync(join(dir, 'prometheus.yml'), `${config}\n`);
  const port = await freePort();
  const log: string[] = [];
  prometheus = spawn(
    PROMETHEUS,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  prometheus.stderr!.on('data', (b: Buffer) => log.push(b.toString('utf8')));
  const spawnError = new Promise<never>((_, reject) =>
    prometheus!.once('error', (e) => reject(new Error(`${PROMETHEUS}: ${e.message} (apt-get install prometheus)`))),
  );
  const url = `http://127.0.0.1:${port}`;
  await Promise.race([
    spawnError,
    waitFor(
      async () => {
        if (prometheus!.exitCode !== null) throw new Error(`prometheus exited: ${log.join('').slice(-2000)}`);
        return (await fetch(`${url}/-/ready`).catch(() => null))?.ok;
      },
      { what: 'Prometheus ready', timeoutMs: 20_000, intervalMs: 200 },
    ),
  ]);
  return url;
}

function promql(url: string) {
  return async (query: string): Promise<Sample[]> => {
    const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(query)}`);
    const body = (await res.json()) as { status: string; error?: string; data: { result: Sample[] } };
    if (body.status !== 'success') throw new Error(`PromQL ${query}: ${body.error}`);
    return body.data.result;
  };
}

/** A minimal RFC 3261 INVITE to the target, one Call-ID per call. */
function invite(i: number): Buffer {
  return Buffer.from(
    `INVITE sip:${TARGET}@ims.example.net;user=phone SIP/2.0\r\n` +
      `Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-prom-${i}\r\n` +
      'Max-Forwards: 70\r\n' +
      `From: <sip:alice@example.com>;tag=a${i}\r\n` +
      `To: <tel:${TARGET}>\r\n` +
      `Call-ID: prom-${i}@192.0.2.10\r\n` +
      'CSeq: 1 INVITE\r\n' +
      'Contact: <sip:alice@192.0.2.10:5060>\r\n' +
      'Content-Length: 0\r\n\r\n',
  );
}

describe('Prometheus scraping every service', () => {
  it('sees all six up, counters matching the LEMF, quiet rules, and a LEMF outage', async () => {
    const tenant = uniqueTenant('prom');
    let pipeline: Pipeline | undefined;
    const hi2 = await new LemfHarness().start();
    const hi3 = await new LemfHarness().start();
    const udp = createSocket('udp4');
    try {
      pipeline = await startPipeline({ tenant, mcid: true });
      const lemf = await pipeline.call(pipeline.tokens.admin, 'PUT', `/tenants/${tenant}/lemfs/${LEMF}`, {
        name: 'Monitoring centre',
        transport: 'ETSI_TCP',
        address: { host: '127.0.0.1', port: hi2.port },
        ccAddress: { host: '127.0.0.1', port: hi3.port },
        keepaliveSeconds: 1,
        keepaliveTimeoutSeconds: 5,
        allowInsecure: true, // the test LEMF has no TLS
      });
      expect(lemf.status, JSON.stringify(lemf.json)).toBe(200);
      // DE: PS-PDUs only (no TS 101 671 twin), so one HI2 record per INVITE.
      await addWarrant(pipeline, {
        liid: 'PROMLIID1',
        kind: 'VOICE',
        target: { type: 'E164', value: TARGET },
        lemfIds: [LEMF],
      });
      const jobs = pipeline.metricsPorts;
      await waitFor(
        async () => {
          const ready = await Promise.all(
            Object.values(jobs).map((p) => fetch(`http://127.0.0.1:${p}/readyz`).then((r) => r.ok)),
          );
          return ready.every(Boolean);
        },
        { what: 'all six services ready', timeoutMs: 30_000, intervalMs: 200 },
      );

      const url = await startPrometheus(jobs);
      const q = promql(url);
      const value = async (query: string) => {
        const r = await q(query);
        return r.length === 0 ? null : Number(r[0]!.value[1]);
      };

      // Calls: SIP INVITEs through ingest's listener, RTP of the same calls straight onto the bus
      // (ingest takes media over X3, which needs a POI; the RTP events are what it would publish).
      const sipPort = pipeline.sipUdpPort;
      const eventsTopic = topicName(tenant, 'events');
      const codec = await bus.codec<NormalizedEvent>(eventsTopic, 'NormalizedEvent');
      const calls = async (from: number, n: number) => {
        for (let i = from; i < from + n; i++) {
          await new Promise<void>((r, j) => udp.send(invite(i), sipPort, '127.0.0.1', (e) => (e ? j(e) : r())));
        }
        const media = Array.from({ length: n }, (_, k) =>
          sampleEvent({
            tenant,
            eventId: `rtp-${from + k}`,
            category: 'MEDIA',
            action: 'rtp',
            source: 'x3',
            protocol: 'RTP',
            communicationId: `prom-${from + k}@192.0.2.10`,
            occurredAtMicros: Date.now() * 1000,
            parties: [{ role: 'CALLEE', type: 'E164', value: TARGET }],
            attributes: { payloadDirection: '2' },
            // RTP header (version 2, PCMU) and 8 payload octets
            content: Buffer.from([0x80, 0, 0, from + k, 0, 0, 0, 0, 0, 0, 0, 1, ...Array(8).fill(0xff)]),
            contentType: 'audio/rtp',
          }),
        );
        await bus.send(
          await Promise.all(
            media.map(async (e) => ({ topic: eventsTopic, key: e.communicationId, value: await codec.encode(e) })),
          ),
        );
      };

      // The counters agree with what was sent and what the LEMF received. HI2 carries the N
      // IRIs and any HI1 notification (warrant activated) the encoder sends on it.
      const t = `tenant="${tenant}"`;
      const counted = async () => ({
        ingested: await value(`sum(li_ingest_events_total{${t},source="sip"})`),
        matched: await value(`sum(li_target_match_matched_records_total{${t}})`),
        encIri: await value(`sum(li_iri_encoder_records_total{${t},handover="HI2",kind="IRI"})`),
        encCc: await value(`sum(li_iri_encoder_records_total{${t},handover="HI3",kind="CC"})`),
        encHi2: await value(`sum(li_iri_encoder_records_total{${t},handover="HI2"})`),
        sentHi2: await value(`sum(li_cc_delivery_sent_records_total{${t},lemf="${LEMF}",stream="HI2"})`),
        sentHi3: await value(`sum(li_cc_delivery_sent_records_total{${t},lemf="${LEMF}",stream="HI3"})`),
        lemfHi2: hi2.frames.length,
        lemfHi3: hi3.frames.length,
      });
      await calls(0, N);
      await waitFor(() => hi2.frames.length >= N && hi3.frames.length >= N, {
        what: `${N} IRI and ${N} CC records at the LEMF`,
        timeoutMs: 30_000,
        intervalMs: 200,
      }).catch(async (err: Error) => {
        throw new Error(`${err.message}; counters: ${JSON.stringify(await counted())}`);
      });

      // Every job scraped.
      const up = await waitFor(
        async () => {
          const r = await q('up');
          return r.length === 6 && r.every((s) => s.value[1] === '1') ? r : undefined;
        },
        { what: 'up == 1 for six jobs', timeoutMs: 15_000, intervalMs: 500 },
      );
      expect(up.map((s) => s.metric.job).sort()).toEqual(Object.keys(jobs).sort());

      const agree = (c: Awaited<ReturnType<typeof counted>>) =>
        c.ingested === N &&
        c.matched === 2 * N &&
        c.encIri === N &&
        c.encCc === N &&
        c.encHi2 === c.lemfHi2 &&
        c.sentHi2 === c.lemfHi2 &&
        c.sentHi3 === N &&
        c.lemfHi3 === N;
      let last = await counted();
      await waitFor(
        async () => {
          last = await counted();
          return agree(last);
        },
        { what: 'Prometheus counters equal to the records delivered', timeoutMs: 15_000, intervalMs: 500 },
      ).catch(() => undefined);
      expect(last).toMatchObject({ ingested: N, matched: 2 * N, encIri: N, encCc: N, sentHi3: N, lemfHi3: N });
      expect(last.sentHi2).toBe(last.lemfHi2);
      expect(last.encHi2).toBe(last.lemfHi2);
      expect(last.lemfHi2 - N).toBeLessThanOrEqual(1); // at most the warrant's HI1 activation
      expect(await value(`li_cc_delivery_connected_bool{${t},lemf="${LEMF}"}`)).toBe(1);

      // The LEMF's consumer lag is 0 once all is delivered (cc-delivery measures it every 5 s).
      const lag = (stream: string) =>
        value(`sum(li_cc_delivery_consumer_lag_records{${t},lemf="${LEMF}",stream="${stream}"})`);
      let lags: { hi2: number | null; hi3: number | null } = { hi2: null, hi3: null };
      await waitFor(
        async () => {
          lags = { hi2: await lag('hi2'), hi3: await lag('hi3') };
          return lags.hi2 === 0 && lags.hi3 === 0;
        },
        { what: 'consumer lag 0 after delivery', timeoutMs: 15_000, intervalMs: 500 },
      ).catch(() => undefined);
      expect(lags).toEqual({ hi2: 0, hi3: 0 }); // a failure shows what the gauge read

      // The rules load and evaluate without error against the real series, and none is pending
      // or firing on this healthy pipeline.
      type Rule = { name: string; query: string; health: string; lastError?: string; type: string };
      const rules = async () => {
        const body = (await (await fetch(`${url}/api/v1/rules`)).json()) as {
          data: { groups: { rules: Rule[] }[] };
        };
        return body.data.groups.flatMap((g) => g.rules);
      };
      const alertNames = [...readFileSync(RULES, 'utf8').matchAll(/^\s*- alert: (\S+)$/gm)].map((m) => m[1]);
      const loaded = await waitFor(
        async () => {
          const r = await rules();
          return r.length === alertNames.length && r.every((x) => x.health !== 'unknown') ? r : undefined;
        },
        { what: 'every rule evaluated', timeoutMs: 10_000, intervalMs: 500 },
      );
      expect(loaded.map((r) => r.name).sort()).toEqual([...alertNames].sort());
      expect(loaded.filter((r) => r.health !== 'ok').map((r) => `${r.name}: ${r.lastError}`)).toEqual([]);
      expect(await q('ALERTS')).toEqual([]);

      // Outage of the LEMF's HI2 receiver: connected drops to 0, the LiLemfDown expression selects
      // exactly this LEMF (its `for` of 5 minutes is the unit tests' business), and the lag rises.
      const lemfDown = loaded.find((r) => r.name === 'LiLemfDown')!.query;
      const hi2Port = hi2.port;
      await hi2.stop();
      await calls(N, M);
      const down = await waitFor(
        async () => {
          const r = await q(lemfDown);
          return r.length > 0 ? r : undefined;
        },
        { what: 'the LiLemfDown expression to select the LEMF', timeoutMs: 15_000, intervalMs: 500 },
      );
      expect(down.map((s) => s.metric)).toEqual([{ tenant, lemf: LEMF, transport: 'ETSI_TCP' }]);
      const lagDuringOutage = await waitFor(
        async () => {
          const v = (await lag('hi2')) ?? 0;
          return v > 0 ? v : undefined;
        },
        { what: 'consumer lag above 0 during the outage', timeoutMs: 15_000, intervalMs: 500 },
      );

      // Back: everything arrives, connected is 1 again, the lag returns to 0.
      const back = await new LemfHarness({ port: hi2Port }).start();
      try {
        await waitFor(() => back.frames.length >= M, { what: 'the LEMF to catch up', timeoutMs: 30_000 });
        await waitFor(
          async () =>
            (await value(`li_cc_delivery_connected_bool{${t},lemf="${LEMF}"}`)) === 1 &&
            (await q(lemfDown)).length === 0,
          { what: 'connected again', timeoutMs: 15_000, intervalMs: 500 },
        );
        await waitFor(async () => (await lag('hi2')) === 0, {
          what: 'consumer lag 0 after the outage',
          timeoutMs: 15_000,
          intervalMs: 500,
        });
        // Plain TCP may replay what it could not confirm, so at least everything encoded.
        const sent = await waitFor(
          async () => {
            const v = await value(`sum(li_cc_delivery_sent_records_total{${t},lemf="${LEMF}",stream="HI2"})`);
            return v !== null && v >= last.encHi2! + M ? v : undefined;
          },
          { what: 'HI2 records sent after the outage', timeoutMs: 15_000, intervalMs: 500 },
        );
        expect(sent).toBeGreaterThanOrEqual(last.encHi2! + M);
        expect(await value(`sum(li_iri_encoder_records_total{${t},handover="HI2",kind="IRI"})`)).toBe(N + M);
        console.log(
          `prometheus: ${up.length} targets up; ${JSON.stringify(last)}; ${loaded.length} rules ok; ` +
            `HI2 outage: lag ${lagDuringOutage}, then ${sent} HI2 sent for ${last.encHi2! + M} encoded`,
        );
      } finally {
        await back.stop();
      }
    } finally {
      udp.close();
      await pipeline?.stop();
      await hi2.stop();
      await hi3.stop();
    }
  }, 120_000);
});
