// Starting services in-process against the local broker, as their main.ts would.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export { serviceEnv as baseEnv } from '@li/testing';

export const TOKENS = {
  op: 'operator-admin-token-e2e-0001',
  admin: 'tenant-admin-token-e2e-00001',
  prov: 'tenant-provisioner-token-e2e',
  audit: 'tenant-auditor-token-e2e-001',
  mail: 'tenant-mailserver-token-e2e',
};

/**
 * A token file for admf, mcid-store and ingest: the operator admin plus the tenant's admin,
 * provisioner, auditor and mail server.
 */
export function tokensFile(tenant: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'admf-tokens-'));
  const file = join(dir, 'tokens.json');
  writeFileSync(
    file,
    JSON.stringify({
      [TOKENS.op]: { subject: 'op-admin', tenant: '*', role: 'admin' },
      [TOKENS.admin]: { subject: 'admin', tenant, role: 'admin' },
      [TOKENS.prov]: { subject: 'prov', tenant, role: 'provisioner' },
      [TOKENS.audit]: { subject: 'auditor', tenant, role: 'auditor' },
      [TOKENS.mail]: { subject: 'mailserver', tenant, role: 'mailserver' },
    }),
  );
  return file;
}

export function api(port: number) {
  return async (token: string, method: string, path: string, body?: unknown) => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : null,
    });
    const text = await res.text();
    // biome-ignore lint/suspicious/noExplicitAny: tests read response bodies field by field
    return { status: res.status, json: (text ? JSON.parse(text) : null) as any };
  };
}
