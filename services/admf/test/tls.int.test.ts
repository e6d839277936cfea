// admf's own listener over HTTPS (LI_HTTP__TLS_CERT_FILE / LI_HTTP__TLS_KEY_FILE), with a
// certificate made by openssl for 127.0.0.1: the service started as main.ts starts it.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startService } from '@li/runtime';
import { serviceEnv } from '@li/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { admfService } from '../src/service.ts';

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
    const svc = await startService(
      admfService,
      serviceEnv({
        LI_HTTP__HOST: '127.0.0.1',
        LI_HTTP__PORT: '0',
        LI_TOKENS_FILE: tokensFile,
        LI_HTTP__TLS_CERT_FILE: cert,
        LI_HTTP__TLS_KEY_FILE: key,
      }),
    );
    try {
      const port = svc.ports.http!;
      expect(await get(port, '/healthz')).toEqual({ status: 200, body: '{"ok":true}' });
      const tenants = await get(port, '/tenants', TOKEN);
      expect(tenants.status).toBe(200);
      expect(Array.isArray(JSON.parse(tenants.body))).toBe(true);
      expect((await get(port, '/tenants')).status).toBe(401);
      // The same port does not answer plain HTTP.
      await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    } finally {
      await svc.stop();
    }
  });

  it('refuses a certificate without its key at start', async () => {
    await expect(
      startService(
        admfService,
        serviceEnv({ LI_HTTP__PORT: '0', LI_TOKENS_FILE: tokensFile, LI_HTTP__TLS_CERT_FILE: cert }),
      ),
    ).rejects.toThrow(/http\.tlsKeyFile \(env LI_HTTP__TLS_KEY_FILE\)/);
  });
});
