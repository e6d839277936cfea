// The web console (services/admf/console): its static files, served from memory with a strict
// Content-Security-Policy, and the two routes only the console needs: a warrant's version history
// (identifier in the body, never in a URL) and the live status of the tenant's LEMFs, read from
// cc-delivery's own metrics.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import Type from 'typebox';
import { lemfStatuses, parsePrometheusText, type Sample } from '../../domain/delivery-status.ts';
import type { Caller } from '../../domain/model.ts';
import type { UseCases } from '../../domain/use-cases.ts';
import type { AdmError } from '../../errors.ts';

/** No inline script or style, nothing from another origin, no framing, no form posts. */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
};

export interface ConsoleOptions {
  /** The console's production build (index.html and its modules); null: no console. */
  dir: string | null;
  /** cc-delivery instances' /metrics URLs, for the LEMF status; none: status unknown. */
  deliveryMetricsUrls: readonly string[];
}

/** The configured build, or the one `npm run build` leaves beside admf; null (no console) when absent. */
export function consoleDir(configured: string, log: { warn(obj: object, msg: string): void }): string | null {
  const dir = configured || join(import.meta.dirname, '../../../console/dist');
  if (existsSync(join(dir, 'index.html'))) return dir;
  log.warn({ dir }, 'no console build: /console answers 404 (npm run build -w services/admf)');
  return null;
}

/** Reads the build once at start: /console/<path> → file. */
function loadFiles(dir: string): Map<string, { body: Buffer; type: string }> {
  const files = new Map<string, { body: Buffer; type: string }>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (TYPES[extname(p)]) {
        files.set(`/console/${relative(dir, p).split(sep).join('/')}`, {
          body: readFileSync(p),
          type: TYPES[extname(p)]!,
        });
      }
    }
  };
  walk(dir);
  return files;
}

/** True for the console's static paths: they carry no data, so need no token. */
export const isConsoleAsset = (path: string): boolean =>
  path === '/' || path === '/console' || path.startsWith('/console/');

const HistoryBody = Type.Object(
  { key: Type.String({ minLength: 4, maxLength: 40, pattern: '^[A-Z]{2}:[A-Za-z0-9]{1,25}$' }) },
  { additionalProperties: false },
);
const TenantParams = Type.Object({ tenantId: Type.String({ maxLength: 32 }) });

export async function registerConsole(
  server: FastifyInstance,
  deps: {
    useCases: UseCases;
    caller: (req: FastifyRequest) => Caller;
    errorReply: (reply: FastifyReply, e: AdmError) => FastifyReply;
    options: ConsoleOptions;
    log: { warn(obj: object, msg: string): void };
  },
): Promise<void> {
  const { useCases, caller, errorReply, options } = deps;
  const http = server.withTypeProvider<TypeBoxTypeProvider>();
  const files = options.dir ? loadFiles(options.dir) : new Map();
  const send = (reply: FastifyReply, path: string) => {
    const f = files.get(path);
    if (!f) return errorReply(reply, { code: 'ADM_ERR_NOT_FOUND', message: 'no such resource' });
    return reply
      .header('content-type', f.type)
      .header('content-security-policy', CONSOLE_CSP)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'no-referrer')
      .header('cross-origin-opener-policy', 'same-origin')
      .header('cache-control', 'no-cache')
      .send(f.body);
  };
  http.get('/', { schema: { hide: true } }, async (_req, reply) => reply.redirect('/console/'));
  http.get('/console', { schema: { hide: true } }, async (_req, reply) => reply.redirect('/console/'));
  http.get('/console/', { schema: { hide: true } }, async (_req, reply) => send(reply, '/console/index.html'));
  http.get('/console/*', { schema: { hide: true } }, async (req, reply) => send(reply, req.url.split('?')[0]!));

  // Who the token is: the console shows the screens of this role and tenant (admf still decides every call).
  http.get(
    '/whoami',
    { schema: { tags: ['tenants'], summary: "the caller's subject, tenant and role" } },
    async (req) => {
      const c = caller(req);
      return { subject: c.subject, tenant: c.tenant, role: c.role };
    },
  );

  http.post(
    '/tenants/:tenantId/warrant-history',
    {
      schema: {
        tags: ['warrants'],
        summary: "a warrant's versions from its audit records (key in the body: no LIID in the URL)",
        params: TenantParams,
        body: HistoryBody,
      },
    },
    async (req, reply) => {
      const r = await useCases.warrantHistory(caller(req), req.params.tenantId, req.body.key);
      return r.ok ? reply.send(r.value) : errorReply(reply, r.error);
    },
  );

  http.get(
    '/tenants/:tenantId/lemf-status',
    {
      schema: {
        tags: ['lemfs'],
        summary:
          "each LEMF's delivery status as cc-delivery's metrics report it (connected, records sent, lag, last error)",
        params: TenantParams,
      },
    },
    async (req, reply) => {
      const lemfs = await useCases.listLemfs(caller(req), req.params.tenantId);
      if (!lemfs.ok) return errorReply(reply, lemfs.error);
      const samples: Sample[] = [];
      let reachable = 0;
      for (const url of options.deliveryMetricsUrls) {
        try {
          const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
          if (!res.ok) throw new Error(`HTTP ${res.status}`);
          samples.push(...parsePrometheusText(await res.text()));
          reachable += 1;
        } catch (err) {
          deps.log.warn({ err: (err as Error).message }, 'delivery metrics unreachable');
        }
      }
      return reply.send({
        sources: { configured: options.deliveryMetricsUrls.length, reachable },
        atMillis: Date.now(),
        lemfs: lemfStatuses(
          req.params.tenantId,
          lemfs.value.map((l) => l.id),
          samples,
        ),
      });
    },
  );
}
