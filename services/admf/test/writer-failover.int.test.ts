// admf high availability on the real broker: two admf processes of one deployment, one writer
// and one standing by. (1) The writer is SIGKILLed in the middle of a stream of warrant changes
// from a client that retries each change on the other instance until it is taken (a 409 on a
// retry means the earlier attempt was committed): the standby takes over, the audit chain
// verifies, every change is in it exactly once and the trail has no fork (seqs 1..n, each
// once). (2) A writer frozen with SIGSTOP while the standby takes over cannot write when it
// wakes: its request is refused with a clear 503, nothing of it reaches the topics. (3) A writer
// whose transactional id another producer took writes nothing: its change fails with the
// reason (fenced), it stands by, and takes over again (reloading) as the group still names it.
import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import { type Bus, createBus, readTopic, topicName, transactionalProducer } from '@li/bus';
import { startService } from '@li/runtime';
import type { AuditRecord } from '@li/schemas';
import { memoryLogger, pinnedNode, testInfra, uniqueTenant, waitFor } from '@li/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { admfService } from '../src/service.ts';
import { admfEnv, admfRequest } from './helpers/admf.ts';

const infra = testInfra();
let bus: Bus;
beforeAll(async () => {
  bus = await createBus({ ...infra, clientId: 'admf-ha-test' }, memoryLogger().log);
});
afterAll(async () => {
  await bus?.close();
});

const OP = 'operator-admin-token-ha-0001';
const PROV = 'tenant-provisioner-ha-00001';
const AUDITOR = 'tenant-auditor-token-ha-001';

interface Instance {
  child: ChildProcess;
  http: number;
  metrics: number;
}

async function deployment(tenant: string): Promise<Record<string, string>> {
  // One env: both instances are the same deployment (same groups, same transactional id).
  return admfEnv(
    [tenant],
    {
      [OP]: { subject: 'op', tenant: '*', role: 'admin' },
      [PROV]: { subject: 'prov', tenant, role: 'provisioner' },
      [AUDITOR]: { subject: 'aud', tenant, role: 'auditor' },
    },
    { LI_WRITER_SESSION_TIMEOUT_MS: '6000' },
  );
}

function launch(env: Record<string, string>): Promise<Instance> {
  const child = fork(join(import.meta.dirname, 'writer-child.ts'), [], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    execPath: pinnedNode(),
    env: { ...process.env, ...env },
  });
  return new Promise((resolve, reject) => {
    child.once('message', (m) => resolve({ child, ...(m as { http: number; metrics: number }) }));
    child.once('exit', (code) => reject(new Error(`admf child exited with ${code} before it started`)));
  });
}

async function readyz(i: Instance): Promise<{ status: number; text: string }> {
  const res = await fetch(`http://127.0.0.1:${i.metrics}/readyz`);
  return { status: res.status, text: await res.text() };
}

const exited = (c: ChildProcess) =>
  c.exitCode !== null || c.signalCode !== null
    ? Promise.resolve()
    : new Promise<void>((r) => c.once('exit', () => r()));

/** A call that gives up on an instance frozen or killed mid-request. */
const call = (i: Instance, token: string, method: string, path: string, body?: unknown) =>
  admfRequest(i.http, token, method, path, body, 20_000);

const warrant = (liid: string) => ({
  liid,
  authorisationCountry: 'DE',
  courtCaseId: `AZ-${liid}`,
  interceptionKind: 'VOICE',
  targets: [{ type: 'E164', value: `+4930${liid.replace(/\D/g, '').padStart(6, '0')}` }],
  selection: { signals: true },
  deliver: 'IRI_AND_CC',
  lemfIds: ['lemf-1'],
  validFrom: new Date(Date.now() - 60_000).toISOString(),
  validUntil: new Date(Date.now() + 86_400_000).toISOString(),
});

/**
 * The client: sends one change until an instance takes it, moving to the other instance on a
 * refusal (503) or a dead connection. A 409 answers a retry whose earlier attempt was
 * committed (the writer decides it on its reloaded state): the change is in, once.
 */
async function change(
  instances: () => Instance[],
  method: string,
  path: string,
  body: unknown,
): Promise<{ attempts: number; status: number }> {
  const deadline = Date.now() + 120_000;
  for (let attempt = 1; ; attempt++) {
    const list = instances();
    const target = list[(attempt - 1) % list.length]!;
    try {
      const r = await call(target, PROV, method, path, body);
      if (r.status === 200 || r.status === 201) return { attempts: attempt, status: r.status };
      if (r.status === 409 && attempt > 1) return { attempts: attempt, status: r.status };
      if (r.status !== 503) throw new Error(`unexpected ${r.status} ${JSON.stringify(r.json)}`);
    } catch (err) {
      if ((err as Error).message.startsWith('unexpected')) throw err;
    }
    if (Date.now() > deadline) throw new Error(`${method} ${path}: not taken within 120 s`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

async function setUpTenant(writer: Instance, tenant: string) {
  expect(
    (await call(writer, OP, 'POST', '/tenants', { id: tenant, name: 'HA', defaultCountryCode: '49' })).status,
  ).toBe(201);
  const lemf = { name: 'L', transport: 'ETSI_TCP', address: { host: '127.0.0.1', port: 16000 }, allowInsecure: true };
  expect((await call(writer, OP, 'PUT', `/tenants/${tenant}/lemfs/lemf-1`, lemf)).status).toBe(200);
}

async function auditTrail(tenant: string): Promise<AuditRecord[]> {
  const codec = await bus.codec<AuditRecord>(topicName(tenant, 'audit'), 'AuditRecord');
  const out: AuditRecord[] = [];
  for (const r of await readTopic(bus, topicName(tenant, 'audit'))) out.push(await codec.decode(r.value));
  return out;
}

describe('admf writer failover', () => {
  it('a SIGKILLed writer mid-stream: the standby takes over, no change lost or doubled, the chain verifies', async () => {
    const tenant = uniqueTenant('adha');
    const env = await deployment(tenant);
    const a = await launch(env);
    let b: Instance | undefined;
    try {
      await waitFor(async () => (await readyz(a)).status === 200, { what: 'a is the writer', timeoutMs: 30_000 });
      b = await launch(env);
      // The second instance stands by, says so, and refuses writes with the reason.
      await waitFor(async () => /standby/.test((await readyz(b!)).text), { what: 'b stands by', timeoutMs: 30_000 });
      expect((await readyz(b)).status).toBe(503);
      await setUpTenant(a, tenant);
      const refused = await call(b, OP, 'PATCH', `/tenants/${tenant}`, { name: 'x' });
      expect(refused.status).toBe(503);
      expect(refused.json.error).toMatchObject({ code: 'ADM_ERR_STANDBY', message: expect.stringMatching(/standby/) });

      // The stream: create then suspend 24 warrants; a is killed once 8 changes are in.
      let alive: Instance[] = [a, b];
      const N = 24;
      const results: { attempts: number; status: number }[] = [];
      let killedAt = -1;
      let killedMs = 0;
      const killer = (async () => {
        await waitFor(async () => results.length >= 8, { what: '8 changes', timeoutMs: 60_000, intervalMs: 20 });
        killedAt = results.length;
        killedMs = Date.now();
        a.child.kill('SIGKILL');
        alive = [b!];
      })();
      for (let i = 0; i < N; i++) {
        const liid = `HA${i}`;
        results.push(await change(() => alive, 'POST', `/tenants/${tenant}/warrants`, warrant(liid)));
        results.push(await change(() => alive, 'POST', `/tenants/${tenant}/warrants/DE/${liid}/suspend`, {}));
      }
      await killer;
      await exited(a.child);
      const retried = results.filter((r) => r.attempts > 1);
      console.log(
        `writer SIGKILLed after ${killedAt} of ${2 * N} changes; ${retried.length} change(s) retried ` +
          `(max ${Math.max(...results.map((r) => r.attempts))} attempts, ${results.filter((r) => r.status === 409).length} answered 409: committed before the kill); ` +
          `stream done ${Date.now() - killedMs} ms after the kill`,
      );
      expect(killedAt).toBeGreaterThanOrEqual(8);
      expect(killedAt).toBeLessThan(2 * N);
      // Some change waited for the takeover (refused or cut off, then retried on b).
      expect(results.some((r) => r.attempts > 1)).toBe(true);
      // Ready once its account-event consumers joined too, which may come after its first writes.
      await waitFor(async () => (await readyz(b!)).status === 200, {
        what: 'b is ready as the writer',
        timeoutMs: 30_000,
      });

      // The chain verifies on the new writer, and every change is in it exactly once.
      const verify = await call(b, AUDITOR, 'GET', `/tenants/${tenant}/audit/verify`);
      expect(verify.status).toBe(200);
      expect(verify.json).toMatchObject({ ok: true, count: 2 + 2 * N });
      const trail = await auditTrail(tenant);
      expect(trail.map((r) => r.seq)).toEqual(Array.from({ length: 2 + 2 * N }, (_, k) => k + 1));
      for (let i = 0; i < N; i++) {
        const mine = trail.filter((r) => r.objectId === `DE:HA${i}`).map((r) => r.action);
        expect(mine, `HA${i}`).toEqual(['warrant.create', 'warrant.suspend']);
      }
      const list = await call(b, PROV, 'GET', `/tenants/${tenant}/warrants`);
      const states = (list.json.items ?? list.json) as { liid: string; state: string }[];
      expect(states).toHaveLength(N);
      expect(new Set(states.map((w) => w.state))).toEqual(new Set(['SUSPENDED']));

      // The killed instance, started again, stands by: b stays the writer.
      const a2 = await launch(env);
      try {
        await waitFor(async () => /standby/.test((await readyz(a2)).text), { what: 'a2 stands by', timeoutMs: 30_000 });
        // It serves reads from the topics it follows.
        await waitFor(
          async () =>
            (await call(a2, PROV, 'GET', `/tenants/${tenant}/warrants/DE/HA${N - 1}`)).json.state === 'SUSPENDED',
          { what: 'a2 reads the last change', timeoutMs: 30_000 },
        );
      } finally {
        a2.child.kill('SIGTERM');
        await exited(a2.child);
      }
    } finally {
      a.child.kill('SIGKILL');
      b?.child.kill('SIGTERM');
      await exited(a.child);
      if (b) await exited(b.child);
    }
  }, 300_000);

  it('a frozen writer woken after the standby took over cannot write: a clear 503, nothing in the topics', async () => {
    const tenant = uniqueTenant('adhz');
    const env = await deployment(tenant);
    const a = await launch(env);
    let b: Instance | undefined;
    try {
      await waitFor(async () => (await readyz(a)).status === 200, { what: 'a is the writer', timeoutMs: 30_000 });
      b = await launch(env);
      await waitFor(async () => /standby/.test((await readyz(b!)).text), { what: 'b stands by', timeoutMs: 30_000 });
      await setUpTenant(a, tenant);
      expect((await call(a, PROV, 'POST', `/tenants/${tenant}/warrants`, warrant('Z1'))).status).toBe(201);

      // a freezes (a long GC pause, a stopped VM): the group stops hearing it and elects b.
      a.child.kill('SIGSTOP');
      await waitFor(async () => (await readyz(b!)).status === 200, { what: 'b takes over', timeoutMs: 120_000 });
      expect((await call(b, PROV, 'POST', `/tenants/${tenant}/warrants`, warrant('Z2'))).status).toBe(201);
      const before = await auditTrail(tenant);

      // a wakes up still believing it writes: its change is refused, with the reason.
      a.child.kill('SIGCONT');
      const stale = await call(a, PROV, 'POST', `/tenants/${tenant}/warrants`, warrant('Z3'));
      expect(stale.status).toBe(503);
      expect(stale.json.error.code).toBe('ADM_ERR_STANDBY');
      expect(stale.json.error.message).toMatch(/fenced|standby|stands by/);
      await waitFor(async () => /standby/.test((await readyz(a)).text), { what: 'a stands by', timeoutMs: 30_000 });

      // Nothing of a's reached the topics; the trail is b's continuation of the chain.
      const after = await auditTrail(tenant);
      expect(after).toEqual(before);
      expect(after.map((r) => r.seq)).toEqual([1, 2, 3, 4]);
      expect(after.some((r) => r.objectId === 'DE:Z3')).toBe(false);
      const verify = await call(b, AUDITOR, 'GET', `/tenants/${tenant}/audit/verify`);
      expect(verify.json).toMatchObject({ ok: true, count: 4 });
    } finally {
      a.child.kill('SIGCONT');
      a.child.kill('SIGKILL');
      b?.child.kill('SIGTERM');
      await exited(a.child);
      if (b) await exited(b.child);
    }
  }, 300_000);

  it('a writer whose transactional id was taken is fenced: the change fails clearly and nothing is written', async () => {
    const tenant = uniqueTenant('adhf');
    const env = await deployment(tenant);
    const svc = await startService(admfService, env);
    const self: Instance = { child: undefined as never, http: svc.ports.http!, metrics: svc.metricsPort };
    try {
      await waitFor(async () => (await readyz(self)).status === 200, { what: 'the writer', timeoutMs: 30_000 });
      await setUpTenant(self, tenant);
      expect((await call(self, PROV, 'POST', `/tenants/${tenant}/warrants`, warrant('F1'))).status).toBe(201);
      const before = await auditTrail(tenant);

      // Another producer takes the deployment's transactional id (what a new writer does first).
      const usurper = transactionalProducer(bus, `${env.LI_EVENTS_GROUP_ID}._writer`);
      await usurper.connect();
      const fenced = await call(self, PROV, 'POST', `/tenants/${tenant}/warrants`, warrant('F2'));
      expect(fenced.status).toBe(503);
      expect(fenced.json.error).toMatchObject({ code: 'ADM_ERR_STANDBY', message: expect.stringMatching(/fenced/) });
      expect(await auditTrail(tenant)).toEqual(before);

      // The group still names this instance: it takes the id back, reloads, and writes on the chain.
      // (It reads the whole state again: on the shared broker, every test's tenants.)
      await waitFor(async () => (await readyz(self)).status === 200, { what: 'writer again', timeoutMs: 120_000 });
      expect((await call(self, PROV, 'POST', `/tenants/${tenant}/warrants`, warrant('F2'))).status).toBe(201);
      // The usurper's producer was fenced in turn: it cannot write behind the writer's back.
      await expect(usurper.send([{ topic: topicName(tenant, 'dlq'), key: 'x', value: null }])).rejects.toMatchObject({
        code: 'BUS_ERR_FENCED',
      });
      await usurper.close();
      const verify = await call(self, AUDITOR, 'GET', `/tenants/${tenant}/audit/verify`);
      expect(verify.json).toMatchObject({ ok: true, count: 4 });
    } finally {
      await svc.stop();
    }
  }, 240_000);
});
