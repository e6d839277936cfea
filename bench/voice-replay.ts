// bench/voice-replay: the whole pipeline on a capture of BENCH_CALLS (default 5 000) SIP calls
// with RTP, every BENCH_TARGET_EVERY-th (default 10th: 10 %) to a warranted number, replayed by
// ingest from a pcap file at 1x, 2x, 4x real time and at full speed (BENCH_SPEEDS, 0 = full).
// For each run: IRI and CC records at the LEMF against expected (every SIP message of a target
// call is an IRI, every RTP packet of it a CC record), and for paced runs the capture-to-LEMF
// latency (p50/p99): the LEMF's arrival time against the wall time ingest handed the packet
// over (replay start, from ingest's li_ingest_replay_started_seconds, plus packet time / speed).
// Reference: the full-speed run's duration against the capture's real-time span.
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LemfReceiver } from '@li/e2e/lemf';
import { addEtsiLemf, addWarrant, startPipeline } from '@li/e2e/pipeline';
import { ingestService } from '@li/ingest/service';
import { writeVoiceCapture } from '@li/ingest/testing';
import { startService } from '@li/runtime';
import { serviceEnv } from '@li/testing';
import { freePort } from '@li/testing/sip';
import { benchDeadline, waitUntil, within } from './lib/deadline.ts';
import { fmt, printMachine } from './lib/report.ts';

const CALLS = Number(process.env.BENCH_CALLS ?? 5_000);
const TARGET_EVERY = Number(process.env.BENCH_TARGET_EVERY ?? 10);
const SPAN_S = Number(process.env.BENCH_SPAN_SECONDS ?? 20);
const TALK_MS = Number(process.env.BENCH_TALK_MS ?? 1000);
const SPEEDS = (process.env.BENCH_SPEEDS ?? '1,2,4,0').split(',').map(Number);
const tenant = `bench-voice-${Date.now().toString(36)}`;

benchDeadline('bench/voice-replay', Number(process.env.BENCH_DEADLINE_SECONDS ?? 3000));
printMachine();
const dir = mkdtempSync(join(tmpdir(), 'bench-voice-'));
const lemf = await new LemfReceiver({ name: 'bench voice LEMF' }).start();
const pipeline = await within(
  'the pipeline to start',
  180_000,
  startPipeline({ tenant, env: { LI_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'error' } }),
);
await addEtsiLemf(pipeline, 'lemf-voice', lemf);

const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

async function metric(port: number, name: string): Promise<number | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : undefined;
}

const rows: string[] = [];
let fullSpeedMs = 0;
for (const [k, speed] of SPEEDS.entries()) {
  const liid = `REPLAY${k}`;
  const target = `+39069900000${k}`;
  await addWarrant(pipeline, { liid, kind: 'VOICE', target: { type: 'E164', value: target }, lemfIds: ['lemf-voice'] });
  await new Promise((r) => setTimeout(r, 1500)); // the warrant reaches target-match
  const file = join(dir, `calls-${k}.pcap`);
  const fd = openSync(file, 'w');
  const startMicros = Date.now() * 1000;
  const counts = writeVoiceCapture(
    {
      calls: CALLS,
      targetEvery: TARGET_EVERY,
      target,
      spanSeconds: SPAN_S,
      talkMs: TALK_MS,
      callIdPrefix: `r${k}`,
      startMicros,
    },
    (chunk) => writeSync(fd, chunk),
  );
  closeSync(fd);
  const metricsPort = await freePort('tcp');
  const env = await serviceEnv('ingest', [tenant], {
    LI_TENANT: tenant,
    LI_SIP__ENABLED: 'false',
    LI_MAIL_EVENTS__ENABLED: 'false',
    LI_CAPTURE__PCAP_FILE: file,
    LI_CAPTURE__PCAP_SPEED: String(speed),
    LI_METRICS_PORT: String(metricsPort),
    LI_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'error',
  });
  const t0 = Date.now();
  // start() returns once the file is replayed (paced runs take the capture's span / speed).
  const ingest = await within('the replay', 1_800_000, startService(ingestService, env));
  const startedMs = ((await metric(metricsPort, 'li_ingest_replay_started_seconds')) ?? t0 / 1000) * 1000;
  // The call's IRIs and CC (not the warrant's HI1 notification, CIN 0).
  const mine = () =>
    lemf.records.filter((r) => r.liid === liid && (r.type.includes('iPMMIRI') || r.type.includes('iPMMCC')));
  const expected = counts.targetSip + counts.targetRtp;
  await waitUntil(
    `${fmt(expected)} records of ${liid} at the LEMF`,
    () => {
      const n = mine().length;
      return n >= expected ? true : `${fmt(n)} records`;
    },
    { timeoutMs: 900_000, intervalMs: 500 },
  );
  await new Promise((r) => setTimeout(r, 2000)); // none more may come
  await ingest.stop();
  rmSync(file, { force: true });
  const recs = mine();
  const iri = recs.filter((r) => r.handover === 'HI2').length;
  const cc = recs.filter((r) => r.handover === 'HI3').length;
  const doneMs = Math.max(...recs.map((r) => r.receivedAtMs));
  let latency = 'n/a (full speed: packets handed over as fast as read)';
  if (speed > 0) {
    const lat = recs
      .filter((r) => r.timeMicros !== null)
      .map((r) => r.receivedAtMs - (startedMs + (r.timeMicros! - startMicros) / 1000 / speed));
    latency = `p50 ${fmt(pct(lat, 50))} ms, p99 ${fmt(pct(lat, 99))} ms`;
  } else {
    fullSpeedMs = doneMs - startedMs;
  }
  rows.push(
    `${speed > 0 ? `${speed}x real time` : 'full speed  '}: IRI ${fmt(iri)}/${fmt(counts.targetSip)}, CC ${fmt(cc)}/${fmt(counts.targetRtp)} ` +
      `(${counts.targetCalls} target calls of ${fmt(CALLS)}, ${fmt(counts.packets)} packets, ${fmt(counts.rtpPackets)} RTP), ` +
      `capture-to-LEMF ${latency}; last record ${fmt((doneMs - startedMs) / 1000, 1)} s after the replay began`,
  );
  console.log(rows.at(-1));
  if (iri !== counts.targetSip || cc !== counts.targetRtp) process.exitCode = 1;
}
const spanMs = SPAN_S * 1000 + TALK_MS;
console.log('bench/voice-replay:');
for (const r of rows) console.log(`  ${r}`);
if (fullSpeedMs > 0) {
  console.log(
    `  full-speed run until the last record ${fmt(fullSpeedMs / 1000, 1)} s against the capture's ${fmt(spanMs / 1000, 1)} s of real time: ratio ${(spanMs / fullSpeedMs).toFixed(2)} x real time`,
  );
}
await pipeline.stop();
await lemf.stop();
rmSync(dir, { recursive: true, force: true });
process.exit(process.exitCode ?? 0);
