// What every admf integration test does first: a token file, the service env with HTTP on a
// free loopback port, and a JSON client for the REST API.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NormalizedEvent } from '@li/schemas';
import { sampleEvent } from '@li/schemas/testing';
import { serviceEnv } from '@li/testing';

/** Bearer token → who it is, as in the LI_TOKENS_FILE. */
export type TokenTable = Record<string, { subject: string; tenant: string; role: string }>;

/**
 * The env of one admf deployment (its own groups and transactional id) serving only `tenants`
 * (the test's own: admfs of other tests on the shared broker leave them alone, and this one
 * theirs) that accepts `tokens`.
 */
export async function admfEnv(tenants: readonly string[], tokens: TokenTable, extraEnv: Record<string, string> = {}) {
  const tokensFile = join(mkdtempSync(join(tmpdir(), 'admf-')), 'tokens.json');
  writeFileSync(tokensFile, JSON.stringify(tokens));
  return serviceEnv('admf', tenants, {
    LI_HTTP__HOST: '127.0.0.1',
    LI_HTTP__PORT: '0',
    LI_TOKENS_FILE: tokensFile,
    ...extraEnv,
  });
}

/** One REST call as `token`; a `timeoutMs` bounds a call to an instance that may hang. */
export async function admfRequest(
  port: number,
  token: string,
  method: string,
  path: string,
  body?: unknown,
  timeoutMs?: number,
) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : null,
    ...(timeoutMs ? { signal: AbortSignal.timeout(timeoutMs) } : {}),
  });
  // biome-ignore lint/suspicious/noExplicitAny: the tests read response fields one by one
  return { status: res.status, json: (await res.json()) as any };
}

/** A client whose port is read at each call, so that it follows a restarted admf. */
export function admfClient(port: () => number | undefined) {
  return (token: string, method: string, path: string, body?: unknown) =>
    admfRequest(port()!, token, method, path, body);
}

/** A mail server's account event (rename, removal) as ingest puts it on `li.<tenant>.events`. */
export function accountEvent(
  tenant: string,
  eventId: string,
  action: string,
  attributes: Record<string, string>,
): NormalizedEvent {
  return sampleEvent({
    tenant,
    eventId,
    category: 'ACCOUNT',
    action,
    source: 'mail',
    protocol: 'ADMIN',
    parties: [],
    network: null,
    attributes,
    content: null,
    contentType: null,
  });
}
