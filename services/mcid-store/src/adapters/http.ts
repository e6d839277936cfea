// REST API of the MCID service: subscriber MCID data per tenant (seed 003 §3.8.1), the
// global and per-provider administrative states (§3.1, §3.10), and the report listing.
// No I/O of its own: state goes through the StateStore port.
// Every route but /healthz needs a bearer token (@li/auth, the same table and roles
// as admf). Another tenant's data answers 404, as if it did not exist; a wrong role 403.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { type Caller, isOperatorAdmin, type Role, type TokenAuthenticator } from '@li/auth';
import type { Clock } from '@li/core';
import type { Logger } from '@li/log';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import Type, { type Static } from 'typebox';
import {
  adminStateOf,
  deleteSubscriber,
  serviceActive,
  setGlobalAdminState,
  setTenantAdminState,
  upsertSubscriber,
} from '../domain/engine.ts';
import type { Delivery, McidReport, Subscriber } from '../domain/model.ts';
import { keys, nowMicros } from '../domain/model.ts';
import type { StateStore } from '../domain/ports.ts';
import { identityKey } from '../domain/sip.ts';
import { MCD, type McdErrorCode } from '../errors.ts';

interface AppDeps {
  store: StateStore;
  clock: Clock;
  /** Bearer tokens (@li/auth loadTokenFile). */
  authenticator: TokenAuthenticator;
  /** The tenants this deployment serves: any other answers 404. Default: any tenant. */
  tenants?: readonly string[];
  log: Logger;
}

const Tenant = Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,47}$' });
const AdminStateBody = Type.Object(
  { state: Type.Union([Type.Literal('LOCKED'), Type.Literal('UNLOCKED')]) },
  { additionalProperties: false },
);
const SubscriberBody = Type.Object(
  {
    identities: Type.Array(Type.String({ pattern: '^(sips?|tel):', maxLength: 256 }), { minItems: 1, maxItems: 32 }),
    mode: Type.Union([Type.Literal('PERMANENT'), Type.Literal('TEMPORARY')]),
    terminating: Type.Boolean({ default: true }),
    originating: Type.Boolean({ default: false }),
  },
  { additionalProperties: false },
);
const TenantParams = Type.Object({ tenant: Tenant });
const SscOutcomeQuery = Type.Object(
  {
    callId: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
    limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
  },
  { additionalProperties: false },
);
const SubscriberParams = Type.Object({ tenant: Tenant, id: Type.String({ minLength: 1, maxLength: 300 }) });
const ReportQuery = Type.Object(
  {
    subscriber: Type.Optional(Type.String({ minLength: 1, maxLength: 300 })),
    undelivered: Type.Optional(Type.Boolean()),
    limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
  },
  { additionalProperties: false },
);

function fail(code: McdErrorCode, message: string, field?: string) {
  return { statusCode: MCD.status(code), body: { code, message, ...(field ? { field } : {}) } };
}

/**
 * Who may call a route. `operator`: only the operator-wide admin (tenant "*"), for the global
 * state that every tenant shares. Tenant routes mirror admf: reads for admin, provisioner and
 * auditor; subscriber data written by admin or provisioner; the provider's state by its admin.
 */
interface Access {
  roles: readonly Role[];
  operator?: boolean;
}
const READ: Access = { roles: ['admin', 'provisioner', 'auditor'] };
const WRITE_SUBSCRIBERS: Access = { roles: ['admin', 'provisioner'] };
const WRITE_TENANT_STATE: Access = { roles: ['admin'] };
const WRITE_GLOBAL_STATE: Access = { roles: ['admin'], operator: true };

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
}

const OPEN_ROUTES = new Set(['/healthz']);

export function buildApp(deps: AppDeps): FastifyInstance {
  const { store, clock, authenticator, log } = deps;
  const served = deps.tenants ? new Set(deps.tenants) : undefined;
  const app = Fastify({ logger: false }).withTypeProvider<TypeBoxTypeProvider>();
  const callers = new WeakMap<FastifyRequest, Caller>();
  const refuse = (reply: FastifyReply, code: McdErrorCode, message: string) => {
    const f = fail(code, message);
    return reply.code(f.statusCode).send(f.body);
  };

  app.addHook('onRequest', async (req, reply) => {
    if (OPEN_ROUTES.has(req.url.split('?')[0]!)) return;
    const r = authenticator.authenticate(req.headers.authorization);
    if (!r.ok) {
      reply.header('www-authenticate', 'Bearer');
      return refuse(reply, 'MCD_ERR_UNAUTHENTICATED', r.error.message);
    }
    callers.set(req, r.value);
  });

  // Before validation, so another tenant's URL answers 404 whatever the body.
  app.addHook('preValidation', async (req, reply) => {
    if (req.is404 || OPEN_ROUTES.has(req.routeOptions.url ?? '')) return;
    const caller = callers.get(req);
    const access = req.routeOptions.config.access;
    if (!caller || !access) return refuse(reply, 'MCD_ERR_FORBIDDEN', 'no access rule for this route');
    const tenant = (req.params as { tenant?: string }).tenant;
    if (tenant !== undefined) {
      const own = caller.tenant === tenant || isOperatorAdmin(caller);
      if (!own) return refuse(reply, 'MCD_ERR_NOT_FOUND', 'no such tenant');
    }
    if (access.operator && !isOperatorAdmin(caller)) {
      return refuse(reply, 'MCD_ERR_FORBIDDEN', 'only an operator-wide admin (tenant "*") may do this');
    }
    if (!access.roles.includes(caller.role)) {
      return refuse(
        reply,
        'MCD_ERR_FORBIDDEN',
        `role ${caller.role} may not do this (needs ${access.roles.join(' or ')})`,
      );
    }
  });

  // A tenant this deployment does not serve does not exist here (after validation: a malformed
  // tenant id still answers 400 naming the field).
  app.addHook('preHandler', async (req, reply) => {
    const tenant = (req.params as { tenant?: string }).tenant;
    if (served && tenant !== undefined && !served.has(tenant))
      return refuse(reply, 'MCD_ERR_NOT_FOUND', 'no such tenant');
  });

  app.setErrorHandler((err: FastifyError, _req, reply) => {
    if (err.validation) {
      const v = err.validation[0];
      const field = `${err.validationContext ?? 'body'}${v?.instancePath ?? ''}`;
      const missing = (v?.params as { missingProperty?: string } | undefined)?.missingProperty;
      const named = missing ? `${field}/${missing}` : field;
      return reply
        .code(MCD.status('MCD_ERR_VALIDATION'))
        .send({ code: 'MCD_ERR_VALIDATION', field: named, message: `${named} ${v?.message ?? 'invalid'}` });
    }
    if (err.statusCode && err.statusCode < 500) {
      return reply.code(err.statusCode).send({ code: 'MCD_ERR_VALIDATION', message: err.message });
    }
    log.error({ code: 'MCD_ERR_STATE_WRITE' }, 'request failed');
    const f = fail('MCD_ERR_STATE_WRITE', MCD.table.MCD_ERR_STATE_WRITE.message);
    return reply.code(f.statusCode).send(f.body);
  });

  app.get('/healthz', async () => ({ ok: true }));

  app.get('/v1/admin-state', { config: { access: READ } }, async () => {
    const v = store.get(keys.globalAdmin());
    return { state: v?.type === 'admin' ? v.state : 'LOCKED' };
  });

  app.put(
    '/v1/admin-state',
    { config: { access: WRITE_GLOBAL_STATE }, schema: { body: AdminStateBody } },
    async (req) => {
      await store.commit(setGlobalAdminState(req.body.state, nowMicros(clock)));
      log.info({ state: req.body.state }, 'MCID global administrative state set');
      return { state: req.body.state };
    },
  );

  app.get(
    '/v1/tenants/:tenant/admin-state',
    { config: { access: READ }, schema: { params: TenantParams } },
    async (req) => {
      const s = adminStateOf(store, req.params.tenant);
      return { global: s.global, tenant: s.tenant, active: serviceActive(store, req.params.tenant) };
    },
  );

  app.put(
    '/v1/tenants/:tenant/admin-state',
    { config: { access: WRITE_TENANT_STATE }, schema: { params: TenantParams, body: AdminStateBody } },
    async (req) => {
      await store.commit(setTenantAdminState(req.params.tenant, req.body.state, nowMicros(clock)));
      log.info({ tenant: req.params.tenant, state: req.body.state }, 'MCID provider administrative state set');
      const s = adminStateOf(store, req.params.tenant);
      return { global: s.global, tenant: s.tenant, active: serviceActive(store, req.params.tenant) };
    },
  );

  app.get(
    '/v1/tenants/:tenant/subscribers',
    { config: { access: READ }, schema: { params: TenantParams } },
    async (req) => {
      const out: Subscriber[] = [];
      for (const k of store.keys(keys.subscriberPrefix(req.params.tenant))) {
        const v = store.get(k);
        if (v?.type === 'subscriber') out.push(v.subscriber);
      }
      out.sort((a, b) => a.id.localeCompare(b.id));
      return { subscribers: out };
    },
  );

  const save = async (
    tenant: string,
    body: Static<typeof SubscriberBody>,
    expectId: string | null,
    create: boolean,
  ) => {
    if (expectId !== null && identityKey(body.identities[0] ?? '') !== expectId) {
      return fail('MCD_ERR_VALIDATION', 'the first identity must be the subscriber id', 'body/identities/0');
    }
    if (create) {
      const existing = store.get(keys.subscriber(tenant, identityKey(body.identities[0] ?? '')));
      if (existing) return fail('MCD_ERR_IDENTITY_TAKEN', 'subscriber exists; use PUT to replace', 'body/identities/0');
    }
    const r = upsertSubscriber(store, { tenant, ...body }, nowMicros(clock));
    if (!r.ok) return fail(r.code, r.reason, `body/${r.field}`);
    await store.commit(r.changes);
    log.info({ tenant }, 'MCID subscriber data saved');
    return { statusCode: create ? 201 : 200, body: { subscriber: r.subscriber } };
  };

  app.post(
    '/v1/tenants/:tenant/subscribers',
    { config: { access: WRITE_SUBSCRIBERS }, schema: { params: TenantParams, body: SubscriberBody } },
    async (req, reply) => {
      const r = await save(req.params.tenant, req.body, null, true);
      return reply.code(r.statusCode).send(r.body);
    },
  );

  app.put(
    '/v1/tenants/:tenant/subscribers/:id',
    { config: { access: WRITE_SUBSCRIBERS }, schema: { params: SubscriberParams, body: SubscriberBody } },
    async (req, reply) => {
      const r = await save(req.params.tenant, req.body, req.params.id, false);
      return reply.code(r.statusCode).send(r.body);
    },
  );

  app.get(
    '/v1/tenants/:tenant/subscribers/:id',
    { config: { access: READ }, schema: { params: SubscriberParams } },
    async (req, reply) => {
      const v = store.get(keys.subscriber(req.params.tenant, req.params.id));
      if (v?.type !== 'subscriber') {
        const f = fail('MCD_ERR_NOT_FOUND', 'no such subscriber', 'params/id');
        return reply.code(f.statusCode).send(f.body);
      }
      return { subscriber: v.subscriber };
    },
  );

  app.delete(
    '/v1/tenants/:tenant/subscribers/:id',
    { config: { access: WRITE_SUBSCRIBERS }, schema: { params: SubscriberParams } },
    async (req, reply) => {
      const changes = deleteSubscriber(store, req.params.tenant, req.params.id);
      if (changes.length === 0) {
        const f = fail('MCD_ERR_NOT_FOUND', 'no such subscriber', 'params/id');
        return reply.code(f.statusCode).send(f.body);
      }
      await store.commit(changes);
      log.info({ tenant: req.params.tenant }, 'MCID subscriber data deleted');
      return reply.code(204).send();
    },
  );

  app.get(
    '/v1/tenants/:tenant/reports',
    { config: { access: READ }, schema: { params: TenantParams, querystring: ReportQuery } },
    async (req) => {
      const { subscriber, undelivered, limit } = req.query;
      // Only the newest `limit` rows are kept in order: the listing is polled, and sorting
      // every report of a busy tenant for each call cost more than the reports' handling.
      const newest: ReportRow[] = [];
      let total = 0;
      for (const k of store.keys(keys.reportPrefix(req.params.tenant))) {
        const v = store.get(k);
        if (v?.type !== 'report') continue;
        if (subscriber !== undefined && v.report.subscriberId !== subscriber) continue;
        if (undelivered && v.delivery !== null) continue;
        total++;
        keepNewest(newest, { report: v.report, delivery: v.delivery }, limit);
      }
      return { reports: newest, total };
    },
  );

  // Seed 003 §3.9: what each SSC invocation came to and the announcement the serving node plays.
  app.get(
    '/v1/tenants/:tenant/ssc-outcomes',
    { config: { access: READ }, schema: { params: TenantParams, querystring: SscOutcomeQuery } },
    async (req) => {
      const { callId, limit } = req.query;
      const keyList =
        callId !== undefined ? [keys.ssc(req.params.tenant, callId)] : store.keys(keys.sscPrefix(req.params.tenant));
      const rows = [];
      for (const k of keyList) {
        const v = store.get(k);
        if (v?.type === 'ssc') rows.push(v.outcome);
      }
      rows.sort((a, b) => b.atMicros - a.atMicros);
      return { outcomes: rows.slice(0, limit), total: rows.length };
    },
  );

  return app;
}

interface ReportRow {
  report: McidReport;
  delivery: Delivery | null;
}

/** Inserts row into rows (newest first, at most limit; equal times keep their arrival order). */
export function keepNewest(rows: ReportRow[], row: ReportRow, limit: number): void {
  const at = row.report.createdAtMicros;
  if (rows.length >= limit && rows[rows.length - 1]!.report.createdAtMicros >= at) return;
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (rows[mid]!.report.createdAtMicros >= at) lo = mid + 1;
    else hi = mid;
  }
  rows.splice(lo, 0, row);
  if (rows.length > limit) rows.pop();
}
