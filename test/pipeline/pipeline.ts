// The whole pipeline in one process for a tenant: admf, ingest, target-match, iri-encoder and
// cc-delivery started as their main.ts would start them, on the local broker, every listener on
// an ephemeral loopback port. Used by the end-to-end tests and bench/e2e.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { admfService } from '@li/admf/service';
import type { ServiceName } from '@li/bus';
import { ccDeliveryService } from '@li/cc-delivery/service';
import { ingestService } from '@li/ingest/service';
import { iriEncoderService } from '@li/iri-encoder/service';
import { mcidStoreService } from '@li/mcid-store/service';
import { startService } from '@li/runtime';
import { targetMatchService } from '@li/target-match/service';
import { serviceEnv } from '@li/testing';
import { api, TOKENS, tokensFile } from '../e2e/harness.ts';
import type { LemfReceiver } from './lemf.ts';

type Started = Awaited<ReturnType<typeof startService>>;
export type ApiCall = ReturnType<typeof api>;

export interface CaptureOptions {
  /** Interface tcpdump listens on (lo for loopback peers). */
  interface: string;
  smtpPorts: number[];
  imapPorts: number[];
  msnpPorts: number[];
  /** tcpdump filter; default: TCP on the mail and MSNP ports. */
  filter?: string;
}

export interface PipelineOptions {
  tenant: string;
  capture?: CaptureOptions;
  /** Extra LI_* settings for every service. */
  env?: Record<string, string>;
  /** Also run mcid-store (storing MCID reports in local ACR files). */
  mcid?: boolean;
  /** mcid-store's ACR directory (default: a new temporary directory). */
  mcidDirectory?: string;
  /** Settings for one service only, applied last (e.g. admf's console reading cc-delivery's metrics port). */
  serviceEnv?: Partial<Record<ServiceName, Record<string, string>>>;
  /** cc-delivery's secret directory, for file and e-mail LEMFs' credentials (default: a new empty one). */
  secretsDir?: string;
}

/** What provisioning through admf's API needs: the tenant, the client and the tenant's tokens. */
export interface Provisioning {
  tenant: string;
  /** admf's API: call(token, method, path, body). */
  call: ApiCall;
  tokens: { admin: string; prov: string };
}

export interface Pipeline extends Provisioning {
  /** admf's REST API (and web console) port. */
  admfPort: number;
  sipUdpPort: number;
  /** ingest's mail-server events API (POST /ingest/mail-events, the tenant's mailserver token). */
  mailEventsPort: number;
  metricsPorts: Record<string, number>;
  /** mcid-store's REST API, when it runs. */
  mcidHttpPort: number | null;
  /** Stops every service, last started first. */
  stop(): Promise<void>;
}

export const OPERATOR_ID = 'E2E';

/** Starts the five data-path services (and mcid-store if asked) and creates the tenant through admf. */
export async function startPipeline(o: PipelineOptions): Promise<Pipeline> {
  const { tenant } = o;
  const started: { name: string; s: Started }[] = [];
  // Each service connects as its own principal, with the ACLs of a deployment for this tenant.
  const start = async (name: ServiceName, def: Parameters<typeof startService>[0], extra: Record<string, string>) => {
    const env = await serviceEnv(name, [tenant], {
      ...o.env,
      ...extra,
      ...o.serviceEnv?.[name],
    });
    started.push({ name, s: await startService(def, env) });
    return started[started.length - 1]!.s;
  };
  const stopAll = async () => {
    for (const { s } of started.reverse()) await s.stop().catch(() => undefined);
  };
  // One token table for the three APIs (admf, mcid-store, ingest's mail events).
  const tokenFile = tokensFile(tenant);
  try {
    const admf = await start('admf', admfService, {
      LI_HTTP__HOST: '127.0.0.1',
      LI_HTTP__PORT: '0',
      LI_TOKENS_FILE: tokenFile,
    });
    const call = api(admf.ports.http!);
    const created = await call(TOKENS.op, 'POST', '/tenants', { id: tenant, name: 'E2E', defaultCountryCode: '39' });
    if (created.status !== 201) throw new Error(`tenant not created: ${JSON.stringify(created.json)}`);
    const tenants = { LI_TENANTS: tenant, LI_OPERATOR_IDENTIFIER: OPERATOR_ID };
    await start('target-match', targetMatchService, tenants);
    await start('iri-encoder', iriEncoderService, tenants);
    await start('cc-delivery', ccDeliveryService, {
      ...tenants,
      LI_SECRETS_DIR: o.secretsDir ?? mkdtempSync(join(tmpdir(), 'li-secrets-')),
    });
    let mcidHttpPort: number | null = null;
    if (o.mcid) {
      const mcid = await start('mcid-store', mcidStoreService, {
        LI_TENANTS: tenant,
        LI_TOKENS_FILE: tokenFile,
        LI_HTTP__PORT: '0',
        LI_REPORTING_TYPE: 'LOCAL',
        LI_LOCAL_STORAGE__DIRECTORY: o.mcidDirectory ?? mkdtempSync(join(tmpdir(), 'li-mcid-acr-')),
      });
      mcidHttpPort = mcid.ports.http!;
    }
    const c = o.capture;
    const ingest = await start('ingest', ingestService, {
      LI_TENANT: tenant,
      LI_TOKENS_FILE: tokenFile,
      LI_SIP__HOST: '127.0.0.1',
      LI_SIP__UDP_PORT: '0',
      LI_SIP__TCP_PORT: '0',
      LI_MAIL_EVENTS__HOST: '127.0.0.1',
      LI_MAIL_EVENTS__PORT: '0',
      ...(c
        ? {
            LI_CAPTURE__INTERFACE: c.interface,
            LI_CAPTURE__FILTER:
              c.filter ?? [...c.smtpPorts, ...c.imapPorts, ...c.msnpPorts].map((p) => `tcp port ${p}`).join(' or '),
            LI_CAPTURE__SMTP_PORTS: c.smtpPorts.join(','),
            LI_CAPTURE__IMAP_PORTS: c.imapPorts.join(','),
            LI_CAPTURE__MSNP_PORTS: c.msnpPorts.join(','),
          }
        : {}),
    });
    return {
      tenant,
      call,
      tokens: TOKENS,
      admfPort: admf.ports.http!,
      sipUdpPort: ingest.ports.sipUdp!,
      mailEventsPort: ingest.ports.mailEvents!,
      metricsPorts: Object.fromEntries(started.map(({ name, s }) => [name, s.metricsPort])),
      mcidHttpPort,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** Registers a LEMF receiver as an ETSI TCP destination (HI2 and HI3 on its own ports); `settings` adds API fields. */
export async function addEtsiLemf(
  p: Provisioning,
  id: string,
  lemf: LemfReceiver,
  settings: Record<string, unknown> = {},
): Promise<void> {
  const r = await p.call(p.tokens.admin, 'PUT', `/tenants/${p.tenant}/lemfs/${id}`, {
    name: lemf.name,
    transport: 'ETSI_TCP',
    address: { host: '127.0.0.1', port: lemf.hi2Port },
    ccAddress: { host: '127.0.0.1', port: lemf.hi3Port },
    keepaliveSeconds: 5,
    timestampFormat: 'MICROSECOND',
    allowInsecure: true, // the local LEMF receiver has no TLS
    ...settings,
  });
  if (r.status !== 200 && r.status !== 201) throw new Error(`LEMF ${id} not stored: ${JSON.stringify(r.json)}`);
}

/** Registers a LEMF receiver's HI2 port as a TS 101 671 HI2 TCP destination (seed 001). */
export async function addHi2Lemf(p: Provisioning, id: string, lemf: LemfReceiver): Promise<void> {
  const r = await p.call(p.tokens.admin, 'PUT', `/tenants/${p.tenant}/lemfs/${id}`, {
    name: lemf.name,
    transport: 'HI2_TCP',
    address: { host: '127.0.0.1', port: lemf.hi2Port },
    allowInsecure: true,
  });
  if (r.status !== 200 && r.status !== 201) throw new Error(`LEMF ${id} not stored: ${JSON.stringify(r.json)}`);
}

export interface WarrantSpec {
  liid: string;
  kind: 'VOICE' | 'EMAIL' | 'MESSAGING';
  target: { type: string; value: string };
  lemfIds: string[];
  /** Authorisation country (default DE); IT also gets the Italian authorisation and TS 101 671 IRIs. */
  country?: string;
  deliver?: 'IRI_ONLY' | 'IRI_AND_CC';
}

/** The Italian authorisation fields (seed 001) of the test warrants. */
const ITALIAN = {
  proceedingNumber: '1234/2026 RGNR',
  ritNumber: '567/2026',
  judge: 'GIP Tribunale di Roma',
  authorisedOfficers: ['Isp. Rossi'],
  operator: 'Demo Telecom',
  interceptionType: 'TELEFONICA',
};

const iso = (ms: number) => new Date(ms).toISOString();

/** Creates an active warrant with every report type selected and CC delivery. */
export async function addWarrant(p: Provisioning, w: WarrantSpec): Promise<void> {
  const country = w.country ?? 'DE';
  const r = await p.call(p.tokens.prov, 'POST', `/tenants/${p.tenant}/warrants`, {
    liid: w.liid,
    authorisationCountry: country,
    courtCaseId: `CASE-${w.liid}`,
    ...(country === 'IT' ? { italian: ITALIAN } : {}),
    interceptionKind: w.kind,
    targets: [w.target],
    selection: {
      login: true,
      signals: true,
      media: true,
      newMail: true,
      sentMail: true,
      mailbox: true,
      access: true,
      partial: true,
      deletedMail: true,
    },
    deliver: w.deliver ?? 'IRI_AND_CC',
    lemfIds: w.lemfIds,
    validFrom: iso(Date.now() - 60_000),
    validUntil: iso(Date.now() + 86_400_000),
  });
  if (r.status !== 201) throw new Error(`warrant ${w.liid} not created: ${JSON.stringify(r.json)}`);
}

/** Ends a warrant now (the deactivate action). */
export async function endWarrant(p: Provisioning, liid: string, country = 'DE'): Promise<void> {
  const r = await p.call(p.tokens.prov, 'POST', `/tenants/${p.tenant}/warrants/${country}/${liid}/deactivate`, {});
  if (r.status !== 200) throw new Error(`warrant ${liid} not ended: ${JSON.stringify(r.json)}`);
}

export interface ProvisionedPipelineOptions extends PipelineOptions {
  /** The LEMFs to register, each as ETSI TCP or (`hi2`) as TS 101 671 HI2 TCP. */
  lemfs: { id: string; receiver: LemfReceiver; hi2?: boolean }[];
  warrants: WarrantSpec[];
}

/** startPipeline, then the LEMFs and warrants through admf, ready for traffic. */
export async function startProvisionedPipeline(o: ProvisionedPipelineOptions): Promise<Pipeline> {
  const { lemfs, warrants, ...options } = o;
  const p = await startPipeline(options);
  for (const l of lemfs) {
    if (l.hi2) await addHi2Lemf(p, l.id, l.receiver);
    else await addEtsiLemf(p, l.id, l.receiver);
  }
  for (const w of warrants) await addWarrant(p, w);
  // target-match follows the warrants topic: give it a moment before traffic starts.
  await new Promise((r) => setTimeout(r, 1500));
  return p;
}
