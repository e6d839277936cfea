// admf's own listener over HTTPS (LI_HTTP__TLS_CERT_FILE / LI_HTTP__TLS_KEY_FILE), with a
// certificate made by openssl for 127.0.0.1. The listener is buildAdmf's on an in-memory store:
// the service's start reads every tenant of the shared broker, which other runs also write.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '@li/core';
import { startService } from '@li/runtime';
import { serviceEnv } from '@li/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { InMemoryWarrantStore } from '../src/adapters/memory-store.ts';
import { tlsOf } from '../src/config.ts';
import { admfService, buildAdmf } from '../src/service.ts';
import { silentLog } from '../src/testing/harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'admf-tls-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TOKEN = 'operator-admin-token-tls-0001';
const cert = join(dir, 'cert.pem');
const key = join(dir, 'key.pem');
// biome-ignore format: openssl's option pairs read best side by side
execFileSync('openssl', [
  'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
  '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=admf-test', '-addext', 'subjectAltName=IP:127.0.0.1',
], { stdio: 'ignore' });
const tokensFile = join(dir, 'tokens.json');
writeFileSync(tokensFile, JSON.stringify({ [TOKEN]: { subject: 'op', tenant: '*', role: 'admin' } }));

function get(port: number, path: string, token?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        ca: readFileSync(cert),
        headers: token ? { authorization: `Bearer ${token}` } : {},
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('admf > HTTPS listener', () => {
  it('serves its API over TLS when a certificate and key are configured, and no plain HTTP', async () => {
    const tls = { key: readFileSync(key), cert: readFileSync(cert) };
    const admf = await buildAdmf({
      store: new InMemoryWarrantStore(),
      clock: systemClock,
      tokens: { [TOKEN]: { subject: 'op', tenant: '*', role: 'admin' } },
      log: silentLog,
      schedule: false,
      tls,
    });
    await admf.http.listen({ host: '127.0.0.1', port: 0 });
    try {
      const port = (admf.http.server.address() as { port: number }).port;
      expect(await get(port, '/healthz')).toEqual({ status: 200, body: '{"ok":true}' });
      expect(await get(port, '/tenants', TOKEN)).toEqual({ status: 200, body: '[]' });
      expect((await get(port, '/tenants')).status).toBe(401);
      // The same port does not answer plain HTTP.
      await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    } finally {
      await admf.close();
    }
  });

  it('reads the configured files, and serves plain HTTP without them', () => {
    expect(tlsOf({ tlsCertFile: cert, tlsKeyFile: key })).toEqual({ key: readFileSync(key), cert: readFileSync(cert) });
    expect(tlsOf({ tlsCertFile: '', tlsKeyFile: '' })).toBeUndefined();
  });

  it('refuses a certificate without its key at start', async () => {
    await expect(
      startService(
        admfService,
        await serviceEnv('admf', [], { LI_HTTP__PORT: '0', LI_TOKENS_FILE: tokensFile, LI_HTTP__TLS_CERT_FILE: cert }),
      ),
    ).rejects.toThrow(/http\.tlsKeyFile \(env LI_HTTP__TLS_KEY_FILE\)/);
  });
});
