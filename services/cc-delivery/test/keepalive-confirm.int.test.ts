// ETSI TCP without PDU acknowledgement on the real broker: a record counts as delivered (its
// offset committed, the consumer lag down) only once the LEMF answered a keep-alive written after
// it. Records written into a path that swallows them stay uncommitted, show as lag, and survive a
// SIGKILL of cc-delivery: the restarted service reads them again and the LEMF gets every record
// (duplicates allowed and counted, no gap).
import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import { type Bus, createBus, topicName } from '@li/bus';
import { decodePsPdu } from '@li/etsi';
import type { LemfDestination } from '@li/schemas';
import { sampleLemf } from '@li/schemas/testing';
import { memoryLogger, pinnedNode, testInfra, uniqueTenant, waitFor } from '@li/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LemfHarness } from '../src/testing/index.ts';
import { psPdu } from './helpers/ber.ts';
import { freePort } from './helpers/servers.ts';
import { committedRecords, deliveryEnv, publishLemf } from './helpers/service.ts';
import { SwallowRelay } from './helpers/swallow-relay.ts';

const infra = testInfra();
let bus: Bus;
beforeAll(async () => {
  bus = await createBus({ ...infra, clientId: 'dlv-ka-confirm-test' }, memoryLogger().log);
});
afterAll(async () => {
  await bus?.close();
});

function startDelivery(env: Record<string, string>): { child: ChildProcess; started: Promise<void> } {
  const child = fork(join(import.meta.dirname, 'crash-child.ts'), [], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    execPath: pinnedNode(),
    env: { ...process.env, ...env },
  });
  const started = new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`cc-delivery exited early (${code})`)));
  });
  return { child, started };
}

const exited = (child: ChildProcess) =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise<void>((r) => child.once('exit', () => r()));

async function lagGauge(port: number, labels: string): Promise<number | null> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const name = 'li_cc_delivery_consumer_lag_records';
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels},`) || l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : null;
}

describe('ETSI TCP without PDU acknowledgement: confirmed by an answered keep-alive', () => {
  it('commits nothing a swallowing path took, shows it as lag, and after a SIGKILL every record arrives', async () => {
    const t = uniqueTenant('kaconf');
    await bus.ensureTopics(t, ['hi2', 'hi3', 'reports', 'lemfs', 'dlq']);
    const lemf = await new LemfHarness().start();
    const relay = await new SwallowRelay({ host: '127.0.0.1', port: lemf.port }).start();
    const dest: LemfDestination = sampleLemf({
      allowInsecure: true,
      tenant: t,
      id: 'lemf-kc',
      address: { host: '127.0.0.1', port: relay.port },
      ccAddress: null,
      acknowledged: false,
      keepaliveSeconds: 30,
      // no keep-alive timeout before the kill: the records sit unconfirmed on a live connection
      keepaliveTimeoutSeconds: 120,
    });
    await publishLemf(bus, dest);
    const hi2 = topicName(t, 'hi2');
    const send = (from: number, n: number) =>
      bus.send(
        Array.from({ length: n }, (_, i) => ({
          topic: hi2,
          key: 'LIIDKC',
          value: psPdu('iri', 'LIIDKC', 1, from + i),
          headers: { 'li.liid': 'LIIDKC', 'li.cin': '1', 'li.seq': String(from + i), 'li.lemfs': 'lemf-kc' },
        })),
      );
    /** Records of the LEMF's hi2 queue its group committed (offsets also count the router's markers). */
    const committed = () => committedRecords(bus, t, 'lemf-kc');
    const seqs = () =>
      lemf.frames.map((f) => {
        const r = decodePsPdu(f);
        if (!r.ok) throw new Error(`LEMF received an undecodable PDU: ${r.reason}`);
        return r.value.header.sequenceNumber;
      });
    const metricsPort = await freePort();
    const env = await deliveryEnv(t, { LI_LAG_INTERVAL_MS: '200', LI_METRICS_PORT: String(metricsPort) });
    const labels = `tenant="${t}",lemf="lemf-kc",stream="hi2"`;
    let svc = startDelivery(env);
    try {
      await svc.started;
      // 1. a healthy path: delivered, confirmed by the idle keep-alive, committed, lag 0
      await send(0, 20);
      await waitFor(() => lemf.received >= 20, { what: 'the first 20 records at the LEMF', timeoutMs: 30_000 });
      await waitFor(async () => (await committed()) === 20, { what: 'offset 20 committed', timeoutMs: 30_000 });
      await waitFor(async () => (await lagGauge(metricsPort, labels)) === 0, { what: 'lag 0', timeoutMs: 20_000 });

      // 2. the path swallows everything: cc-delivery's writes complete, nothing arrives, no answer
      relay.swallow();
      await send(20, 30);
      await waitFor(() => relay.swallowedData >= 30 && relay.swallowedKeepalivesAt.some((n) => n >= 30), {
        what: 'the 30 records and a keep-alive after them written into the swallowing path',
        timeoutMs: 30_000,
      });
      // written is not delivered: the records show as lag (the 30 records, plus the router's commit
      // markers between them in the LEMF's queue), and no offset moves past them
      await waitFor(
        async () => {
          const lag = (await lagGauge(metricsPort, labels)) ?? 0;
          return lag > 30 && lag <= 60;
        },
        { what: 'lag of the 30 records while the path swallows them', timeoutMs: 20_000 },
      );
      const atKill = await committed();
      expect(atKill, 'committed offset while 30 records are unconfirmed').toBe(20);
      expect(lemf.received).toBe(20);

      // 3. cc-delivery dies; the path comes back; a new cc-delivery reads from the committed offset
      svc.child.kill('SIGKILL');
      await exited(svc.child);
      relay.restore();
      svc = startDelivery(env);
      await svc.started;
      await waitFor(() => new Set(seqs()).size >= 50, { what: 'all 50 records at the LEMF', timeoutMs: 60_000 });
      await waitFor(async () => (await committed()) === 50, { what: 'offset 50 committed', timeoutMs: 30_000 });
      await waitFor(async () => (await lagGauge(metricsPort, labels)) === 0, {
        what: 'lag 0 after delivery',
        timeoutMs: 20_000,
      });
      const got = seqs();
      expect([...new Set(got)].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
      const duplicates = got.length - new Set(got).size;
      console.log(
        `keep-alive confirmation across SIGKILL: committed ${atKill} of 50 at the kill (30 swallowed unconfirmed), ` +
          `${got.length} PDUs at the LEMF, ${duplicates} duplicates, no gap`,
      );
    } finally {
      svc.child.kill('SIGKILL');
      await exited(svc.child);
      await relay.stop();
      await lemf.stop();
    }
  }, 180_000);
});
