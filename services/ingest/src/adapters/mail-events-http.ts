// HTTP intake for mail-server events: Dovecot's event exporter (transport http-post, format
// json: one POST per event) and the generic JSON format (GENERIC_MAIL_EVENT_DOC). Answers at
// once (MAIL.md §7: the exporter blocks the stats process) and hands events to onEvent.
// Bad input is a 400 with a reason naming the field, reported through onProblem; never a crash.
// A rename or removal here moves or deactivates warrants, so every POST needs a credential: a
// `mailserver` token (@li/auth) of the tenant this ingest serves. The tenant is the credential's,
// never the body's. Bodies are bounded in size, nesting and time.
import swagger from '@fastify/swagger';
import type { Caller, TokenAuthenticator } from '@li/auth';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import {
  type DovecotEvent,
  GENERIC_EVENT_TYPES,
  GENERIC_MAIL_EVENT_DOC,
  type GenericMailEvent,
  type MapOutcome,
  mapDovecotEvent,
  mapGenericEvent,
} from '../domain/mail/server-events.ts';
import type { DecodedEvent, DecodeProblem } from '../domain/stream.ts';
import { ING, type IngestErrorCode } from '../errors.ts';

/** Refused before the body is read, so counted and never sent to the DLQ: no credential, or one not
 * in the token table (401); not a mailserver token of this tenant, or a body naming another tenant (403);
 * Kafka away and the spool nearly full (503 with Retry-After: the sender keeps the event and retries). */
type Refusal = Extract<
  IngestErrorCode,
  'ING_ERR_UNAUTHENTICATED' | 'ING_ERR_FORBIDDEN' | 'ING_ERR_SPOOL_FULL' | 'ING_ERR_SPOOL_IO'
>;

/** Seconds a sender refused with 503 is asked to wait. */
const RETRY_AFTER_S = 5;

/** The role a mail server's token carries. */
const MAIL_SERVER_ROLE = 'mailserver';

const Time = Type.Union([Type.String({ minLength: 1 }), Type.Number({ minimum: 0 })]);

const DovecotEventSchema = Type.Object(
  {
    event: Type.String({ minLength: 1 }),
    hostname: Type.Optional(Type.String()),
    start_time: Type.Optional(Time),
    end_time: Type.Optional(Time),
    categories: Type.Optional(Type.Array(Type.String())),
    fields: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { description: 'Dovecot 2.3/2.4 event exporter JSON (one event per POST)' },
);

const Port = Type.Integer({ minimum: 0, maximum: 65535 });

const GenericMailEventSchema = Type.Object(
  {
    type: Type.Union(GENERIC_EVENT_TYPES.map((t) => Type.Literal(t))),
    account: Type.String({ minLength: 1, maxLength: 1024 }),
    time: Time,
    protocol: Type.Optional(Type.String({ maxLength: 32 })),
    session: Type.Optional(Type.String({ maxLength: 256 })),
    clientAddress: Type.Optional(Type.String({ maxLength: 64 })),
    clientPort: Type.Optional(Port),
    serverAddress: Type.Optional(Type.String({ maxLength: 64 })),
    serverPort: Type.Optional(Port),
    result: Type.Optional(Type.Union([Type.Literal('success'), Type.Literal('failure')])),
    mailbox: Type.Optional(Type.String({ maxLength: 1024 })),
    newMailbox: Type.Optional(Type.String({ maxLength: 1024 })),
    uid: Type.Optional(Type.String({ maxLength: 64 })),
    messageId: Type.Optional(Type.String({ maxLength: 1024 })),
    section: Type.Optional(Type.String({ maxLength: 256 })),
    source: Type.Optional(Type.String({ maxLength: 256 })),
    sender: Type.Optional(Type.String({ maxLength: 1024 })),
    recipients: Type.Optional(Type.Array(Type.String({ maxLength: 1024 }), { maxItems: 10_000 })),
    newAccount: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
    message: Type.Optional(Type.String()),
    tenant: Type.Optional(
      Type.String({ maxLength: 64, description: "optional; must be the credential's tenant (403 otherwise)" }),
    ),
  },
  { additionalProperties: false, description: GENERIC_MAIL_EVENT_DOC },
);

const Accepted = Type.Object({ accepted: Type.Integer() });
const Rejected = Type.Object({ code: Type.String(), reason: Type.String() });

export interface MailEventsAppOptions {
  onEvent(event: DecodedEvent): void;
  onProblem(problem: DecodeProblem): void;
  /** A request refused before its body was read (401, 403): counted, never sent to the DLQ. */
  onRefused?(code: Refusal): void;
  /** The tenant this ingest serves: only its mailserver tokens may post. */
  tenant: string;
  authenticator: TokenAuthenticator;
  /** Largest request body in bytes (413 above); default 1 MiB. */
  bodyLimit?: number;
  /** Deepest JSON nesting accepted (400 above); default 16. Both formats need 3. */
  maxDepth?: number;
  /** Time to receive a whole request (408 and close after); default 10 s. */
  requestTimeoutMs?: number;
  /** False: events would be dropped (spool nearly full), so requests get 503 and Retry-After. */
  accepting?(): boolean;
  /**
   * Given (spool fsync 'always'): a request is answered 200 only once this resolves, i.e. its
   * events are in Kafka or synced in the spool; a rejection answers 503 so the server retries.
   */
  durable?(): Promise<void>;
}

export const MAIL_EVENTS_DEFAULTS = { bodyLimit: 1024 * 1024, maxDepth: 16, requestTimeoutMs: 10_000 } as const;

/** Whether a JSON text nests arrays/objects deeper than max, scanned before parsing it. */
export function jsonDepthExceeds(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

export async function buildMailEventsApp(options: MailEventsAppOptions): Promise<FastifyInstance> {
  const bodyLimit = options.bodyLimit ?? MAIL_EVENTS_DEFAULTS.bodyLimit;
  const maxDepth = options.maxDepth ?? MAIL_EVENTS_DEFAULTS.maxDepth;
  const requestTimeout = options.requestTimeoutMs ?? MAIL_EVENTS_DEFAULTS.requestTimeoutMs;
  const app = Fastify({
    logger: false,
    bodyLimit,
    // Node answers 408 and closes a connection whose request is not complete in time; it checks
    // every connectionsCheckingInterval, so that interval bounds the overshoot.
    requestTimeout,
    http: {
      headersTimeout: Math.min(requestTimeout, 60_000),
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(requestTimeout / 4))),
    },
    // Strict validation: no type coercion or silent removal of unknown fields.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
  });
  await app.register(swagger, {
    openapi: {
      info: { title: 'ingest mail-server events', version: '1.0.0', description: GENERIC_MAIL_EVENT_DOC },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });

  // The depth is checked on the text: JSON.parse would recurse through it first.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    if (jsonDepthExceeds(body as string, maxDepth)) {
      const err = Object.assign(new Error(`body nests deeper than ${maxDepth} levels`), { statusCode: 400 });
      done(err, undefined);
      return;
    }
    parseJson(req, body as string, done);
  });

  const callers = new WeakMap<FastifyRequest, Caller>();
  const refuse = (reply: FastifyReply, code: Refusal, reason: string) => {
    options.onRefused?.(code);
    if (code === 'ING_ERR_UNAUTHENTICATED') reply.header('www-authenticate', 'Bearer');
    if (code === 'ING_ERR_SPOOL_FULL') reply.header('retry-after', String(RETRY_AFTER_S));
    return reply.code(ING.status(code)).send({ code, reason });
  };
  // Before the body is read: an unauthenticated client cannot make ingest parse anything.
  app.addHook('onRequest', async (req, reply) => {
    if (req.method === 'GET' && req.url.split('?')[0] === '/openapi.json') return;
    const r = options.authenticator.authenticate(req.headers.authorization, { basic: true });
    if (!r.ok) return refuse(reply, 'ING_ERR_UNAUTHENTICATED', r.error.message);
    if (r.value.role !== MAIL_SERVER_ROLE) {
      return refuse(
        reply,
        'ING_ERR_FORBIDDEN',
        `role ${r.value.role} may not post mail events (needs ${MAIL_SERVER_ROLE})`,
      );
    }
    if (r.value.tenant !== options.tenant) return refuse(reply, 'ING_ERR_FORBIDDEN', 'the token is for another tenant');
    if (options.accepting && !options.accepting())
      return refuse(reply, 'ING_ERR_SPOOL_FULL', ING.table.ING_ERR_SPOOL_FULL.message);
    callers.set(req, r.value);
  });
  // A body may name its tenant, but only the credential's.
  app.addHook('preHandler', async (req, reply) => {
    const named = (req.body as { tenant?: unknown } | undefined)?.tenant;
    if (named !== undefined && named !== callers.get(req)?.tenant) {
      return refuse(reply, 'ING_ERR_FORBIDDEN', "body tenant is not the credential's tenant");
    }
  });

  app.setErrorHandler((error: FastifyError, _req, reply) => {
    const status =
      error.statusCode && error.statusCode >= 400 && error.statusCode < 500
        ? error.statusCode
        : ING.status('ING_ERR_BAD_MAIL_EVENT');
    const reason = error.validation
      ? `${error.validationContext ?? 'body'}${error.validation[0]?.instancePath ?? ''} ${error.validation[0]?.message ?? 'invalid'}`
      : error.message;
    options.onProblem({ code: 'ING_ERR_BAD_MAIL_EVENT', reason });
    void reply.code(status).send({ code: 'ING_ERR_BAD_MAIL_EVENT', reason });
  });

  const deliver = async (outcome: MapOutcome, reply: { code(n: number): { send(b: unknown): unknown } }) => {
    if (!outcome.ok) {
      const reason = `body/${outcome.field}: ${outcome.reason}`;
      options.onProblem({ code: 'ING_ERR_BAD_MAIL_EVENT', reason });
      return reply.code(ING.status('ING_ERR_BAD_MAIL_EVENT')).send({ code: 'ING_ERR_BAD_MAIL_EVENT', reason });
    }
    for (const ev of outcome.events) options.onEvent(ev);
    if (options.durable) {
      try {
        await options.durable();
      } catch {
        const code = 'ING_ERR_SPOOL_IO';
        options.onRefused?.(code);
        return reply.code(ING.status(code)).send({ code, reason: ING.table[code].message });
      }
    }
    return reply.code(200).send({ accepted: outcome.events.length });
  };

  app.post(
    '/ingest/dovecot',
    {
      schema: {
        summary: 'One Dovecot event (event_exporter transport=http-post, format=json)',
        body: DovecotEventSchema,
        response: { 200: Accepted, 400: Rejected, 401: Rejected, 403: Rejected, 413: Rejected, 503: Rejected },
      },
    },
    (req, reply) => deliver(mapDovecotEvent(req.body as DovecotEvent), reply),
  );

  app.post(
    '/ingest/mail-events',
    {
      schema: {
        summary: 'One mail-server event in the generic format',
        body: GenericMailEventSchema,
        response: { 200: Accepted, 400: Rejected, 401: Rejected, 403: Rejected, 413: Rejected, 503: Rejected },
      },
    },
    (req, reply) => deliver(mapGenericEvent(req.body as GenericMailEvent), reply),
  );

  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());
  return app;
}
