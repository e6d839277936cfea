// The pipeline as separate processes, as scripts/start.ts runs it (`node services/<s>/src/main.ts`
// with LI_* settings), so a chaos scenario can SIGKILL one service and start it again on the
// same settings (ports, spool directory, instance id). Each service connects as its own
// principal with one deployment's ACLs for the scenario's tenant (@li/testing serviceEnv), on
// whatever broker LI_KAFKA_BROKERS / LI_INFRA_RUN of this process name. Logs go to
// .run/chaos/logs/<run>/<service>.log.
import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createWriteStream, mkdirSync, mkdtempSync, type WriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServiceName } from '@li/bus';
import { pinnedNode, serviceEnv, waitFor } from '@li/testing';
import { api, TOKENS, tokensFile } from '../e2e/harness.ts';
import { OPERATOR_ID, type Provisioning } from '../pipeline/pipeline.ts';

const ROOT = join(import.meta.dirname, '../..');

const canBind = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const tcp = createServer();
    tcp.once('error', () => resolve(false));
    tcp.listen(port, '127.0.0.1', () => {
      const udp = createSocket('udp4');
      udp.once('error', () => tcp.close(() => resolve(false)));
      udp.bind(port, '127.0.0.1', () => udp.close(() => tcp.close(() => resolve(true))));
    });
  });

/**
 * A port free for TCP and UDP, below Linux's ephemeral range (32768 and up): the services bind it
 * seconds later, and a port the OS handed out and took back could meanwhile become the local
 * port of one of the many outgoing connections (ingest once failed with EADDRINUSE so).
 */
async function freePort(): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const port = 22000 + Math.floor(Math.random() * 10000);
    if (await canBind(port)) return port;
  }
  throw new Error('no free port between 22000 and 32000');
}

/** Start order: admf first (it creates the tenant), ingest last (nothing to send to before). */
const PIPELINE_SERVICES = [
  'admf',
  'target-match',
  'iri-encoder',
  'cc-delivery',
  'mcid-store',
  'ingest',
] as const satisfies readonly ServiceName[];
export type PipelineService = (typeof PIPELINE_SERVICES)[number];

export interface ProcessPipelineOptions {
  tenant: string;
  /** Name of the log directory under .run/chaos/logs. */
  run: string;
  /** Extra LI_* settings per service (on top of the harness's). */
  env?: Partial<Record<PipelineService, Record<string, string>>>;
  /** How long a service may take to report ready (default 90 s). */
  readyTimeoutMs?: number;
  /**
   * Live processes per service (default 1), each with its own instance id, metrics port and log
   * (<service>-<n>.log from the second on). Only services without listening ports of their own
   * can have several here: target-match, iri-encoder, cc-delivery.
   */
  replicas?: Partial<Record<'target-match' | 'iri-encoder' | 'cc-delivery', number>>;
  /** Which services to run (default all six, in start order); admf always runs. */
  services?: readonly PipelineService[];
}

interface Managed {
  name: PipelineService;
  /** Which process of the service (0 for the first). */
  replica: number;
  env: Record<string, string>;
  metricsPort: number;
  proc: ChildProcess | null;
  /** Exits nobody asked for (code or signal), for the scenario to report. */
  unexpected: string[];
  expectExit: boolean;
  log: WriteStream;
}

export class ProcessPipeline implements Provisioning {
  readonly tenant: string;
  readonly call: ReturnType<typeof api>;
  readonly tokens = TOKENS;
  /** Ports that stay the same across restarts. */
  readonly ports: { admf: number; mailEvents: number; sip: number; mcid: number };
  readonly mcidAcrDir: string;
  /** LEMFs the scenarios registered (their cc-delivery groups are li.cc-delivery.<t>.<id>). */
  readonly lemfIds: string[] = [];
  readonly logDir: string;
  readonly #services = new Map<PipelineService, Managed[]>();
  readonly #readyTimeoutMs: number;

  private constructor(o: ProcessPipelineOptions, ports: ProcessPipeline['ports'], dirs: { acr: string; logs: string }) {
    this.tenant = o.tenant;
    this.ports = ports;
    this.call = api(ports.admf);
    this.mcidAcrDir = dirs.acr;
    this.logDir = dirs.logs;
    this.#readyTimeoutMs = o.readyTimeoutMs ?? 90_000;
  }

  /** Starts all six services for `tenant` and creates the tenant through admf's API. */
  static async start(o: ProcessPipelineOptions): Promise<ProcessPipeline> {
    const ports = { admf: await freePort(), mailEvents: await freePort(), sip: await freePort(), mcid: 0 };
    ports.mcid = await freePort();
    const logs = join(ROOT, '.run/chaos/logs', o.run);
    mkdirSync(logs, { recursive: true });
    const acr = mkdtempSync(join(tmpdir(), 'li-chaos-acr-'));
    const p = new ProcessPipeline(o, ports, { acr, logs });
    const tokens = tokensFile(o.tenant);
    const tenants = { LI_TENANTS: o.tenant, LI_OPERATOR_IDENTIFIER: OPERATOR_ID };
    const own: Record<PipelineService, Record<string, string>> = {
      admf: { LI_HTTP__HOST: '127.0.0.1', LI_HTTP__PORT: String(ports.admf), LI_TOKENS_FILE: tokens },
      'target-match': tenants,
      'iri-encoder': tenants,
      'cc-delivery': { ...tenants, LI_SECRETS_DIR: mkdtempSync(join(tmpdir(), 'li-chaos-secrets-')) },
      'mcid-store': {
        LI_TENANTS: o.tenant,
        LI_TOKENS_FILE: tokens,
        LI_HTTP__PORT: String(ports.mcid),
        LI_REPORTING_TYPE: 'LOCAL',
        LI_LOCAL_STORAGE__DIRECTORY: acr,
      },
      ingest: {
        LI_TENANT: o.tenant,
        LI_TOKENS_FILE: tokens,
        LI_SIP__HOST: '127.0.0.1',
        LI_SIP__UDP_PORT: String(ports.sip),
        LI_SIP__TCP_PORT: String(ports.sip),
        LI_MAIL_EVENTS__HOST: '127.0.0.1',
        LI_MAIL_EVENTS__PORT: String(ports.mailEvents),
        // One spool directory for every run of this ingest: a restart sends what the last one left.
        LI_SPOOL__DIRECTORY: mkdtempSync(join(tmpdir(), 'li-chaos-spool-')),
      },
    };
    try {
      for (const name of PIPELINE_SERVICES) {
        if (name !== 'admf' && o.services && !o.services.includes(name)) continue;
        const count = (o.replicas as Partial<Record<PipelineService, number>> | undefined)?.[name] ?? 1;
        const list: Managed[] = [];
        p.#services.set(name, list);
        for (let replica = 0; replica < count; replica++) {
          const env = await serviceEnv(name, [o.tenant], {
            LI_LOG_LEVEL: process.env.DEBUG_LOG_LEVEL ?? 'warn',
            LI_INSTANCE_ID: replica === 0 ? `chaos-${name}` : `chaos-${name}-${replica}`,
            ...own[name],
            ...(name === 'cc-delivery' && replica > 0
              ? { LI_SECRETS_DIR: mkdtempSync(join(tmpdir(), 'li-chaos-secrets-')) }
              : {}),
            ...o.env?.[name],
          });
          const metricsPort = await freePort();
          env.LI_METRICS_PORT = String(metricsPort);
          const m: Managed = {
            name,
            replica,
            env,
            metricsPort,
            proc: null,
            unexpected: [],
            expectExit: false,
            log: createWriteStream(join(logs, replica === 0 ? `${name}.log` : `${name}-${replica}.log`), {
              flags: 'a',
            }),
          };
          list.push(m);
          p.#spawn(m);
        }
        for (let replica = 0; replica < count; replica++) await p.waitReady(name, undefined, replica);
        if (name === 'admf') {
          const created = await p.call(TOKENS.op, 'POST', '/tenants', {
            id: o.tenant,
            name: 'chaos',
            defaultCountryCode: '39',
          });
          if (created.status !== 201) throw new Error(`tenant not created: ${JSON.stringify(created.json)}`);
        }
      }
    } catch (err) {
      await p.stop();
      throw err;
    }
    return p;
  }

  #spawn(m: Managed): void {
    m.expectExit = false;
    m.log.write(`--- ${new Date().toISOString()} start\n`);
    const proc = spawn(pinnedNode(), [join(ROOT, 'services', m.name, 'src/main.ts')], {
      cwd: join(ROOT, 'services', m.name),
      env: { ...process.env, ...m.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proc.stdout.pipe(m.log, { end: false });
    proc.stderr.pipe(m.log, { end: false });
    proc.on('exit', (code, signal) => {
      m.log.write(`--- ${new Date().toISOString()} exit ${signal ?? code}\n`);
      if (!m.expectExit) m.unexpected.push(`${m.name}#${m.replica} exited by itself (${signal ?? code})`);
      if (m.proc === proc) m.proc = null;
    });
    m.proc = proc;
  }

  #get(name: PipelineService, replica = 0): Managed {
    const m = this.#services.get(name)?.[replica];
    if (!m) throw new Error(`${name}#${replica} is not part of this pipeline`);
    return m;
  }

  /** Whether the service (its process `replica`) answers /readyz with 200 now. */
  async ready(name: PipelineService, replica = 0): Promise<boolean> {
    const m = this.#get(name, replica);
    if (!m.proc) return false;
    return fetch(`http://127.0.0.1:${m.metricsPort}/readyz`, { signal: AbortSignal.timeout(2000) })
      .then((r) => r.ok)
      .catch(() => false);
  }

  /** The service's metrics (its process `replica`) in Prometheus text, '' when it does not answer. */
  async metrics(name: PipelineService, replica = 0): Promise<string> {
    const m = this.#get(name, replica);
    if (!m.proc) return '';
    return fetch(`http://127.0.0.1:${m.metricsPort}/metrics`, { signal: AbortSignal.timeout(5000) })
      .then((r) => (r.ok ? r.text() : ''))
      .catch(() => '');
  }

  async waitReady(name: PipelineService, timeoutMs = this.#readyTimeoutMs, replica = 0): Promise<void> {
    const m = this.#get(name, replica);
    await waitFor(
      async () => {
        if (!m.proc) throw new Error(`${name}#${replica} exited before it was ready (see ${this.logDir})`);
        return this.ready(name, replica);
      },
      { what: `${name}#${replica} ready (/readyz on :${m.metricsPort})`, timeoutMs, intervalMs: 250 },
    );
  }

  /** Sends `signal` to the service (its process `replica`) and waits for the process to end. */
  async kill(name: PipelineService, signal: NodeJS.Signals = 'SIGKILL', replica = 0): Promise<void> {
    const m = this.#get(name, replica);
    const proc = m.proc;
    if (!proc) return;
    m.expectExit = true;
    const exited = new Promise<void>((r) => proc.once('exit', () => r()));
    proc.kill(signal);
    await exited;
  }

  /** Starts the service (its process `replica`) again on the same settings; resolves once it is ready. */
  async restart(name: PipelineService, replica = 0): Promise<void> {
    const m = this.#get(name, replica);
    if (m.proc) throw new Error(`${name}#${replica} is still running`);
    this.#spawn(m);
    await this.waitReady(name, undefined, replica);
  }

  /** Each process and whether it is ready now: `name ready` or `name#1 NOT ready`. */
  async readiness(): Promise<string[]> {
    const out: string[] = [];
    for (const m of [...this.#services.values()].flat()) {
      const label = m.replica === 0 ? m.name : `${m.name}#${m.replica}`;
      out.push(`${label} ${(await this.ready(m.name, m.replica)) ? 'ready' : 'NOT ready'}`);
    }
    return out;
  }

  /** Every exit of a service that nobody asked for, since the start. */
  unexpectedExits(): string[] {
    return [...this.#services.values()].flat().flatMap((m) => m.unexpected);
  }

  /** Stops every service (SIGTERM, SIGKILL after 20 s), last started first. */
  async stop(): Promise<void> {
    for (const m of [...this.#services.values()].flat().reverse()) {
      const proc = m.proc;
      if (proc) {
        const timer = setTimeout(() => proc.kill('SIGKILL'), 20_000);
        await this.kill(m.name, 'SIGTERM', m.replica);
        clearTimeout(timer);
      }
      m.log.end();
    }
  }
}
