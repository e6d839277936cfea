// Chaos scenario 2 (issue #16): the schema registry restarts mid-stream. The whole pipeline runs
// on a private Kafka and registry (its own run directory and ports: the shared registry of the
// other tests is never restarted), real traffic flows (SIPp calls mirrored to ingest, mail-server
// events over HTTP), the registry is killed (SIGKILL) and started again on its storage. The
// promise: a registry restart keeps every schema id, and services that know their schemas keep
// producing and consuming while it is away; a service started meanwhile waits, saying for what.
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Bus, createBus, readTopic, topicName } from '@li/bus';
import { startService } from '@li/runtime';
import { type LemfDestination, type NormalizedEvent, SCHEMAS, type Warrant } from '@li/schemas';
import { sampleLemf, sampleWarrant } from '@li/schemas/testing';
import { targetMatchService } from '@li/target-match/service';
import { memoryLogger, serviceEnv, testInfra, uniqueTenant, waitFor } from '@li/testing';
import { freePort } from '@li/testing/peers';
import { privateInfra } from '@li/testing/private-infra';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkSequences, describeCheck, isComplete } from '../demo/report.ts';
import { TOKENS } from '../e2e/harness.ts';
import { LemfReceiver } from '../pipeline/lemf.ts';
import { addEtsiLemf, addWarrant, type Pipeline, startPipeline } from '../pipeline/pipeline.ts';
import { MAIL_USER, SIP_SERVICE, sipCall } from '../pipeline/traffic.ts';
import { faultSeconds, recordRecovery } from './scenario.ts';

// The private infra; LI_CHAOS_REGISTRY_* override where it lives (defaults clear of the shared one
// and of ingest's broker-outage test).
// Everything in this file (services, admin client, readers) talks to the private infra.
const { sync: infra } = privateInfra({
  kafkaPort: Number(process.env.LI_CHAOS_REGISTRY_KAFKA_PORT ?? 19292),
  registryPort: Number(process.env.LI_CHAOS_REGISTRY_PORT ?? 18281),
  runDir: process.env.LI_CHAOS_REGISTRY_INFRA_RUN ?? join(tmpdir(), 'li-chaos-registry-infra'),
});

let registryDown = false;
const killRegistry = () => {
  infra('registry-kill');
  registryDown = true;
};
/** Starts the registry again and returns once it answers (and when that was). */
const resumeRegistry = (): number => {
  infra('registry-resume');
  infra('wait');
  registryDown = false;
  return Date.now();
};

const MAIL_TOKEN = TOKENS.mail;
const LIID_VOICE = 'CHAOSREGV1';
const LIID_MAIL = 'CHAOSREGM1';

let bus: Bus;
let pipeline: Pipeline;
let tenant: string;
const lemf = new LemfReceiver({ name: 'chaos LEMF' });
let mailPort = 0;

beforeAll(async () => {
  infra('up');
  bus = await createBus({ ...testInfra(), clientId: 'chaos-registry-test' }, memoryLogger().log);
  await lemf.start();
  tenant = uniqueTenant('chreg');
  pipeline = await startPipeline({ tenant });
  mailPort = pipeline.mailEventsPort;
  await addEtsiLemf(pipeline, 'lemf-chaos', lemf);
  await addWarrant(pipeline, {
    liid: LIID_VOICE,
    kind: 'VOICE',
    target: { type: 'E164', value: SIP_SERVICE },
    lemfIds: ['lemf-chaos'],
  });
  await addWarrant(pipeline, {
    liid: LIID_MAIL,
    kind: 'EMAIL',
    target: { type: 'MAIL_ACCOUNT', value: MAIL_USER },
    lemfIds: ['lemf-chaos'],
  });
  // Both warrants are in force once their liActivated reached the LEMF.
  await waitFor(() => [LIID_VOICE, LIID_MAIL].every((l) => lemf.of(l).some((r) => r.type === 'HI1 liActivated')), {
    what: 'both warrants announced at the LEMF',
    timeoutMs: 60_000,
  });
}, 300_000);

afterAll(async () => {
  if (registryDown) resumeRegistry();
  await pipeline?.stop();
  await lemf.stop();
  await bus?.close();
  infra('down');
}, 180_000);

/** Registers a schema under a subject through the registry's Confluent-compatible API; its id. */
async function registerSchema(subject: string, schema: unknown): Promise<number> {
  const res = await fetch(`${testInfra().registryUrl}/subjects/${encodeURIComponent(subject)}/versions`, {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({ schema: JSON.stringify(schema) }),
  });
  const body = (await res.json()) as { id?: number };
  if (res.status !== 200 || typeof body.id !== 'number') throw new Error(`register ${subject}: HTTP ${res.status}`);
  return body.id;
}

/** A schema with one more symbol appended to an enum (one with a default, so older readers resolve it): the bytes of every value stay the same. */
function withExtraSymbol(schema: unknown, enumName: string, symbol: string): unknown {
  const walk = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(walk);
    if (node === null || typeof node !== 'object') return node;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) out[k] = walk(v);
    if (out.type === 'enum' && String(out.name).endsWith(enumName))
      out.symbols = [...(out.symbols as string[]), symbol];
    return out;
  };
  return walk(schema);
}

const newerLemfSchema = () => withExtraSymbol(SCHEMAS.LemfDestination.schema, 'TimestampFormat', 'NANOSECOND');

// Mail sessions are numbered across the file: each event is a communication of its own.
let mailSession = 0;

/** Real traffic, all the time until stopped: one SIPp call after another, and a mail event every 200 ms. */
function startTraffic() {
  const mail = { posted: 0, failed: 0 };
  const calls = { ok: 0, failed: 0 };
  let running = true;
  const mailLoop = (async () => {
    while (running) {
      const i = ++mailSession;
      const res = await fetch(`http://127.0.0.1:${mailPort}/ingest/mail-events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${MAIL_TOKEN}` },
        body: JSON.stringify({
          type: 'message.sent',
          account: MAIL_USER,
          time: Math.floor(Date.now() / 1000),
          protocol: 'smtp',
          session: `chaos-registry-${i}`,
          sender: MAIL_USER,
          recipients: ['bob@example.net'],
          messageId: `<chaos-${i}@example.org>`,
          message: Buffer.from(
            `From: ${MAIL_USER}\r\nTo: bob@example.net\r\nSubject: round ${i}\r\n\r\nSee you at nine.\r\n`,
          ).toString('base64'),
        }),
      }).catch(() => undefined);
      if (res?.status === 200) mail.posted++;
      else mail.failed++;
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  const sipLoop = (async () => {
    while (running) {
      const call = await sipCall(pipeline.sipUdpPort, 300);
      if ((await call.done).ok) calls.ok++;
      else calls.failed++;
    }
  })();
  return {
    mail,
    calls,
    async stop() {
      running = false;
      await Promise.all([mailLoop, sipLoop]);
    },
  };
}

type Traffic = ReturnType<typeof startTraffic>;

/** Communications of a LIID at the LEMF: CINs with their records. */
function cinsOf(liid: string, handover: 'HI2' | 'HI3', type?: RegExp): Set<number> {
  return new Set(
    lemf
      .of(liid)
      .filter((r) => r.handover === handover && r.cin !== 0 && (!type || type.test(r.type)))
      .map((r) => r.cin),
  );
}

/** Whether every event counted so far reached the LEMF: each mail event and each call is one CIN. */
function delivered(counts: { mail: number; calls: number }): string | true {
  const mailCc = cinsOf(LIID_MAIL, 'HI3', /^CC emailCC/).size;
  const mailIri = cinsOf(LIID_MAIL, 'HI2').size;
  const callsEnded = cinsOf(LIID_VOICE, 'HI2', /^IRI-END/).size;
  if (mailCc >= counts.mail && mailIri >= counts.mail && callsEnded >= counts.calls) return true;
  return `mail events ${counts.mail} (at the LEMF: ${mailIri} on HI2, ${mailCc} on HI3), calls ${counts.calls} (ended at the LEMF: ${callsEnded})`;
}

async function waitDelivered(counts: { mail: number; calls: number }, what: string, timeoutMs = 120_000) {
  let last: string | true = '';
  await waitFor(
    () => {
      last = delivered(counts);
      return last === true;
    },
    { what: `${what} (${String(last)})`, timeoutMs, intervalMs: 100 },
  );
}

/**
 * Every event once: each mail event one communication with exactly one e-mail CC, each call one
 * IRI-BEGIN. A batch processed twice would give more (with sequence numbers still 0..n).
 */
function expectEachEventOnce(): void {
  const count = (liid: string, handover: 'HI2' | 'HI3', type: RegExp) => {
    const perCin = new Map<number, number>();
    for (const r of lemf.of(liid))
      if (r.handover === handover && type.test(r.type)) perCin.set(r.cin, (perCin.get(r.cin) ?? 0) + 1);
    return [...perCin]
      .filter(([, n]) => n !== 1)
      .map(
        ([cin, n]) =>
          `CIN ${cin}: ${n} (${lemf
            .of(liid)
            .filter((r) => r.cin === cin)
            .map((r) => `${r.handover} ${r.type} seq ${r.seq} at ${r.timeMicros}`)
            .join('; ')})`,
      );
  };
  expect(count(LIID_MAIL, 'HI3', /^CC emailCC/), 'mail communications with other than one e-mail CC').toEqual([]);
  expect(count(LIID_VOICE, 'HI2', /^IRI-BEGIN/), 'calls with other than one IRI-BEGIN').toEqual([]);
}

/** The tenant's dead letters, as code and reason. */
async function deadLetters(): Promise<string[]> {
  return (await readTopic(bus.kafka, topicName(tenant, 'dlq'))).map(
    (r) =>
      `${r.headers['li.dlq.code'] ?? '?'}: ${r.headers['li.dlq.reason'] ?? ''} (${r.headers['li.dlq.topic'] ?? ''})`,
  );
}

const snapshot = (t: Traffic) => ({ mail: t.mail.posted, calls: t.calls.ok });

describe('schema registry restart mid-stream', () => {
  it('keeps every schema id across a SIGKILL: records written before it decode after it', async () => {
    // Subjects registered a moment before the crash: the case H2's delayed writes lost.
    const t = uniqueTenant('chregid');
    const lemfTopic = topicName(t, 'lemfs');
    const warrantTopic = topicName(t, 'warrants');
    const lemfCodec = await bus.codec<LemfDestination>(lemfTopic, 'LemfDestination');
    const warrantCodec = await bus.codec<Warrant>(warrantTopic, 'Warrant');
    const lemfValue = sampleLemf({ tenant: t });
    const warrantValue = sampleWarrant({ tenant: t });
    const lemfBytes = await lemfCodec.encode(lemfValue);
    const warrantBytes = await warrantCodec.encode(warrantValue);
    // A newer writer of LemfDestination (one more timestamp format, appended: the bytes of our
    // values are the same), under a subject of its own: a reader knows it only by its id.
    const newerId = await registerSchema(`${lemfTopic}-newer-value`, newerLemfSchema());
    expect(newerId).not.toBe(lemfCodec.schemaId);
    const newerBytes = Buffer.from(lemfBytes);
    newerBytes.writeUInt32BE(newerId, 1);
    killRegistry();
    resumeRegistry();

    // A fresh client (nothing cached) gets the same ids, and reads the records by them.
    const fresh = await createBus({ ...testInfra(), clientId: 'chaos-registry-fresh' }, memoryLogger().log);
    try {
      const lemfAgain = await fresh.codec<LemfDestination>(lemfTopic, 'LemfDestination');
      const warrantAgain = await fresh.codec<Warrant>(warrantTopic, 'Warrant');
      expect(lemfAgain.schemaId).toBe(lemfCodec.schemaId);
      expect(warrantAgain.schemaId).toBe(warrantCodec.schemaId);
      expect(await lemfAgain.decode(lemfBytes)).toEqual(lemfValue);
      expect(await warrantAgain.decode(warrantBytes)).toEqual(warrantValue);
      // The newer writer's schema is fetched by its id from the restarted registry.
      expect(await lemfAgain.decode(newerBytes)).toEqual(lemfValue);
      expect(await registerSchema(`${lemfTopic}-newer-value`, newerLemfSchema())).toBe(newerId);
      console.log(
        `[chaos] registry ids kept across a SIGKILL: LemfDestination ${lemfCodec.schemaId}, Warrant ${warrantCodec.schemaId}, newer LemfDestination ${newerId}`,
      );
    } finally {
      await fresh.close();
    }
  }, 180_000);

  it('keeps the pipeline delivering, gap-free, while the registry is down and after it returns', async () => {
    const fault = faultSeconds(30, 8);
    const traffic = startTraffic();
    try {
      // Traffic before the fault, delivered.
      await waitFor(() => traffic.calls.ok >= 2 && traffic.mail.posted >= 5, {
        what: 'traffic before the fault',
        timeoutMs: 60_000,
      });
      await waitDelivered(snapshot(traffic), 'traffic before the fault at the LEMF');

      killRegistry();
      const killedAt = Date.now();
      const before = snapshot(traffic);
      await new Promise((r) => setTimeout(r, fault * 1000));
      // With the registry still down: everything sent during the outage reaches the LEMF.
      const during = snapshot(traffic);
      expect(during.mail).toBeGreaterThan(before.mail);
      await waitDelivered(during, 'events sent while the registry is down, at the LEMF while it is still down');
      const downFor = (Date.now() - killedAt) / 1000;
      console.log(
        `[chaos] registry down ${downFor.toFixed(1)} s: ${during.mail - before.mail} mail events and ${during.calls - before.calls} calls delivered meanwhile`,
      );

      const backAt = resumeRegistry();
      const atBack = snapshot(traffic);
      await waitDelivered(atBack, 'everything sent until the registry was back, at the LEMF');
      const recoverySeconds = (Date.now() - backAt) / 1000;

      // Traffic after the fault, delivered.
      await waitFor(() => traffic.calls.ok >= atBack.calls + 2 && traffic.mail.posted >= atBack.mail + 5, {
        what: 'traffic after the fault',
        timeoutMs: 60_000,
      });
      await traffic.stop();
      const total = snapshot(traffic);
      await waitDelivered(total, 'every event at the LEMF');
      expect(traffic.mail.failed).toBe(0);
      expect(traffic.calls.failed).toBe(0);

      const records = [...lemf.of(LIID_VOICE), ...lemf.of(LIID_MAIL)];
      const checks = checkSequences(records);
      for (const c of checks)
        expect(isComplete(c), `${c.liid} CIN ${c.cin} ${c.handover}: ${describeCheck(c)}`).toBe(true);
      expect(records.every((r) => r.format === 'TS102232')).toBe(true);
      expectEachEventOnce();
      expect(await deadLetters()).toEqual([]);
      console.log(
        `[chaos] ${total.mail} mail events and ${total.calls} calls; ${records.length} records in ${checks.length} (LIID, CIN, handover) streams, all 0..n`,
      );
      recordRecovery('registry-restart', {
        faultSeconds: Math.round(downFor),
        recoverySeconds,
        records: records.length,
        note: 'from the registry answering again to the LEMF holding every record of the events sent until then',
      });
    } finally {
      await traffic.stop();
    }
  }, 600_000);

  it('holds a record of a schema no service has seen while the registry is down, then delivers it once', async () => {
    // A newer producer (say, mid-upgrade) writes an event with a schema of its own, whose id
    // target-match must look up: while the registry is away the batch waits, nothing is
    // dead-lettered, and the event is delivered once the registry answers again.
    const eventsTopic = topicName(tenant, 'events');
    const codec = await bus.codec<NormalizedEvent>(eventsTopic, 'NormalizedEvent');
    let sample: NormalizedEvent | undefined;
    for (const r of (await readTopic(bus.kafka, eventsTopic)).reverse()) {
      const e = r.value && (await codec.decode(r.value));
      if (e && e.action === 'message.sent' && e.content) {
        sample = e;
        break;
      }
    }
    if (!sample) throw new Error('no mail event in the events topic to copy');
    const newerId = await registerSchema(
      `${eventsTopic}-newer-value`,
      withExtraSymbol(SCHEMAS.NormalizedEvent.schema, 'PartyRole', 'FUTURE_ROLE'),
    );
    expect(newerId).not.toBe(codec.schemaId);
    const communicationId = 'mail:chaos-registry-newer-writer';
    const bytes = await codec.encode({ ...sample, eventId: randomUUID(), communicationId });
    bytes.writeUInt32BE(newerId, 1);
    const mailCins = () => cinsOf(LIID_MAIL, 'HI3', /^CC emailCC/).size;
    const before = mailCins();

    killRegistry();
    const fault = faultSeconds(30, 8);
    await bus.send([{ topic: eventsTopic, key: communicationId, value: bytes }]);
    await new Promise((r) => setTimeout(r, fault * 1000));
    // Held, not dropped: neither at the LEMF nor in the DLQ.
    expect(mailCins()).toBe(before);
    expect(await deadLetters()).toEqual([]);

    const backAt = resumeRegistry();
    await waitFor(() => mailCins() === before + 1, { what: 'the held event at the LEMF', timeoutMs: 120_000 });
    const recoverySeconds = (Date.now() - backAt) / 1000;
    expect(await deadLetters()).toEqual([]);
    const records = [...lemf.of(LIID_VOICE), ...lemf.of(LIID_MAIL)];
    for (const c of checkSequences(records))
      expect(isComplete(c), `${c.liid} CIN ${c.cin} ${c.handover}: ${describeCheck(c)}`).toBe(true);
    expectEachEventOnce();
    recordRecovery('registry-restart-unseen-schema', {
      faultSeconds: fault,
      recoverySeconds,
      records: records.length,
      note: 'an event of a writer schema no service had seen, sent while the registry was down: from the registry answering again to the event at the LEMF',
    });
  }, 300_000);

  it('a service started while the registry is down waits, ready=false saying why, and starts once it is back', async () => {
    const traffic = startTraffic();
    const metricsPort = await freePort();
    let starting: ReturnType<typeof startService> | undefined;
    try {
      killRegistry();
      // A second target-match instance of the same deployment, as a restarted pod would be.
      starting = startService(
        targetMatchService,
        await serviceEnv('target-match', [tenant], {
          LI_TENANTS: tenant,
          LI_INSTANCE_ID: 'chaos-restarted',
          LI_METRICS_PORT: String(metricsPort),
        }),
      );
      starting.catch(() => undefined);
      const probe = async (path: string) => {
        const res = await fetch(`http://127.0.0.1:${metricsPort}${path}`).catch(() => undefined);
        return res ? { status: res.status, body: await res.text() } : undefined;
      };
      const waiting = await waitFor(
        async () => {
          const r = await probe('/readyz');
          return r && /waiting for the schema registry/.test(r.body) ? r : undefined;
        },
        { what: '/readyz of the starting service naming the schema registry', timeoutMs: 60_000 },
      );
      expect(waiting.status).toBe(503);
      console.log(`[chaos] starting target-match, registry down: /readyz ${waiting.status} ${waiting.body.trim()}`);
      expect((await probe('/healthz'))?.status).toBe(200);
      // The running pipeline goes on meanwhile.
      const before = snapshot(traffic);
      await waitFor(() => traffic.mail.posted > before.mail + 3 && traffic.calls.ok > before.calls, {
        what: 'traffic while the new instance waits',
        timeoutMs: 60_000,
      });
      await waitDelivered(snapshot(traffic), 'events sent while the new instance waits');
      // Still waiting, not crashed.
      expect((await probe('/readyz'))?.body).toMatch(/waiting for the schema registry/);

      const backAt = resumeRegistry();
      // What the starting instance says, each time it changes, until it has started.
      const said: string[] = [];
      let started = false;
      const watching = (async () => {
        while (!started) {
          const body = (await probe('/readyz'))?.body.trim() ?? 'no answer';
          const reason = /"startup":"([^"]*)"/.exec(body)?.[1] ?? body;
          if (said.at(-1)?.endsWith(reason) !== true)
            said.push(`+${((Date.now() - backAt) / 1000).toFixed(1)} s ${reason}`);
          await new Promise((r) => setTimeout(r, 250));
        }
      })();
      const svc = await starting.finally(() => {
        started = true;
      });
      await watching;
      console.log(`[chaos] the starting instance said, after the registry returned:\n  ${said.join('\n  ')}`);
      starting = undefined;
      // Start-up goes on with the registry, then joins the consumer group (a rebalance with the
      // running instance): printed apart, since the second part is Kafka's, not the registry's.
      const startedAfter = (Date.now() - backAt) / 1000;
      try {
        const ready = await waitFor(
          async () => {
            const r = await probe('/readyz');
            return r?.status === 200 ? r : undefined;
          },
          { what: 'the new instance ready', timeoutMs: 120_000 },
        );
        console.log(
          `[chaos] the new instance started ${startedAfter.toFixed(1)} s and was ready ${((Date.now() - backAt) / 1000).toFixed(1)} s after the registry returned: ${ready.body.trim()}`,
        );
        await traffic.stop();
        await waitDelivered(snapshot(traffic), 'every event at the LEMF');
        const checks = checkSequences([...lemf.of(LIID_VOICE), ...lemf.of(LIID_MAIL)]);
        for (const c of checks)
          expect(isComplete(c), `${c.liid} CIN ${c.cin} ${c.handover}: ${describeCheck(c)}`).toBe(true);
        expect(await deadLetters()).toEqual([]);
        expectEachEventOnce();
      } finally {
        await svc.stop();
      }
    } finally {
      await traffic.stop();
      if (registryDown) resumeRegistry();
      if (starting) await (await starting.catch(() => undefined))?.stop();
    }
  }, 600_000);
});
