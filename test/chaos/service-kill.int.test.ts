// Chaos scenario 3 (issue #16): each of the six services SIGKILLed once mid-stream and started
// again, as an orchestrator restarts a crashed pod, while real traffic runs through the whole
// pipeline (services as separate processes, test/chaos/processes.ts; the shared local broker).
//
// Traffic: a mail server posting its events to ingest (test/chaos/mail-traffic.ts: logins and
// sent messages, IRI and CC at an ETSI TCP LEMF), and for mcid-store SIP calls (SIPp through a
// relay mirroring the signalling to ingest's SIP listener, as an SBC's mirror port does) to a
// subscriber in permanent MCID mode, reported to local ACR files.
//
// Checked after each kill: every event the mail server had handed over has its records at the
// LEMF, every (LIID, CIN, HI2/HI3) is numbered 0..n with no gap, nothing new in the DLQ, no
// service exited by itself. Repeats are allowed only where the transport resends (cc-delivery
// restarted: records sent but not yet committed go out again, TS 102 232-1 cl. 6.3.3), and
// duplicated events only where the sender resent (ingest killed after taking an event but
// before answering); both are counted and printed. The time from the restart until the LEMF
// had everything acknowledged before it is printed and recorded.
import { uniqueTenant, waitFor } from '@li/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOKENS } from '../e2e/harness.ts';
import { SIP_SERVICE, sipCall } from '../pipeline/traffic.ts';
import { runMailFault } from './mail-scenario.ts';
import { type PipelineService, ProcessPipeline } from './processes.ts';
import { faultSeconds, recordRecovery } from './scenario.ts';

const DOWN_S = faultSeconds(10, 2);
const tenant = uniqueTenant('chaoskill');
let p: ProcessPipeline;

beforeAll(async () => {
  p = await ProcessPipeline.start({ tenant, run: tenant });
}, 240_000);
afterAll(async () => {
  await p?.stop();
}, 120_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const MAIL_KILLS: PipelineService[] = ['admf', 'ingest', 'target-match', 'iri-encoder', 'cc-delivery'];

describe('chaos: each service SIGKILLed mid-stream and restarted', () => {
  MAIL_KILLS.forEach((name, index) => {
    it(`${name}: every event's records reach the LEMF, numbered without gaps`, async () => {
      let readyS = 0;
      const r = await runMailFault(p, {
        id: `kill-${name}`,
        index,
        inject: async (ended) => {
          await p.kill(name, 'SIGKILL');
          const killedAt = Date.now();
          await sleep(DOWN_S * 1000);
          const endedAt = Date.now();
          ended();
          await p.restart(name);
          readyS = (Date.now() - endedAt) / 1000;
          return { downSeconds: (endedAt - killedAt) / 1000 };
        },
      });
      const v = r.verdict;
      if (name === 'admf') {
        // Its state is back: the warrant is still there and active.
        const w = await p.call(p.tokens.prov, 'GET', `/tenants/${tenant}/warrants/DE/${r.liid}`);
        expect(w.status).toBe(200);
        expect(w.json.state).toBe('ACTIVE');
      }
      expect(v.missing).toEqual([]);
      expect(v.gaps).toEqual([]);
      expect(v.unidentified).toBe(0);
      if (name !== 'cc-delivery') expect(v.repeatedRecords).toBe(0);
      if (name !== 'ingest') expect(v.duplicatedEvents).toEqual([]);
      expect(r.dlq).toBe(0);
      expect(p.unexpectedExits()).toEqual([]);
      recordRecovery(`kill-${name}`, {
        faultSeconds: r.downSeconds,
        recoverySeconds: r.recoverySeconds,
        records: v.records,
        note: `ready ${readyS.toFixed(1)} s after the restart; ${r.events} events; repeated records ${v.repeatedRecords}, duplicated events ${v.duplicatedEvents.length}, sender retries ${r.senderRetries}`,
      });
    }, 300_000);
  });

  it('mcid-store: every answered call to a permanent-mode subscriber is reported once', async () => {
    const mcid = (method: string, path: string, body?: unknown) =>
      fetch(`http://127.0.0.1:${p.ports.mcid}/v1${path}`, {
        method,
        headers: {
          authorization: `Bearer ${TOKENS.op}`,
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        body: body ? JSON.stringify(body) : null,
      }).then(async (r) => ({ status: r.status, json: (await r.json()) as Record<string, unknown> }));
    expect((await mcid('PUT', '/admin-state', { state: 'UNLOCKED' })).status).toBe(200);
    expect((await mcid('PUT', `/tenants/${tenant}/admin-state`, { state: 'UNLOCKED' })).status).toBe(200);
    const sub = await mcid('POST', `/tenants/${tenant}/subscribers`, {
      identities: [`tel:${SIP_SERVICE}`],
      mode: 'PERMANENT',
    });
    expect(sub.status).toBe(201);
    const reports = async () => {
      const r = await mcid('GET', `/tenants/${tenant}/reports?limit=1000`);
      return r.json as { total: number; reports: { report: { details: { callId: string } } }[] };
    };
    // Calls one after the other, two at a time, the whole run; the kill lands between and during them.
    let calls = 0;
    let failed = 0;
    let stop = false;
    const caller = async () => {
      while (!stop) {
        const r = await (await sipCall(p.ports.sip, 300)).done;
        if (r.ok) calls++;
        else failed++;
      }
    };
    const callers = [caller(), caller()];
    try {
      await waitFor(async () => (await reports()).total >= 2, {
        what: 'MCID reports before the fault',
        timeoutMs: 60_000,
        intervalMs: 300,
      });
      await p.kill('mcid-store', 'SIGKILL');
      await sleep(DOWN_S * 1000);
      const restartedAt = Date.now();
      const before = calls;
      // Watched from the restart on (the API answers once the service is up).
      const caughtUpP = waitFor(
        async () => ((await reports().catch(() => ({ total: -1 }))).total >= before ? Date.now() : undefined),
        { what: `${before} MCID reports after the restart`, timeoutMs: 120_000, intervalMs: 200 },
      );
      caughtUpP.catch(() => undefined); // awaited below
      await p.restart('mcid-store');
      const caughtUp = await caughtUpP;
      await sleep(2000);
      stop = true;
      await Promise.all(callers);
      await waitFor(async () => (await reports()).total >= calls, { what: `${calls} MCID reports`, timeoutMs: 60_000 });
      const all = await reports();
      const undelivered = await mcid('GET', `/tenants/${tenant}/reports?undelivered=true`);
      const callIds = new Set(all.reports.map((r) => r.report.details.callId));
      console.log(
        `[chaos] mcid-store killed for ${DOWN_S} s: ${calls} calls answered (${failed} failed), ${all.total} reports, ${callIds.size} distinct calls, ${undelivered.json.total} undelivered`,
      );
      expect(all.total).toBe(calls);
      expect(callIds.size).toBe(calls);
      await waitFor(async () => (await mcid('GET', `/tenants/${tenant}/reports?undelivered=true`)).json.total === 0, {
        what: 'every report stored in an ACR file',
      });
      expect(p.unexpectedExits()).toEqual([]);
      recordRecovery('kill-mcid-store', {
        faultSeconds: DOWN_S,
        recoverySeconds: (caughtUp - restartedAt) / 1000,
        records: all.total,
        note: `${failed} SIPp calls failed`,
      });
    } finally {
      stop = true;
      await Promise.all(callers);
    }
  }, 300_000);
});
