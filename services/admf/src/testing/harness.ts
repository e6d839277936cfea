// Shared set-up for admf's own tests (not exported from the package).
import { Writable } from 'node:stream';
import { ManualClock, systemClock } from '@li/core';
import { createLogger } from '@li/log';
import { loadTariffs } from '../adapters/config-files.ts';
import { InMemoryWarrantStore } from '../adapters/memory-store.ts';
import { tenantFilter } from '../config.ts';
import type { WarrantStore } from '../domain/model.ts';
import { type Admf, buildAdmf } from '../service.ts';

export const T0 = Date.UTC(2026, 10, 20, 9, 0, 0) * 1000; // 2026-11-20T09:00:00Z
export const DAY = 86_400_000_000;
export const HOUR = 3_600_000_000;

const TOKENS = {
  'operator-admin-token-0001': { subject: 'op-admin', tenant: '*', role: 'admin' },
  'acme-admin-token-00000001': { subject: 'acme-admin', tenant: 'acme', role: 'admin' },
  'acme-provisioner-token-01': { subject: 'acme-prov', tenant: 'acme', role: 'provisioner' },
  'acme-auditor-token-000001': { subject: 'acme-audit', tenant: 'acme', role: 'auditor' },
  'beta-provisioner-token-01': { subject: 'beta-prov', tenant: 'beta', role: 'provisioner' },
  'beta-admin-token-00000001': { subject: 'beta-admin', tenant: 'beta', role: 'admin' },
  'acme-mailserver-token-001': { subject: 'acme-mx', tenant: 'acme', role: 'mailserver' },
} as const;
type TokenName = keyof typeof TOKENS;

/** A logger whose lines go nowhere. */
export const silentLog = createLogger({
  service: 'admf-test',
  destination: new Writable({ write: (_chunk, _enc, cb) => cb() }),
});

/** Counts every store call, so tests can assert that bad input wrote (or even read) nothing. */
function spyStore(inner: InMemoryWarrantStore) {
  const calls: string[] = [];
  const proxy = new Proxy(inner, {
    get(target, prop, recv) {
      const v = Reflect.get(target, prop, recv);
      if (typeof v === 'function') {
        return (...args: unknown[]) => {
          calls.push(String(prop));
          return (v as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      return v;
    },
  });
  return { store: proxy as WarrantStore, calls };
}

export interface Harness {
  admf: Admf;
  mem: InMemoryWarrantStore;
  calls: string[];
  /** Starts at T0; set(ms) moves it. */
  clock: ManualClock;
  req(
    token: TokenName | null,
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    url: string,
    body?: unknown,
    // biome-ignore lint/suspicious/noExplicitAny: tests read response bodies field by field
  ): Promise<{ status: number; json: any }>;
}

interface HarnessOptions {
  realClock?: boolean;
  schedule?: boolean;
  /** As a standby's: why writes are refused now. */
  refuseWrites?: () => string | undefined;
  /** Config servedTenants: the ones this deployment serves (default every one). */
  tenants?: readonly string[];
}

async function harness(opts: HarnessOptions = {}): Promise<Harness> {
  const mem = new InMemoryWarrantStore();
  const { store, calls } = spyStore(mem);
  const clock = new ManualClock(T0 / 1000);
  const tariffs = await loadTariffs();
  if (!tariffs.ok) throw new Error(tariffs.error.message);
  const admf = await buildAdmf({
    store,
    clock: opts.realClock ? systemClock : clock,
    tokens: TOKENS as never,
    log: silentLog,
    tariffs: tariffs.value,
    schedule: opts.schedule ?? false,
    pipeCommands: ['to-lea', 'archive'],
    ...(opts.refuseWrites ? { refuseWrites: opts.refuseWrites } : {}),
    ...(opts.tenants ? { servesTenant: tenantFilter(opts.tenants) } : {}),
  });
  const req: Harness['req'] = async (token, method, url, body) => {
    const res = await admf.http.inject({
      method,
      url,
      headers: token ? { authorization: `Bearer ${token}` } : {},
      ...(body === undefined ? {} : { payload: body as object }),
    });
    return { status: res.statusCode, json: res.body ? res.json() : null };
  };
  return { admf, mem, calls, clock, req };
}

const ITALIAN = {
  proceedingNumber: '1234/2026 RGNR',
  ritNumber: '567/2026',
  judge: 'GIP Tribunale di Roma',
  authorisedOfficers: ['Isp. Rossi'],
  operator: 'Acme Telecom',
  interceptionType: 'TELEFONICA',
};

export function iso(micros: number): string {
  return new Date(micros / 1000).toISOString();
}

export function warrantBody(over: Record<string, unknown> = {}) {
  return {
    liid: 'ROMA2026A1',
    authorisationCountry: 'IT',
    courtCaseId: 'RG-2026-42',
    italian: ITALIAN,
    interceptionKind: 'VOICE',
    targets: [{ type: 'E164', value: '06 1234 5678' }],
    selection: { signals: true, media: true },
    deliver: 'IRI_AND_CC',
    lemfIds: ['lemf-rome'],
    validFrom: iso(T0 + HOUR),
    validUntil: iso(T0 + 10 * DAY),
    ...over,
  };
}

/** Tenants acme (+39) and beta, each with one LEMF destination. */
export async function seeded(opts: HarnessOptions = {}): Promise<Harness> {
  const h = await harness(opts);
  for (const [id, cc] of [
    ['acme', '39'],
    ['beta', '49'],
  ] as const) {
    const r = await h.req('operator-admin-token-0001', 'POST', '/tenants', {
      id,
      name: id.toUpperCase(),
      defaultCountryCode: cc,
    });
    if (r.status !== 201) throw new Error(JSON.stringify(r.json));
  }
  for (const [tok, t, id] of [
    ['acme-admin-token-00000001', 'acme', 'lemf-rome'],
    ['beta-admin-token-00000001', 'beta', 'lemf-berlin'],
  ] as const) {
    const r = await h.req(tok, 'PUT', `/tenants/${t}/lemfs/${id}`, {
      name: `${id} centre`,
      transport: 'ETSI_TCP',
      address: { host: '127.0.0.1', port: 16000 },
      allowInsecure: true,
    });
    if (r.status !== 200) throw new Error(JSON.stringify(r.json));
  }
  h.calls.length = 0;
  return h;
}
