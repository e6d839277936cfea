// bench/encode-service: the iri-encoder service alone on the broker, beside the raw bus
// reference of the same run. BENCH_EVENTS (default 300 000; at 100 000, Node's start and the
// first JIT passes took a third of the run) MatchedEvents are produced to li.<t>.matched before
// the service starts: SIP calls (IPMMIRI with the SIP message, RTP frames
// as IPMMCC) and SMTP sessions (EmailIRI, EmailCC of 1.4 KB mails), half of them under Italian
// warrants (a TS 101 671 HI2 record beside each PS-PDU IRI). Figure: ETSI records/s out on
// li.<t>.hi2 + li.<t>.hi3, read committed, from the service's start until the last record.
// The expected record count comes from the encoder's domain code run over the same events.
// Two set-ups (BENCH_ENC_MODES, default both), each on a tenant of its own:
//  - process: the service as deployed, `node services/iri-encoder/src/main.ts`; its CPU is the
//    child's (/proc), Node's start included in start → last;
//  - in-process: startService in this process, as before: its CPU also counts this process's
//    consumer that reads every output record.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createBus, type OutputRecord, topicName } from '@li/bus';
import { iriEncoderService } from '@li/iri-encoder/service';
import { type EncoderOptions, expectedRecords } from '@li/iri-encoder/testing';
import { createLogger } from '@li/log';
import { startService } from '@li/runtime';
import type { MatchedEvent, NormalizedEvent } from '@li/schemas';
import { sampleEvent, sampleMatched } from '@li/schemas/testing';
import { pinnedNode, serviceEnv, testInfra } from '@li/testing';
import { measureBusReference } from './lib/bus-reference.ts';
import { countingConsumer } from './lib/counting-consumer.ts';
import { benchDeadline, waitUntil, within } from './lib/deadline.ts';
import { processCpuSeconds } from './lib/process-cpu.ts';
import { profilePhase } from './lib/profile.ts';
import { cpuMeter, fmt, printMachine, printRows } from './lib/report.ts';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 300_000);
const REFERENCE_BYTES = 512;
const infra = testInfra();
const { brokers } = infra;
const ROOT = join(import.meta.dirname, '..');
type Mode = 'process' | 'in-process';
const MODES = (process.env.BENCH_ENC_MODES ?? 'process,in-process').split(',') as Mode[];

benchDeadline('bench/encode-service', 900);
printMachine();
const reference = await measureBusReference({ brokers, recordBytes: REFERENCE_BYTES });

// The service's options for the env below: its config defaults plus LI_OPERATOR_IDENTIFIER.
const OPTIONS: EncoderOptions = {
  operatorIdentifier: 'OP1',
  networkElementIdentifier: 'mdf1',
  deliveryCountryCode: 'IT',
  timestampFormat: 'BOTH',
  ts101671Countries: ['IT'],
  maxSegment: 64_000,
};
const INVITE = Buffer.concat([
  Buffer.from('INVITE sip:+390612345678@ims.example.net SIP/2.0\r\nContent-Type: application/sdp\r\n\r\n'),
  Buffer.alloc(400, 0x61),
]); // a SIP INVITE with its SDP body: about 480 octets
const RTP = Buffer.alloc(160, 0x80); // a G.711 20 ms frame
const MAIL = Buffer.concat([Buffer.from('Subject: report\r\n\r\n'), Buffer.alloc(1400 - 19, 0x61)]);
const RTP_PER_CALL = 10;

/** The events of one block: a SIP call of 16 events and an SMTP session of 4, under one LIID. */
function block(tenant: string, b: number, startMicros: number): MatchedEvent[] {
  const liid = `LIIDBENCH${b % 16}`;
  const country = b % 2 === 0 ? 'IT' : 'DE';
  let n = 0;
  const m = (event: Partial<NormalizedEvent>, role: 'CALLER' | 'SENDER' | 'ACCOUNT') => {
    const e = sampleEvent({ tenant, ...event, eventId: `b${b}-${n}`, occurredAtMicros: startMicros + n++ * 1000 });
    return sampleMatched({
      liid,
      tenant,
      authorisationCountry: country,
      matchedRoles: [role],
      matchedParties: e.parties.filter((p) => p.role === role),
      event: e,
    });
  };
  const call = `call-${b}@ims.example.net`;
  const sip = (action: string, attributes: Record<string, string>, content?: Buffer) =>
    m({ communicationId: call, action, attributes, ...(content ? { content } : {}) }, 'CALLER');
  const rtp = (i: number) =>
    m(
      {
        communicationId: call,
        category: 'MEDIA',
        action: 'x3.rtp',
        protocol: 'x3',
        attributes: { payloadFormat: '8', payloadDirection: i % 2 ? '3' : '2' },
        content: RTP,
        contentType: 'application/rtp',
      },
      'CALLER',
    );
  const session = `smtp-${b}@mail.example.org`;
  const mail = (category: NormalizedEvent['category'], action: string, over: Partial<NormalizedEvent> = {}) => ({
    communicationId: session,
    category,
    action,
    protocol: 'SMTP',
    source: 'pcap' as const,
    parties: [{ role: 'ACCOUNT' as const, type: 'EMAIL' as const, value: 'alice@example.org' }],
    network: { transport: 'tcp', srcAddress: '198.51.100.7', srcPort: 52344, dstAddress: '192.0.2.25', dstPort: 587 },
    attributes: {},
    content: null,
    contentType: null,
    ...over,
  });
  const send = (i: number) =>
    m(
      mail('SENT_MAIL', 'smtp.send', {
        parties: [
          { role: 'SENDER', type: 'EMAIL', value: 'alice@example.org' },
          { role: 'RECIPIENT', type: 'EMAIL', value: 'bob@example.net' },
        ],
        attributes: { messageId: `<${b}.${i}@example.org>`, size: String(MAIL.length) },
        content: MAIL,
        contentType: 'message/rfc822',
      }),
      'SENDER',
    );
  return [
    sip('sip.invite', { method: 'INVITE' }, INVITE),
    sip('sip.response', { method: 'INVITE', status: '180' }),
    sip('sip.response', { method: 'INVITE', status: '200' }),
    sip('sip.ack', { method: 'ACK' }),
    ...Array.from({ length: RTP_PER_CALL }, (_, i) => rtp(i)),
    sip('sip.bye', { method: 'BYE' }),
    sip('sip.response', { method: 'BYE', status: '200' }),
    m(mail('LOGIN', 'smtp.login'), 'ACCOUNT'),
    send(0),
    send(1),
    m(mail('SIGNALS', 'smtp.quit'), 'ACCOUNT'),
  ];
}

/** The bench's events for `tenant`: whole blocks, cut at EVENTS. */
function eventsOf(tenant: string): MatchedEvent[] {
  const events: MatchedEvent[] = [];
  const t0Micros = Date.now() * 1000;
  for (let b = 0; events.length < EVENTS; b++) events.push(...block(tenant, b, t0Micros + b * 100_000));
  events.length = EVENTS;
  return events;
}

// What the service must write for these events, from its own domain code (counted once: the
// count does not depend on the tenant).
let expected = 0;
let expectedBytes = 0;
const kinds = new Map<string, number>();
for (const rec of expectedRecords(eventsOf('bench-enc-count'), OPTIONS)) {
  expected++;
  expectedBytes += rec.bytes.length;
  const k = `${rec.handover} ${rec.format} ${rec.kind}`;
  kinds.set(k, (kinds.get(k) ?? 0) + 1);
}

const log = createLogger({ service: 'bench', level: 'error' });
const bus = await createBus({ ...infra, clientId: 'bench-encode-service' }, log);
const streams = ['matched', 'warrants', 'hi2', 'hi3', 'reports', 'encoder-state', 'lemfs', 'dlq'] as const;
const LOGS = join(ROOT, '.run/bench');
mkdirSync(LOGS, { recursive: true });

interface Measured {
  mode: Mode;
  produced: number;
  /** Seconds from the service's start (its spawn, or startService) to the last record. */
  seconds: number;
  firstToLastSeconds: number;
  startMs: number | undefined;
  firstRecordMs: number;
  /** The service's CPU seconds from its start to the last record, and from the first record on. */
  cpuSec: number;
  cpuFirstToLastSec: number;
  received: number;
}

/** The service as deployed: its own process, `node services/iri-encoder/src/main.ts`. */
async function spawnService(env: Record<string, string>): Promise<{ pid: number; stop(): Promise<void> }> {
  const logFile = createWriteStream(join(LOGS, 'encode-service-iri-encoder.log'), { flags: 'a' });
  // BENCH_SERVICE_NODE_ARGS: Node flags for the service process (trials of V8 settings).
  const nodeArgs = (process.env.BENCH_SERVICE_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const proc = spawn(pinnedNode(), [...nodeArgs, join(ROOT, 'services/iri-encoder/src/main.ts')], {
    cwd: join(ROOT, 'services/iri-encoder'),
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout.pipe(logFile, { end: false });
  proc.stderr.pipe(logFile, { end: false });
  let stopping = false;
  const exited = new Promise<void>((r) =>
    proc.once('exit', (code, signal) => {
      logFile.write(`--- exit ${code ?? signal}\n`);
      if (!stopping) {
        console.error(`the iri-encoder process ended by itself (${code ?? signal}); its log: ${logFile.path}`);
        process.exit(1);
      }
      r();
    }),
  );
  if (proc.pid === undefined) throw new Error('the iri-encoder process did not start');
  return {
    pid: proc.pid,
    async stop() {
      stopping = true;
      proc.kill('SIGTERM');
      await within('the iri-encoder process to exit', 30_000, exited);
      logFile.end();
    },
  };
}

async function runMode(mode: Mode): Promise<Measured> {
  const tenant = `bench-enc-${mode[0]}${Date.now().toString(36)}`;
  await bus.ensureTopics(tenant, streams);
  const matchedTopic = topicName(tenant, 'matched');
  const codec = await bus.codec<MatchedEvent>(matchedTopic, 'MatchedEvent');
  const events = eventsOf(tenant);
  const tp = performance.now();
  for (let sent = 0; sent < events.length; sent += 1000) {
    const batch: OutputRecord[] = [];
    for (const ev of events.slice(sent, sent + 1000)) {
      batch.push({ topic: matchedTopic, key: ev.liid, value: await codec.encode(ev) });
    }
    await bus.send(batch);
  }
  const produced = EVENTS / ((performance.now() - tp) / 1000);

  // The service's CPU: this process's own (in-process), or the child's from /proc.
  let serviceCpu: () => number = () => 0; // set once the service starts
  let cpuAtFirst = 0;
  // The output, read committed (kafkajs's default), by a consumer that joins before the service starts.
  const out = await countingConsumer(bus.kafka, {
    groupId: `bench.enc.${tenant}.out`,
    topics: [topicName(tenant, 'hi2'), topicName(tenant, 'hi3')],
    expected,
    joinTimeoutMs: 60_000,
    onFirst: () => {
      cpuAtFirst = serviceCpu();
    },
  });

  const env = await serviceEnv('iri-encoder', [tenant], {
    LI_TENANTS: tenant,
    LI_OPERATOR_IDENTIFIER: 'OP1',
    LI_LOG_LEVEL: 'warn',
    LI_METRICS_PORT: '0',
  });
  const profile = mode === 'in-process' ? await profilePhase() : { stop: async () => {} };
  const started = performance.now();
  let startMs: number | undefined;
  let stop: () => Promise<void>;
  if (mode === 'in-process') {
    serviceCpu = cpuMeter().seconds;
    const svc = await within('the iri-encoder service to start', 120_000, startService(iriEncoderService, env));
    startMs = performance.now() - started;
    stop = () => svc.stop();
  } else {
    const child = await spawnService(env);
    const from = processCpuSeconds(child.pid);
    serviceCpu = () => processCpuSeconds(child.pid) - from;
    stop = () => child.stop();
  }
  await waitUntil(
    `${fmt(expected)} records on ${tenant} hi2+hi3`,
    () => out.lastAt > 0 || `${out.received} records read committed`,
    { timeoutMs: Number(process.env.BENCH_WAIT_S ?? 300) * 1000, intervalMs: 20 },
  );
  const cpuSec = serviceCpu();
  // Anything beyond the expected count would be a duplicate: give it a moment to show.
  await new Promise((r) => setTimeout(r, 1000));
  await profile.stop();
  await out.disconnect();
  await stop();
  tenants.push(tenant);
  return {
    mode,
    produced,
    seconds: (out.lastAt - started) / 1000,
    firstToLastSeconds: Math.max(1e-6, (out.lastAt - out.firstAt) / 1000),
    startMs,
    firstRecordMs: out.firstAt - started,
    cpuSec,
    cpuFirstToLastSec: Math.max(1e-6, cpuSec - cpuAtFirst),
    received: out.received,
  };
}

const results: Measured[] = [];
/** Deleted once every set-up ran: the bus's producer would otherwise go on asking for their metadata. */
const tenants: string[] = [];
for (const mode of MODES) results.push(await runMode(mode));
const admin = await bus.admin();
await admin
  .deleteTopics({ topics: tenants.flatMap((t) => streams.map((s) => topicName(t, s))) })
  .catch(() => undefined);
await bus.close();

console.log(
  `bench/encode-service: ${fmt(EVENTS)} MatchedEvents pre-produced to li.<t>.matched per set-up ` +
    `(${results.map((r) => `${r.mode} ${fmt(r.produced)}`).join(', ')} events/s produced): SIP calls with ` +
    `${RTP_PER_CALL} RTP frames and SMTP sessions with 2 mails, half under IT warrants; ${fmt(expected)} ETSI ` +
    `records out, ${fmt(expectedBytes / expected)} B on average; bus reference with ${REFERENCE_BYTES}-byte records`,
);
console.log(
  `records out: ${[...kinds]
    .sort()
    .map(([k, v]) => `${k} ${fmt(v)}`)
    .join(', ')}`,
);
printRows([
  { name: 'bus reference produce→consume', value: reference.pipelineRecordsPerSec, unit: 'records/s' },
  { name: 'bus reference per CPU second', value: reference.recordsPerCpuSec, unit: 'records/CPU-s' },
  ...results.flatMap((r) => {
    const as = r.mode === 'process' ? 'own process' : 'in the bench process';
    return [
      {
        name: `iri-encoder (${as}): records out, start → last`,
        value: expected / r.seconds,
        unit: 'records/s',
        reference: reference.pipelineRecordsPerSec,
      },
      { name: `iri-encoder (${as}): events in, start → last`, value: EVENTS / r.seconds, unit: 'events/s' },
      {
        // The service's rate once running (the row above includes joining the group, fencing and
        // restoring the encoder state, and for its own process, Node's start).
        name: `iri-encoder (${as}): records out, first → last record`,
        value: (expected - 1) / r.firstToLastSeconds,
        unit: 'records/s',
        reference: reference.pipelineRecordsPerSec,
      },
      {
        name: `iri-encoder (${as}): records per CPU second, start → last`,
        value: expected / r.cpuSec,
        unit: 'records/CPU-s',
        reference: reference.recordsPerCpuSec,
      },
      {
        name: `iri-encoder (${as}): records per CPU second, first → last`,
        value: (expected - 1) / r.cpuFirstToLastSec,
        unit: 'records/CPU-s',
        reference: reference.recordsPerCpuSec,
      },
      ...(r.startMs === undefined
        ? []
        : [{ name: `iri-encoder (${as}): startService returned`, value: r.startMs, unit: 'ms' }]),
      { name: `iri-encoder (${as}): start to first record`, value: r.firstRecordMs, unit: 'ms' },
    ];
  }),
]);
for (const r of results) {
  if (r.received !== expected) console.log(`${r.mode}: records read ${r.received}, expected ${expected} (duplicates)`);
}
process.exit(0);
