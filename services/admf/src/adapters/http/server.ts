// admf's REST API: Fastify + TypeBox schemas, OpenAPI at /openapi.json, bearer tokens checked
// in an onRequest hook. Routes only translate: every decision is a use case's.
import type { Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Clock } from '@li/core';
import { warrantKey } from '@li/identifiers';
import type { Logger } from '@li/log';
import type { LemfDestination, Warrant } from '@li/schemas';
import type { FastifyError, FastifyHttpOptions, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import Fastify from 'fastify';
import { READ_ONLY_ROLES } from '../../domain/access.ts';
import type { LemfInput } from '../../domain/lemf.ts';
import { effectiveStatus, LIFECYCLE_ACTIONS } from '../../domain/lifecycle.ts';
import type { Caller, Role, Tenant } from '../../domain/model.ts';
import type { UseCases } from '../../domain/use-cases.ts';
import type { WarrantCreateInput, WarrantFields } from '../../domain/warrant.ts';
import { formatTimeMicros } from '../../domain/warrant.ts';
import type { AdmError, Result } from '../../errors.ts';
import { ADM } from '../../errors.ts';
import type { TokenAuthenticator } from './auth.ts';
import { type ConsoleOptions, isConsoleAsset, registerConsole } from './console.ts';
import * as S from './schemas.ts';

const ADMF_ROLES: readonly Role[] = ['admin', 'provisioner', 'auditor', 'viewer'];

const errorReply = (reply: FastifyReply, e: AdmError) =>
  reply.code(ADM.status(e.code)).send({ error: e.field === undefined ? { code: e.code, message: e.message } : e });

/** Ajv's "/targets/0/value" + missing/extra property -> "targets[0].value". */
function fieldOf(v: { instancePath?: string; params?: Record<string, unknown> }): string {
  let path = (v.instancePath ?? '')
    .split('/')
    .filter((p) => p !== '')
    .map((p) => (/^[0-9]+$/.test(p) ? `[${p}]` : `.${p}`))
    .join('')
    .replace(/^\./, '');
  const extra = v.params?.missingProperty ?? v.params?.additionalProperty;
  if (typeof extra === 'string') path = path ? `${path}.${extra}` : extra;
  return path || 'body';
}

const warrantView = (w: Warrant, now: number) => ({
  key: warrantKey(w),
  ...w,
  // Records written before these fields, or without them, read as their Avro defaults.
  targets: w.targets.map((t) => ({ ...t, incomplete: t.incomplete === true })),
  italian: w.italian
    ? {
        ...w.italian,
        interceptionType: w.italian.interceptionType ?? null,
        technicalData: w.italian.technicalData ?? null,
      }
    : null,
  validFrom: formatTimeMicros(w.validFromMicros),
  validUntil: formatTimeMicros(w.validUntilMicros),
  status: effectiveStatus(w, now),
});

export async function createHttpServer(deps: {
  useCases: UseCases;
  authenticator: TokenAuthenticator;
  clock: Clock;
  log: Logger;
  /** Serve HTTPS with this key and certificate chain (PEM); plain HTTP without. */
  tls?: { key: Buffer; cert: Buffer } | undefined;
  /** The web console's build and the delivery metrics its LEMF status reads (console.ts). */
  console?: ConsoleOptions | undefined;
  /** Why writes are refused now (a standby instance), or undefined: they are taken. */
  refuseWrites?: () => string | undefined;
}): Promise<FastifyInstance> {
  const { useCases, authenticator } = deps;
  const tls = deps.tls;
  const options: FastifyHttpOptions<Server> = {
    logger: false,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
  };
  // The https server is typed as http's: Fastify treats both alike once they exist.
  if (tls) options.serverFactory = (handler) => createHttpsServer(tls, handler) as unknown as Server;
  const http = Fastify(options).withTypeProvider<TypeBoxTypeProvider>();
  const callers = new WeakMap<FastifyRequest, Caller>();
  const caller = (req: FastifyRequest) => callers.get(req)!;

  await http.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'admf: warrants, tenants, LEMF destinations, audit, billing', version: '0.1.0' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });

  http.setErrorHandler((err: FastifyError, _req, reply) => {
    if (err.validation && err.validation.length > 0) {
      // Inside anyOf (nullable objects) Ajv reports every branch; the deepest path (a missing
      // property counted in) is the real fault.
      type AjvFault = { instancePath?: string; params?: Record<string, unknown>; message?: string };
      const faults = (err.validation as AjvFault[]).map((f) => ({ f, field: fieldOf(f) }));
      const { f: v, field } = faults.sort((a, b) => b.field.length - a.field.length)[0]!;
      return errorReply(reply, { code: 'ADM_ERR_VALIDATION', message: `${field}: ${v.message ?? 'invalid'}`, field });
    }
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      return errorReply(reply, { code: 'ADM_ERR_VALIDATION', message: err.message, field: 'body' });
    }
    deps.log.error({ code: 'ADM_ERR_INTERNAL', err: err.message }, 'request failed');
    return errorReply(reply, { code: 'ADM_ERR_INTERNAL', message: 'internal error' });
  });
  http.setNotFoundHandler((_req, reply) =>
    errorReply(reply, { code: 'ADM_ERR_NOT_FOUND', message: 'no such resource' }),
  );

  const open = new Set(['/openapi.json', '/healthz']);
  http.addHook('onRequest', async (req, reply) => {
    const path = req.url.split('?')[0]!;
    if (open.has(path) || (req.method === 'GET' && isConsoleAsset(path))) return;
    const r = authenticator.authenticate(req.headers.authorization);
    if (!r.ok) {
      reply.header('www-authenticate', 'Bearer');
      return errorReply(reply, r.error);
    }
    // The shared table also holds roles of other APIs (mailserver: ingest's); they act on nothing here.
    if (!ADMF_ROLES.includes(r.value.role)) {
      return errorReply(reply, { code: 'ADM_ERR_FORBIDDEN', message: `role ${r.value.role} has no access to admf` });
    }
    // A read-only role is refused every non-GET before its body is read (the use cases refuse it too).
    if (READ_ONLY_ROLES.includes(r.value.role) && req.method !== 'GET' && req.method !== 'HEAD') {
      return errorReply(reply, { code: 'ADM_ERR_FORBIDDEN', message: `role ${r.value.role} only reads` });
    }
    callers.set(req, r.value);
    // A standby answers reads; a change is the writer's, and the client retries it there.
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      const refused = deps.refuseWrites?.();
      if (refused !== undefined) {
        reply.header('retry-after', '1');
        return errorReply(reply, { code: 'ADM_ERR_STANDBY', message: refused });
      }
    }
  });

  const E = {
    400: S.ErrorBody,
    401: S.ErrorBody,
    403: S.ErrorBody,
    404: S.ErrorBody,
    409: S.ErrorBody,
    503: S.ErrorBody,
  };
  const done = <T>(reply: FastifyReply, r: Result<T>, view: (v: T) => unknown, status = 200) =>
    r.ok ? reply.code(status).send(view(r.value) as never) : errorReply(reply, r.error);
  const now = () => deps.clock.now() * 1000;
  const tenantView = (t: Tenant) => t;
  // Records written before allowInsecure and pipe entries existed: shown as what cc-delivery makes of them.
  const lemfView = (l: LemfDestination) => ({
    ...l,
    allowInsecure: l.allowInsecure ?? false,
    ipsec: l.ipsec ?? null,
    pipe: l.pipe ? { entry: l.pipe.entry ?? '' } : null,
  });

  http.get('/healthz', { schema: { hide: true } }, async () => ({ ok: true }));
  http.get('/openapi.json', { schema: { hide: true } }, async () => http.swagger());

  // ---- tenants
  http.post(
    '/tenants',
    { schema: { tags: ['tenants'], body: S.TenantInput, response: { 201: S.TenantBody, ...E } } },
    async (req, reply) => done(reply, await useCases.createTenant(caller(req), req.body), tenantView, 201),
  );
  http.get(
    '/tenants',
    { schema: { tags: ['tenants'], response: { 200: { type: 'array', items: S.TenantBody }, ...E } } },
    async (req, reply) => done(reply, await useCases.listTenants(caller(req)), (l) => l),
  );
  http.get(
    '/tenants/:tenantId',
    { schema: { tags: ['tenants'], params: S.TenantParams, response: { 200: S.TenantBody, ...E } } },
    async (req, reply) => done(reply, await useCases.getTenant(caller(req), req.params.tenantId), tenantView),
  );
  http.patch(
    '/tenants/:tenantId',
    {
      schema: {
        tags: ['tenants'],
        params: S.TenantParams,
        body: S.TenantPatch,
        response: { 200: S.TenantBody, ...E },
      },
    },
    async (req, reply) =>
      done(reply, await useCases.updateTenant(caller(req), req.params.tenantId, req.body), tenantView),
  );

  // ---- LEMF destinations
  const lemfPath = '/tenants/:tenantId/lemfs/:lemfId';
  http.put(
    lemfPath,
    { schema: { tags: ['lemfs'], params: S.LemfParams, body: S.LemfInput, response: { 200: S.LemfBody, ...E } } },
    async (req, reply) =>
      done(
        reply,
        await useCases.putLemf(caller(req), req.params.tenantId, req.params.lemfId, req.body as LemfInput),
        lemfView,
      ),
  );
  http.get(
    lemfPath,
    { schema: { tags: ['lemfs'], params: S.LemfParams, response: { 200: S.LemfBody, ...E } } },
    async (req, reply) =>
      done(reply, await useCases.getLemf(caller(req), req.params.tenantId, req.params.lemfId), lemfView),
  );
  http.delete(
    lemfPath,
    { schema: { tags: ['lemfs'], params: S.LemfParams, response: { 200: S.LemfBody, ...E } } },
    async (req, reply) =>
      done(reply, await useCases.deleteLemf(caller(req), req.params.tenantId, req.params.lemfId), lemfView),
  );
  http.get(
    '/tenants/:tenantId/lemfs',
    {
      schema: {
        tags: ['lemfs'],
        params: S.TenantParams,
        response: { 200: { type: 'array', items: S.LemfBody }, ...E },
      },
    },
    async (req, reply) =>
      done(reply, await useCases.listLemfs(caller(req), req.params.tenantId), (l) => l.map(lemfView)),
  );

  // ---- warrants
  const wPath = '/tenants/:tenantId/warrants/:country/:liid';
  const keyOf = (p: { country: string; liid: string }) => `${p.country}:${p.liid}`;
  http.post(
    '/tenants/:tenantId/warrants',
    {
      schema: {
        tags: ['warrants'],
        params: S.TenantParams,
        body: S.WarrantCreate,
        response: { 201: S.WarrantBody, ...E },
      },
    },
    async (req, reply) =>
      done(
        reply,
        await useCases.createWarrant(caller(req), req.params.tenantId, req.body as WarrantCreateInput),
        (w) => warrantView(w, now()),
        201,
      ),
  );
  http.get(
    '/tenants/:tenantId/warrants',
    {
      schema: {
        tags: ['warrants'],
        params: S.TenantParams,
        response: { 200: { type: 'array', items: S.WarrantBody }, ...E },
      },
    },
    async (req, reply) =>
      done(reply, await useCases.listWarrants(caller(req), req.params.tenantId), (l) =>
        l.map((w) => warrantView(w, now())),
      ),
  );
  http.get(
    wPath,
    { schema: { tags: ['warrants'], params: S.WarrantParams, response: { 200: S.WarrantBody, ...E } } },
    async (req, reply) =>
      done(reply, await useCases.getWarrant(caller(req), req.params.tenantId, keyOf(req.params)), (w) =>
        warrantView(w, now()),
      ),
  );
  http.patch(
    wPath,
    {
      schema: {
        tags: ['warrants'],
        params: S.WarrantParams,
        body: S.WarrantModify,
        response: { 200: S.WarrantBody, ...E },
      },
    },
    async (req, reply) =>
      done(
        reply,
        await useCases.modifyWarrant(caller(req), req.params.tenantId, keyOf(req.params), req.body as WarrantFields),
        (w) => warrantView(w, now()),
      ),
  );
  http.put(
    `${wPath}/technical-data`,
    {
      schema: {
        tags: ['warrants'],
        summary: 'record the technical data of an Italian activation (seed 001 Art. 9 c.3-4); audited',
        params: S.WarrantParams,
        body: S.TechnicalDataInput,
        response: { 200: S.WarrantBody, ...E },
      },
    },
    async (req, reply) =>
      done(
        reply,
        await useCases.recordTechnicalData(caller(req), req.params.tenantId, keyOf(req.params), req.body),
        (w) => warrantView(w, now()),
      ),
  );
  for (const action of LIFECYCLE_ACTIONS) {
    http.post(
      `${wPath}/${action}`,
      {
        schema: {
          tags: ['warrants'],
          summary: `${action} the warrant${action === 'extend' ? ' (body.validUntil = the new end)' : ''}`,
          params: S.WarrantParams,
          body: S.LifecycleBody,
          response: { 200: S.WarrantBody, ...E },
        },
      },
      async (req, reply) =>
        done(
          reply,
          await useCases.lifecycle(caller(req), req.params.tenantId, keyOf(req.params), action, req.body ?? {}),
          (w) => warrantView(w, now()),
        ),
    );
  }

  http.post(
    `${wPath}/transfer`,
    {
      schema: {
        tags: ['warrants'],
        summary:
          'operator change (seed 001 Art. 9 c.5): move the warrant to another tenant, same LIID, without a gap; operator-wide admin; audited in both tenants',
        params: S.WarrantParams,
        body: S.TransferInput,
        response: { 200: S.TransferBody, ...E },
      },
    },
    async (req, reply) =>
      done(
        reply,
        await useCases.transferWarrant(caller(req), req.params.tenantId, keyOf(req.params), req.body),
        (r) => ({
          from: warrantView(r.from, now()),
          to: warrantView(r.to, now()),
        }),
      ),
  );

  // ---- audit and billing
  http.get(
    '/tenants/:tenantId/audit',
    {
      schema: {
        tags: ['audit'],
        params: S.TenantParams,
        querystring: S.AuditQuery,
        response: { 200: { type: 'array', items: S.AuditBody }, ...E },
      },
    },
    async (req, reply) =>
      done(
        reply,
        await useCases.listAudit(
          caller(req),
          req.params.tenantId,
          Number(req.query.afterSeq ?? 0),
          Math.min(Number(req.query.limit ?? 1000), 10_000),
        ),
        (l) => l,
      ),
  );
  http.get(
    '/tenants/:tenantId/audit/verify',
    {
      schema: {
        tags: ['audit'],
        params: S.TenantParams,
        querystring: S.VerifyQuery,
        response: { 200: S.VerifyBody, ...E },
      },
    },
    async (req, reply) => {
      const { headSeq, headHash } = req.query;
      if ((headSeq === undefined) !== (headHash === undefined)) {
        return errorReply(reply, {
          code: 'ADM_ERR_VALIDATION',
          message: 'headSeq and headHash go together',
          field: headSeq ? 'headHash' : 'headSeq',
        });
      }
      const head =
        headSeq !== undefined && headHash !== undefined ? { seq: Number(headSeq), hash: headHash } : undefined;
      return done(reply, await useCases.verifyAudit(caller(req), req.params.tenantId, head), (v) => v);
    },
  );
  http.get(
    '/tenants/:tenantId/billing',
    {
      schema: {
        tags: ['billing'],
        params: S.TenantParams,
        querystring: S.BillingQuery,
        response: { 200: S.BillingBody, ...E },
      },
    },
    async (req, reply) =>
      done(reply, await useCases.billing(caller(req), req.params.tenantId, req.query.from, req.query.to), (b) => b),
  );

  http.post(
    '/tenants/:tenantId/warrants/:country/:liid/billing-orders',
    {
      schema: {
        tags: ['billing'],
        summary: 'record a priced service requested on the warrant (an audit record the invoice reads)',
        params: S.WarrantParams,
        body: S.BillingOrderInput,
        response: { 200: S.AuditBody, ...E },
      },
    },
    async (req, reply) =>
      done(reply, await useCases.orderBilling(caller(req), req.params.tenantId, keyOf(req.params), req.body), (a) => a),
  );

  await registerConsole(http, {
    useCases,
    caller,
    errorReply,
    options: deps.console ?? { dir: null, deliveryMetricsUrls: [] },
    log: deps.log,
  });

  await http.ready();
  return http;
}
