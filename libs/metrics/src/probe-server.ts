// One small HTTP server per service for Prometheus and Kubernetes:
//   /metrics  the service's prom-client registry
//   /healthz  the process is alive and its liveness checks pass (restart it if not)
//   /readyz   it can do its work now (stop sending it traffic if not)
// Both take `?exclude=<check>` (repeatable, as kube-apiserver's): e.g. a Kubernetes readiness probe
// of admf that passes on a caught-up standby (docs/DEPLOY.md). Excluded checks are not run.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Registry } from 'prom-client';

/** A named check; returns true when healthy, or a short reason when not. */
export type Check = () => boolean | string | Promise<boolean | string>;

export interface ProbeServerOptions {
  registry: Registry;
  port: number;
  host?: string;
  liveness?: Record<string, Check>;
  readiness?: Record<string, Check>;
}

export interface ProbeServer {
  port: number;
  close(): Promise<void>;
}

/** A registry with Node's default process metrics, labelled with the service name. */
export function createRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

async function run(
  checks: Record<string, Check> = {},
  exclude: readonly string[] = [],
): Promise<{ ok: boolean; checks: Record<string, string> }> {
  const results: Record<string, string> = {};
  let ok = true;
  for (const [name, check] of Object.entries(checks)) {
    if (exclude.includes(name)) continue;
    let r: boolean | string;
    try {
      r = await check();
    } catch (err) {
      r = `check failed: ${(err as Error).name}`;
    }
    results[name] = r === true ? 'ok' : r === false ? 'failing' : r;
    if (r !== true) ok = false;
  }
  return { ok, checks: results };
}

export async function startProbeServer(options: ProbeServerOptions): Promise<ProbeServer> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://probe');
    const path = url.pathname;
    const reply = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (req.method !== 'GET') return reply(405, 'text/plain', 'method not allowed\n');
    if (path === '/metrics') {
      options.registry.metrics().then(
        (text) => reply(200, options.registry.contentType, text),
        () => reply(500, 'text/plain', 'metrics collection failed\n'),
      );
      return;
    }
    if (path === '/healthz' || path === '/readyz') {
      run(path === '/healthz' ? options.liveness : options.readiness, url.searchParams.getAll('exclude')).then((r) =>
        reply(
          r.ok ? 200 : 503,
          'application/json',
          `${JSON.stringify({ status: r.ok ? 'ok' : 'failing', checks: r.checks })}\n`,
        ),
      );
      return;
    }
    reply(404, 'text/plain', 'not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
