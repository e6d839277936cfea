// The service wiring of seed 003 §3.6 on the real broker: a permanent-mode call is stored in an
// ACR file under <base>/MtasMcidInfo/PL-4 with the configured rights, and the closed file is
// pushed to vsftpd into upload/MtasMcidInfo/PL-4, then removed locally.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Bus, createBus, topicName } from '@li/bus';
import { startService } from '@li/runtime';
import type { NormalizedEvent } from '@li/schemas';
import { memoryLogger, serviceEnv, testInfra, uniqueTenant, waitFor } from '@li/testing';
import { VsftpdPeer } from '@li/testing/file-servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MessageFramer } from '../src/adapters/diameter/codec.ts';
import { mcidStoreService } from '../src/service.ts';
import { invite, response } from '../src/testing/sip-fixtures.ts';

const infra = testInfra();
let bus: Bus;
beforeAll(async () => {
  bus = await createBus({ ...infra, clientId: 'mcid-push-test' }, memoryLogger().log);
});
afterAll(async () => {
  await bus?.close();
});

const OP = 'operator-admin-token-mcid-push';

describe('mcid-store pushes closed ACR files', () => {
  it('stores in MtasMcidInfo/PL-4 with the configured mode and pushes the file to vsftpd', async () => {
    const tenant = uniqueTenant('mcidp');
    const base = mkdtempSync(join(tmpdir(), 'mcid-push-'));
    const tokensFile = join(base, 'tokens.json');
    writeFileSync(tokensFile, JSON.stringify({ [OP]: { subject: 'op', tenant: '*', role: 'admin' } }));
    const vs = await new VsftpdPeer().start();
    const env = await serviceEnv('mcid-store', [tenant], {
      LI_TENANTS: tenant,
      LI_TOKENS_FILE: tokensFile,
      LI_HTTP__PORT: '0',
      LI_REPORTING_TYPE: 'LOCAL',
      LI_LOCAL_STORAGE__BASE_DIRECTORY: join(base, 'store'),
      LI_LOCAL_STORAGE__PROCESSOR: '4',
      LI_LOCAL_STORAGE__DIR_MODE: '0710',
      LI_LOCAL_STORAGE__MAX_RECORDS: '1',
      LI_RETRIEVAL__MODE: 'PUSH',
      LI_RETRIEVAL__PROTOCOL: 'FTP',
      LI_RETRIEVAL__PORT: String(vs.port),
      LI_RETRIEVAL__DIRECTORY: 'upload',
      LI_RETRIEVAL__SCAN_SECONDS: '0.2',
    });
    const svc = await startService(mcidStoreService, env);
    const api = `http://127.0.0.1:${svc.ports.http}/v1`;
    const call = async (method: string, path: string, body?: unknown) =>
      fetch(`${api}${path}`, {
        method,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${OP}` },
        body: body ? JSON.stringify(body) : null,
      });
    const local = join(base, 'store', 'MtasMcidInfo', 'PL-4');
    const remote = join(vs.upload, 'MtasMcidInfo', 'PL-4');
    try {
      expect((await call('PUT', '/admin-state', { state: 'UNLOCKED' })).status).toBe(200);
      expect((await call('PUT', `/tenants/${tenant}/admin-state`, { state: 'UNLOCKED' })).status).toBe(200);
      const created = await call('POST', `/tenants/${tenant}/subscribers`, {
        identities: ['tel:+390612345679'],
        mode: 'PERMANENT',
      });
      expect(created.status).toBe(201);
      const at = Date.now() * 1000;
      const callId = `mcidp-${tenant}@ims.example.net`;
      const events: NormalizedEvent[] = [
        invite({ callId, at, requestUri: 'sip:+390612345679@ims.example.net;user=phone' }),
        response({ callId, at: at + 1_000_000, status: 180, toTag: 'b1' }),
      ].map((e) => ({ ...e, tenant }));
      const topic = topicName(tenant, 'events');
      const codec = await bus.codec<NormalizedEvent>(topic, 'NormalizedEvent');
      await bus.send(
        await Promise.all(events.map(async (e) => ({ topic, key: callId, value: await codec.encode(e) }))),
      );
      const arrived = await waitFor(
        () => {
          const names = existsSync(remote) ? readdirSync(remote).filter((n) => n.endsWith('.acr')) : [];
          return names.length > 0 ? names : undefined;
        },
        { what: 'the ACR file on the FTP server', timeoutMs: 30_000, intervalMs: 200 },
      );
      expect(arrived[0]).toMatch(/^mcid1_-_\d{8}\.\d{8}_-_\d{6}\+0000\.acr$/);
      // one whole Diameter ACR in the pushed file
      expect(new MessageFramer().push(readFileSync(join(remote, arrived[0]!)))).toHaveLength(1);
      expect(statSync(local).mode & 0o777).toBe(0o710);
      await waitFor(() => readdirSync(local).every((n) => !n.endsWith('.acr')), { what: 'the local copy removed' });
      const metrics = await (await fetch(`http://127.0.0.1:${svc.ports.metrics}/metrics`)).text();
      expect(metrics).toMatch(/mcid_acr_files_pushed_total\{filesystem="PL-4",result="success"[^}]*\} 1/);
    } finally {
      await svc.stop();
      await vs.dispose();
      rmSync(base, { recursive: true, force: true });
    }
  }, 90_000);
});
