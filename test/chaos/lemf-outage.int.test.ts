// Issue #16, scenarios 4 and 5: one ETSI TCP LEMF is away while another keeps receiving.
// 4: the LEMF is down (its ports refuse connections) for the fault's length.
// 5: the path to the LEMF is black-holed (blackhole-relay.ts: nothing passes, nothing is answered,
//    new connections are accepted and hang).
// Traffic runs through the whole pipeline (SIPp calls mirrored to ingest, SMTP submissions captured
// by tcpdump) during the fault; one warrant per kind names all three LEMFs, so the LEMF that never
// faults is the reference for what the others must receive. Checked at the LEMFs: every record
// the reference got, sequence numbers 0..n per (LIID, CIN, HI2/HI3) with repeats only as
// byte-identical resends, nothing new in the DLQ; cc-delivery's per-LEMF connected gauge and lag
// through its metrics endpoint; the time from the fault's end until the LEMF caught up.
import { topicName } from '@li/bus';
import { adminClient, uniqueTenant, waitFor } from '@li/testing';
import { freePort } from '@li/testing/peers';
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkSequences, describeCheck } from '../demo/report.ts';
import { LemfReceiver, type ReceivedRecord } from '../pipeline/lemf.ts';
import { addWarrant, type Pipeline, type Provisioning, startPipeline } from '../pipeline/pipeline.ts';
import { MAIL_USER, type Peers, SIP_SERVICE, sipCall, smtpSession, startPeers } from '../pipeline/traffic.ts';
import { BlackholeRelay } from './blackhole-relay.ts';
import { FULL, faultSeconds, recordRecovery } from './scenario.ts';

const FAULT_S = faultSeconds(60, 12);
// Keep-alives detect a dead path; short enough that a quick run's fault outlasts detection.
const KEEPALIVE = FULL ? { every: 5, timeout: 10 } : { every: 2, timeout: 5 };

let peers: Peers;
let pipeline: Pipeline;
let admin: Admin;
const healthy = new LemfReceiver({ name: 'healthy LEMF' });
let down: LemfReceiver;
const blackholed = new LemfReceiver({ name: 'LEMF behind a black hole' });
const relays: BlackholeRelay[] = [];

async function putLemf(p: Provisioning, id: string, name: string, hi2Port: number, hi3Port: number): Promise<void> {
  const r = await p.call(p.tokens.admin, 'PUT', `/tenants/${p.tenant}/lemfs/${id}`, {
    name,
    transport: 'ETSI_TCP',
    address: { host: '127.0.0.1', port: hi2Port },
    ccAddress: { host: '127.0.0.1', port: hi3Port },
    keepaliveSeconds: KEEPALIVE.every,
    keepaliveTimeoutSeconds: KEEPALIVE.timeout,
    timestampFormat: 'MICROSECOND',
    allowInsecure: true, // the local LEMF receivers have no TLS
  });
  if (r.status !== 200 && r.status !== 201) throw new Error(`LEMF ${id} not stored: ${JSON.stringify(r.json)}`);
}

async function dlqEnd(): Promise<number> {
  const ends = await admin.fetchTopicOffsets(topicName(pipeline.tenant, 'dlq'));
  return ends.reduce((n, e) => n + Number(e.high), 0);
}

// ---- cc-delivery's metrics, as an SRE would read them ----

interface LemfMetrics {
  connected: number | null;
  lag: number | null;
  pending: number | null;
  resent: number | null;
  /** The DLV_ERR_* code of the last delivery error. */
  lastError: string | null;
}

const NO_METRICS: LemfMetrics = { connected: null, lag: null, pending: null, resent: null, lastError: null };

async function scrape(lemf: string): Promise<LemfMetrics> {
  const res = await fetch(`http://127.0.0.1:${pipeline.metricsPorts['cc-delivery']}/metrics`);
  const text = await res.text();
  const ours = (line: string) =>
    line.includes(`tenant="${pipeline.tenant}"`) && line.includes(`lemf="${lemf}"`) && !line.startsWith('#');
  const value = (name: string): number | null => {
    const lines = text.split('\n').filter((l) => l.startsWith(`${name}{`) && ours(l));
    if (lines.length === 0) return null;
    return lines.reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
  };
  return {
    connected: value('li_cc_delivery_connected_bool'),
    lag: value('li_cc_delivery_consumer_lag_records'),
    pending: value('li_cc_delivery_pending_records'),
    resent: value('li_cc_delivery_resent_records'),
    lastError:
      text
        .split('\n')
        .find((l) => l.startsWith('li_cc_delivery_last_error_info{') && ours(l))
        ?.match(/code="([^"]+)"/)?.[1] ?? null,
  };
}

/** Scrapes the LEMFs' metrics every second until stopped. */
function watchMetrics(lemfs: string[]): {
  samples: { at: number; lemf: string; m: LemfMetrics }[];
  stop(): Promise<void>;
} {
  const samples: { at: number; lemf: string; m: LemfMetrics }[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      for (const lemf of lemfs) samples.push({ at: Date.now(), lemf, m: await scrape(lemf).catch(() => NO_METRICS) });
      await new Promise((r) => setTimeout(r, 1000));
    }
  })();
  return {
    samples,
    async stop() {
      running = false;
      await loop;
    },
  };
}

// ---- traffic ----

interface Traffic {
  calls: number;
  mails: number;
  failures: string[];
  stop(): Promise<void>;
}

/**
 * Two SIPp call loops and an SMTP submission loop side by side until stopped: the LEMFs get a
 * record more often than the keep-alive period, so a dead path must be noticed while data flows.
 */
function runTraffic(): Traffic {
  const t: Traffic = { calls: 0, mails: 0, failures: [], stop: async () => undefined };
  let running = true;
  const callLoop = async () => {
    while (running) {
      const r = await (await sipCall(pipeline.sipUdpPort, 500)).done;
      if (r.ok) t.calls++;
      else t.failures.push('SIPp call failed');
    }
  };
  const mailLoop = async () => {
    while (running) {
      await smtpSession(peers.smtpPort).then(
        () => t.mails++,
        (e: Error) => t.failures.push(`smtp: ${e.message}`),
      );
      await new Promise((r) => setTimeout(r, 700));
    }
  };
  const loops = Promise.all([callLoop(), callLoop(), mailLoop()]);
  t.stop = async () => {
    running = false;
    await loops;
  };
  return t;
}

// ---- what the LEMFs received ----

const keyOf = (r: ReceivedRecord) => `${r.liid}/${r.cin}/${r.handover}/${r.seq}`;

/** Distinct records (LIID, CIN, handover, seq) and when each first arrived. */
function firstArrivals(l: LemfReceiver): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of l.records) if (r.seq >= 0 && !m.has(keyOf(r))) m.set(keyOf(r), r.receivedAtMs);
  return m;
}

/** Waits until the LEMF has every record the reference has and neither has received anything for 3 s. */
async function caughtUp(l: LemfReceiver, what: string): Promise<Map<string, number>> {
  let seen = '';
  let since = Date.now();
  await waitFor(
    () => {
      const ref = firstArrivals(healthy);
      const got = firstArrivals(l);
      const missing = [...ref.keys()].filter((k) => !got.has(k)).length;
      const now = `${healthy.records.length}/${l.records.length}`;
      if (now !== seen || missing > 0) {
        seen = now;
        since = Date.now();
      }
      return Date.now() - since >= 3000;
    },
    { timeoutMs: 180_000, intervalMs: 200, what: `the ${what} to have every record the healthy LEMF has` },
  );
  return firstArrivals(l);
}

/** Sequence numbers 0..n per (LIID, CIN, handover); repeats only as byte-identical resends. Returns the repeats. */
function expectGapFree(l: LemfReceiver): number {
  const checks = checkSequences(l.records);
  for (const c of checks) console.log(`  ${l.name} ${c.liid} CIN ${c.cin} ${c.handover}: ${describeCheck(c)}`);
  for (const c of checks) expect(c.gaps, `${l.name} ${c.liid}/${c.cin}/${c.handover} gaps`).toEqual([]);
  const bytes = new Map<string, Buffer>();
  let repeats = 0;
  for (const r of l.records) {
    const first = bytes.get(keyOf(r));
    if (!first) {
      bytes.set(keyOf(r), Buffer.from(r.bytes));
      continue;
    }
    repeats++;
    expect(Buffer.compare(first, Buffer.from(r.bytes)), `${keyOf(r)} repeated with other bytes`).toBe(0);
  }
  expect(l.records.every((r) => r.format === 'TS102232')).toBe(true);
  return repeats;
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
}

/** The healthy LEMF's records during the fault: must keep coming; their latency is printed. */
function healthyDuringFault(from: number, to: number, scenario: string): void {
  const during = healthy.records.filter((r) => r.receivedAtMs >= from && r.receivedAtMs <= to);
  const half = (from + to) / 2;
  const lat = during
    .filter((r) => r.timeMicros !== null && !r.type.startsWith('HI1'))
    .map((r) => r.receivedAtMs - r.timeMicros! / 1000);
  console.log(
    `[chaos] ${scenario}: healthy LEMF received ${during.length} records during the fault; latency from interception p50 ${percentile(lat, 50).toFixed(0)} ms, p99 ${percentile(lat, 99).toFixed(0)} ms, max ${Math.max(...lat).toFixed(0)} ms`,
  );
  expect(
    during.some((r) => r.receivedAtMs < half),
    'healthy LEMF received in the first half of the fault',
  ).toBe(true);
  expect(
    during.some((r) => r.receivedAtMs >= half),
    'healthy LEMF received in the second half of the fault',
  ).toBe(true);
}

beforeAll(async () => {
  peers = await startPeers();
  admin = await adminClient('li-chaos-lemf');
  await healthy.start();
  down = await new LemfReceiver({
    name: 'LEMF that goes down',
    hi2Port: await freePort(),
    hi3Port: await freePort(),
  }).start();
  await blackholed.start();
  relays.push(await new BlackholeRelay({ host: '127.0.0.1', port: blackholed.hi2Port }).start());
  relays.push(await new BlackholeRelay({ host: '127.0.0.1', port: blackholed.hi3Port }).start());
  pipeline = await startPipeline({
    tenant: uniqueTenant('chaos'),
    capture: { interface: 'lo', smtpPorts: [peers.smtpPort], imapPorts: [], msnpPorts: [] },
  });
  await putLemf(pipeline, 'lemf-healthy', healthy.name, healthy.hi2Port, healthy.hi3Port);
  await putLemf(pipeline, 'lemf-down', down.name, down.hi2Port, down.hi3Port);
  await putLemf(pipeline, 'lemf-blackholed', blackholed.name, relays[0]!.port, relays[1]!.port);
  const lemfIds = ['lemf-healthy', 'lemf-down', 'lemf-blackholed'];
  await addWarrant(pipeline, { liid: 'CHAOSV1', kind: 'VOICE', target: { type: 'E164', value: SIP_SERVICE }, lemfIds });
  await addWarrant(pipeline, {
    liid: 'CHAOSM1',
    kind: 'EMAIL',
    target: { type: 'MAIL_ACCOUNT', value: MAIL_USER },
    lemfIds,
  });
  // every LEMF connected and told of both warrants before the traffic starts
  for (const l of [healthy, down, blackholed]) {
    await waitFor(() => l.records.filter((r) => r.type === 'HI1 liActivated').length === 2, {
      timeoutMs: 60_000,
      what: `both liActivated at the ${l.name}`,
    });
  }
}, 180_000);

afterAll(async () => {
  const t0 = Date.now();
  await pipeline?.stop();
  console.log(`[chaos] lemf-outage: pipeline stopped in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  for (const r of relays) await r.stop();
  for (const l of [healthy, down, blackholed]) await l?.stop();
  await peers?.stop();
  await admin?.disconnect();
}, 120_000);

/** Runs traffic through a fault and checks what every LEMF received afterwards. */
async function scenario(
  name: string,
  lemfId: string,
  faulty: LemfReceiver,
  fault: { begin(): Promise<void> | void; end(): Promise<void> | void },
): Promise<{
  samples: { at: number; lemf: string; m: LemfMetrics }[];
  faultFrom: number;
  faultTo: number;
  recovery: Parameters<typeof recordRecovery>[1];
}> {
  const dlqBefore = await dlqEnd();
  const metrics = watchMetrics(['lemf-healthy', lemfId]);
  const traffic = runTraffic();
  try {
    // traffic reaches both LEMFs before the fault
    const before = faulty.records.length;
    await waitFor(() => faulty.records.length > before + 5, {
      timeoutMs: 60_000,
      what: `records at the ${faulty.name}`,
    });
    await fault.begin();
    const faultFrom = Date.now();
    await new Promise((r) => setTimeout(r, FAULT_S * 1000));
    await fault.end();
    const faultTo = Date.now();
    await traffic.stop();
    const got = await caughtUp(faulty, faulty.name);
    const last = Math.max(...[...got.values()]);
    const recoverySeconds = Math.max(0, (last - faultTo) / 1000);
    expect(traffic.failures).toEqual([]);
    console.log(`[chaos] ${name}: ${traffic.calls} calls and ${traffic.mails} mails during the run`);

    healthyDuringFault(faultFrom, faultTo, name);
    // everything the healthy LEMF got, the faulty one got too
    const ref = firstArrivals(healthy);
    expect([...ref.keys()].filter((k) => !got.has(k))).toEqual([]);
    const repeats = expectGapFree(faulty);
    expect(expectGapFree(healthy)).toBe(0);
    console.log(
      `[chaos] ${name}: ${repeats} records repeated at the ${faulty.name} (resend window), ${got.size} distinct`,
    );
    // every event's records: each call ended, each mail's content delivered, at both LEMFs
    for (const l of [healthy, faulty]) {
      expect(
        new Set(
          l
            .of('CHAOSV1')
            .filter((r) => r.type === 'IRI-END iPMMIRI')
            .map(keyOf),
        ).size,
      ).toBeGreaterThanOrEqual(traffic.calls);
      expect(
        new Set(
          l
            .of('CHAOSM1')
            .filter((r) => r.type === 'CC emailCC')
            .map(keyOf),
        ).size,
      ).toBeGreaterThanOrEqual(traffic.mails);
    }
    expect(await dlqEnd()).toBe(dlqBefore);
    // lag back to 0 and connected for both LEMFs
    await waitFor(
      async () => {
        const m = await scrape(lemfId);
        const h = await scrape('lemf-healthy');
        return m.connected === 1 && m.lag === 0 && h.connected === 1 && h.lag === 0;
      },
      { timeoutMs: 60_000, intervalMs: 500, what: 'both LEMFs connected with lag 0' },
    );
    return {
      samples: metrics.samples,
      faultFrom,
      faultTo,
      recovery: { faultSeconds: FAULT_S, recoverySeconds, records: got.size, note: `${repeats} repeats` },
    };
  } finally {
    await traffic.stop();
    await metrics.stop();
  }
}

function printMetrics(samples: { at: number; lemf: string; m: LemfMetrics }[], from: number, to: number): void {
  for (const s of samples.filter((x) => x.at >= from - 2000 && x.at <= to + 10_000)) {
    console.log(
      `  t=${((s.at - from) / 1000).toFixed(1)} s ${s.lemf}: connected ${s.m.connected}, lag ${s.m.lag}, pending ${s.m.pending}, resent ${s.m.resent}, last error ${s.m.lastError}`,
    );
  }
}

describe('one LEMF away while another keeps receiving', () => {
  it(`a LEMF down for ${FAULT_S} s receives everything once it is back`, async () => {
    const r = await scenario('lemf-down', 'lemf-down', down, {
      begin: () => down.stop(),
      end: async () => {
        await down.start();
      },
    });
    printMetrics(r.samples, r.faultFrom, r.faultTo);
    const during = r.samples.filter((s) => s.at > r.faultFrom + 2000 && s.at <= r.faultTo);
    expect(during.filter((s) => s.lemf === 'lemf-down').some((s) => s.m.connected === 0)).toBe(true);
    expect(during.filter((s) => s.lemf === 'lemf-down').some((s) => (s.m.lag ?? 0) > 0)).toBe(true);
    expect(during.filter((s) => s.lemf === 'lemf-healthy').every((s) => s.m.connected === 1)).toBe(true);
    recordRecovery('lemf-down', r.recovery);
  }, 600_000);

  it(`a LEMF whose network is black-holed for ${FAULT_S} s receives everything once it is back`, async () => {
    const r = await scenario('lemf-blackhole', 'lemf-blackholed', blackholed, {
      begin: () => {
        for (const x of relays) x.blackhole();
      },
      end: () => {
        for (const x of relays) x.restore();
      },
    });
    printMetrics(r.samples, r.faultFrom, r.faultTo);
    console.log(
      `[chaos] lemf-blackhole: relay accepted ${relays.map((x) => x.accepted).join('+')} connections, ${relays.map((x) => x.acceptedDuringFault).join('+')} during the fault`,
    );
    const during = r.samples.filter((s) => s.at > r.faultFrom && s.at <= r.faultTo);
    // the dead path is detected by the keep-alives: each connection is dropped and re-opened (and hangs again)
    expect(relays.every((x) => x.acceptedDuringFault > 0)).toBe(true);
    expect(during.some((s) => s.lemf === 'lemf-blackholed' && s.m.lastError === 'DLV_ERR_KEEPALIVE_TIMEOUT')).toBe(
      true,
    );
    expect(during.filter((s) => s.lemf === 'lemf-healthy').every((s) => s.m.connected === 1)).toBe(true);
    recordRecovery('lemf-blackhole', r.recovery);
  }, 600_000);
});
