// HTTP intake for mail-server events: Dovecot's event exporter (transport http-post, format
// json: one POST per event) and the generic JSON format (GENERIC_MAIL_EVENT_DOC). Answers at
// once (MAIL.md §7: the exporter blocks the stats process) and hands events to onEvent.
// Bad input is a 400 with a reason naming the field, reported through onProblem; never a crash.
import swagger from '@fastify/swagger';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
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

export const ERR_BAD_MAIL_EVENT = 'ING_ERR_BAD_MAIL_EVENT';

const Time = Type.Union([Type.String({ minLength: 1 }), Type.Number({ minimum: 0 })]);

export const DovecotEventSchema = Type.Object(
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

export const GenericMailEventSchema = Type.Object(
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
  },
  { additionalProperties: false, description: GENERIC_MAIL_EVENT_DOC },
);

const Accepted = Type.Object({ accepted: Type.Integer() });
const Rejected = Type.Object({ code: Type.String(), reason: Type.String() });

export interface MailEventsAppOptions {
  onEvent(event: DecodedEvent): void;
  onProblem(problem: DecodeProblem): void;
  /** Largest request body (base64 messages in the generic format); default 64 MiB. */
  bodyLimit?: number;
}

export async function buildMailEventsApp(options: MailEventsAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    bodyLimit: options.bodyLimit ?? 64 * 1024 * 1024,
    // Strict validation: no type coercion or silent removal of unknown fields.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
  });
  await app.register(swagger, {
    openapi: {
      info: { title: 'ingest mail-server events', version: '1.0.0', description: GENERIC_MAIL_EVENT_DOC },
    },
  });

  app.setErrorHandler((error: FastifyError, _req, reply) => {
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400;
    const reason = error.validation
      ? `${error.validationContext ?? 'body'}${error.validation[0]?.instancePath ?? ''} ${error.validation[0]?.message ?? 'invalid'}`
      : error.message;
    options.onProblem({ code: ERR_BAD_MAIL_EVENT, reason });
    void reply.code(status).send({ code: ERR_BAD_MAIL_EVENT, reason });
  });

  const deliver = (outcome: MapOutcome, reply: { code(n: number): { send(b: unknown): unknown } }) => {
    if (!outcome.ok) {
      const reason = `body/${outcome.field}: ${outcome.reason}`;
      options.onProblem({ code: ERR_BAD_MAIL_EVENT, reason });
      return reply.code(400).send({ code: ERR_BAD_MAIL_EVENT, reason });
    }
    for (const ev of outcome.events) options.onEvent(ev);
    return reply.code(200).send({ accepted: outcome.events.length });
  };

  app.post(
    '/ingest/dovecot',
    {
      schema: {
        summary: 'One Dovecot event (event_exporter transport=http-post, format=json)',
        body: DovecotEventSchema,
        response: { 200: Accepted, 400: Rejected },
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
        response: { 200: Accepted, 400: Rejected },
      },
    },
    (req, reply) => deliver(mapGenericEvent(req.body as GenericMailEvent), reply),
  );

  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());
  return app;
}
