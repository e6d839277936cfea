// Seed 003 rows on the real broker: (1) a real SIPp INVITE carrying Diversion headers, mirrored
// by a relay as a carrier SBC would, ends up in the stored report and the local ACR file with
// History-Info; (2) each SSC invocation's outcome names the tenant's announcement, read back
// over the REST API.
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Bus, createBus, topicName } from '@li/bus';
import { type RunningService, startService } from '@li/runtime';
import type { NormalizedEvent } from '@li/schemas';
import { memoryLogger, serviceEnv, testInfra, uniqueTenant, waitFor } from '@li/testing';
import { freePort, killAllSipp, runSipp, udpRelay } from '@li/testing/sip';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mcidStoreService } from '../src/service.ts';
import { invite, response } from '../src/testing/sip-fixtures.ts';

const here = dirname(fileURLToPath(import.meta.url));
const OP = 'operator-admin-token-mcid-interworking';
const infra = testInfra();
const tenant = uniqueTenant('mcidiw');
const acrDir = mkdtempSync(join(tmpdir(), 'mcid-acr-'));
const confDir = mkdtempSync(join(tmpdir(), 'mcid-conf-'));
let bus: Bus;
let svc: RunningService;
let api = '';

const call = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${api}${path}`, {
    method,
    headers: { authorization: `Bearer ${OP}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : null,
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

async function publish(events: NormalizedEvent[], key: string): Promise<void> {
  const topic = topicName(tenant, 'events');
  const codec = await bus.codec<NormalizedEvent>(topic, 'NormalizedEvent');
  // One key: the events reach the service in this order.
  await bus.send(await Promise.all(events.map(async (e) => ({ topic, key, value: await codec.encode(e) }))));
}

beforeAll(async () => {
  bus = await createBus({ ...infra, clientId: 'mcid-interworking-test' }, memoryLogger().log);
  const tokensFile = join(confDir, 'tokens.json');
  writeFileSync(tokensFile, JSON.stringify({ [OP]: { subject: 'op', tenant: '*', role: 'admin' } }));
  // Per-tenant settings live in the YAML config file (JSON is YAML).
  const configFile = join(confDir, 'mcid.yaml');
  writeFileSync(
    configFile,
    JSON.stringify({
      diameter: { privateVendorId: 32473 },
      ssc: {
        announcements: { alreadyRegistered: 'default-again' },
        tenantAnnouncements: { [tenant]: { success: `${tenant}-ok`, notAllowed: `${tenant}-no` } },
      },
    }),
  );
  const env = await serviceEnv('mcid-store', [tenant], {
    LI_TENANTS: tenant,
    LI_TOKENS_FILE: tokensFile,
    LI_CONFIG_FILE: configFile,
    LI_HTTP__PORT: '0',
    LI_REPORTING_TYPE: 'LOCAL',
    LI_LOCAL_STORAGE__DIRECTORY: acrDir,
    LI_LOCAL_STORAGE__MAX_RECORDS: '1',
  });
  svc = await startService(mcidStoreService, env);
  api = `http://127.0.0.1:${svc.ports?.http}/v1`;
  expect((await call('PUT', '/admin-state', { state: 'UNLOCKED' })).status).toBe(200);
  expect((await call('PUT', `/tenants/${tenant}/admin-state`, { state: 'UNLOCKED' })).status).toBe(200);
}, 60_000);

afterAll(async () => {
  killAllSipp();
  await svc?.stop();
  await bus?.close();
  rmSync(acrDir, { recursive: true, force: true });
  rmSync(confDir, { recursive: true, force: true });
});

/** A mirrored datagram as ingest would publish it: the raw message is the content. */
function sipEvent(raw: Buffer, from: { address: string; port: number }, atMicros: number, n: number): NormalizedEvent {
  const text = raw.toString('latin1');
  const start = text.slice(0, text.indexOf('\r\n'));
  const status = /^SIP\/2\.0 (\d{3})/.exec(start)?.[1];
  const method = status ? '' : (start.split(' ')[0] ?? '');
  const callId = /^Call-ID:\s*(.+)$/im.exec(text)?.[1]?.trim() ?? '';
  return {
    eventId: `sipp-${n}`,
    tenant,
    category: 'SIGNALS',
    action: status ? 'sip.response' : `sip.${method.toLowerCase()}`,
    occurredAtMicros: atMicros,
    source: 'sipp-mirror',
    protocol: 'SIP',
    communicationId: callId,
    parties: [],
    network: { transport: 'udp', srcAddress: from.address, srcPort: from.port, dstAddress: '127.0.0.1', dstPort: 5060 },
    attributes: status ? { status } : { method },
    content: raw,
    contentType: 'application/sip',
  };
}

describe('seed 003 on Kafka: non-3GPP interworking and SSC announcements', () => {
  it('a SIPp INVITE with Diversion headers is reported, and stored as an ACR, with History-Info', async () => {
    const served = '+390622222222';
    expect(
      (await call('POST', `/tenants/${tenant}/subscribers`, { identities: [`tel:${served}`], mode: 'PERMANENT' }))
        .status,
    ).toBe(201);
    const mirrored: NormalizedEvent[] = [];
    const mirror: Socket = createSocket('udp4');
    mirror.on('message', (msg, rinfo) => mirrored.push(sipEvent(msg, rinfo, Date.now() * 1000, mirrored.length)));
    await new Promise<void>((r) => mirror.bind(0, '127.0.0.1', () => r()));
    const uasPort = await freePort('udp');
    const uas = runSipp(['-sn', 'uas', '-i', '127.0.0.1', '-p', String(uasPort), '-m', '1']);
    await new Promise((r) => setTimeout(r, 300)); // let the UAS bind before the INVITE leaves
    const relay = await udpRelay(uasPort, mirror.address().port);
    try {
      const uacPort = await freePort('udp');
      const uac = runSipp([
        '-sf',
        join(here, 'sipp', 'uac-diversion.xml'),
        `127.0.0.1:${relay.port}`,
        '-i',
        '127.0.0.1',
        '-p',
        String(uacPort),
        '-s',
        served,
        '-m',
        '1',
      ]);
      const r = await uac.done;
      expect(r.output, r.output.slice(-2000)).toMatch(/Successful call\s+\|\s+\d+\s+\|\s+1\b/);
      void uas.done;
      await waitFor(async () => (mirrored.some((e) => e.attributes.status === '200') ? true : undefined), {
        what: 'the mirrored 200 OK',
        timeoutMs: 10_000,
      });
    } finally {
      await relay.close();
      await new Promise<void>((r) => mirror.close(() => r()));
    }
    const inv = mirrored.find((e) => e.action === 'sip.invite')!;
    expect(inv.content!.toString()).toContain('Diversion:');
    expect(inv.content!.toString()).not.toContain('History-Info');
    await publish(mirrored, inv.communicationId);

    const rows = await waitFor(
      async () => {
        const res = await call('GET', `/tenants/${tenant}/reports?subscriber=${encodeURIComponent(`tel:${served}`)}`);
        const list = res.body.reports as { report: { details: { historyInfo: string[] } }; delivery: unknown }[];
        return list.length > 0 && list[0]!.delivery !== null ? list : undefined;
      },
      { what: 'the delivered permanent-mode report', timeoutMs: 30_000, intervalMs: 200 },
    );
    const hi = rows[0]!.report.details.historyInfo;
    console.log('History-Info captured from the Diversion headers:\n', hi.join('\n '));
    expect(hi).toEqual([
      '<sip:+390612345678@ims.example.net;user=phone?Reason=SIP%3Bcause%3D302>;index=1',
      '<sip:+390611111111@ims.example.net;user=phone;cause=302?Reason=SIP%3Bcause%3D408>;index=1.1;mp=1',
      `<sip:${served}@127.0.0.1:${/@127\.0\.0\.1:(\d+)/.exec(inv.content!.toString())![1]};cause=408>;index=1.1.1;mp=1.1`,
    ]);
    // The local ACR file carries each entry in the private History-Info AVP.
    const files = readdirSync(acrDir).filter((f) => f.endsWith('.acr'));
    const acrs = Buffer.concat(files.map((f) => readFileSync(join(acrDir, f))));
    for (const entry of hi) expect(acrs.includes(Buffer.from(entry)), entry).toBe(true);
  }, 90_000);

  it("each SSC invocation's outcome names the tenant's announcement: success, already registered, not allowed", async () => {
    const served = 'sip:+390644444444@ims.example.net;user=phone';
    expect(
      (await call('POST', `/tenants/${tenant}/subscribers`, { identities: [served], mode: 'TEMPORARY' })).status,
    ).toBe(201);
    const at = Date.now() * 1000;
    const ssc = (callId: string, t: number, user = served) =>
      invite({
        callId,
        at: t,
        requestUri: 'tel:*57;phone-context=ims.example.net',
        from: `<${user}>;tag=s1`,
        pai: [`<${user}>`],
      });
    const id = (s: string) => `${s}-${tenant}@ims.example.net`;
    const events = [
      invite({ callId: id('in'), at, requestUri: served }),
      response({ callId: id('in'), at: at + 1_000_000, status: 180 }),
      response({ callId: id('in'), at: at + 2_000_000, status: 200 }),
      ssc(id('ssc1'), at + 10_000_000),
      ssc(id('ssc2'), at + 20_000_000),
      ssc(id('ssc3'), at + 30_000_000, 'sip:+390655555555@ims.example.net;user=phone'),
    ].map((e) => ({ ...e, tenant }));
    await publish(events, served);

    type Outcome = { callId: string; result: string; reason: string | null; announcementId: string };
    const outcomes = await waitFor(
      async () => {
        const res = await call('GET', `/tenants/${tenant}/ssc-outcomes`);
        return (res.body.total as number) >= 3 ? (res.body.outcomes as Outcome[]) : undefined;
      },
      { what: 'three SSC outcomes', timeoutMs: 30_000, intervalMs: 200 },
    );
    const byCall = Object.fromEntries(outcomes.map((o) => [o.callId, o]));
    console.log('SSC outcomes:', outcomes.map((o) => `${o.result} → ${o.announcementId}`).join(', '));
    expect(byCall[id('ssc1')]).toMatchObject({ result: 'SUCCESS', announcementId: `${tenant}-ok` });
    expect(byCall[id('ssc2')]).toMatchObject({ result: 'ALREADY_REGISTERED', announcementId: 'default-again' });
    expect(byCall[id('ssc3')]).toMatchObject({
      result: 'NOT_ALLOWED',
      reason: 'not provisioned',
      announcementId: `${tenant}-no`,
    });
    const one = await call('GET', `/tenants/${tenant}/ssc-outcomes?callId=${encodeURIComponent(id('ssc1'))}`);
    expect(one.body.total).toBe(1);
    // One registration only: the second SSC made no second report.
    const reports = await call(
      'GET',
      `/tenants/${tenant}/reports?subscriber=${encodeURIComponent('tel:+390644444444')}`,
    );
    expect(reports.body.total).toBe(1);
  }, 90_000);
});
