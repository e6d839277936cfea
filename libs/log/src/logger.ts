// JSON logs through pino. Target identifiers and intercepted content are kept out by
// construction: only fields on an allow-list are written; any other field is replaced by
// "[redacted]", whatever its name. The allow-list holds operational facts only.
import { type DestinationStream, type Logger as PinoLogger, pino } from 'pino';

export const SAFE_KEYS = [
  'service',
  'component',
  'tenant',
  'liid',
  'lemf',
  'transport',
  'stream',
  'topic',
  'partition',
  'offset',
  'groupId',
  'cin',
  'seq',
  'code',
  'retriable',
  'reason',
  'state',
  'count',
  'records',
  'bytes',
  'attempt',
  'durationMs',
  'delayMs',
  'port',
  'host',
  'version',
  'err',
] as const;
export type SafeKey = (typeof SAFE_KEYS)[number];
export type LogFields = { [K in SafeKey]?: K extends 'err' ? unknown : string | number | boolean | null };

export const REDACTED = '[redacted]';
const safe = new Set<string>(SAFE_KEYS);

export interface Logger {
  debug(fields: LogFields, msg: string): void;
  info(fields: LogFields, msg: string): void;
  warn(fields: LogFields, msg: string): void;
  error(fields: LogFields, msg: string): void;
  fatal(fields: LogFields, msg: string): void;
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  service: string;
  level?: string;
  /** Where lines go; stdout by default. Tests pass a stream to read them. */
  destination?: DestinationStream;
}

function filter(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (!safe.has(k)) out[k] = REDACTED;
    else if (k !== 'err' && v !== null && typeof v === 'object') out[k] = REDACTED;
    else if (k === 'reason' && typeof v === 'string') out[k] = scrub(v);
    else out[k] = v;
  }
  return out;
}

// Identifier-shaped text: URIs of the identifier schemes, e-mail addresses, runs of 6+ digits
// (E.164, IMSI, IMEI, with their usual separators) and IP addresses other than loopback and
// unspecified ones. Free text (messages, reasons) can quote them; they are masked wherever found.
const IDENTIFIER_TEXT = new RegExp(
  [
    String.raw`\b(?:sips?|tel|mailto|im|pres|xmpp|urn):[^\s"'<>,;]+`,
    String.raw`[^\s"'<>,;:@]+@[^\s"'<>,;]+`,
    String.raw`\+?\d(?:[\s().\-/]?\d){5,}`,
    String.raw`\b(?:\d{1,3}\.){3}\d{1,3}\b`,
    String.raw`(?<![\w:.])(?:(?:[0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}|(?:[0-9a-fA-F]{1,4}(?::[0-9a-fA-F]{1,4})*)?::(?:[0-9a-fA-F]{1,4}(?::[0-9a-fA-F]{1,4})*)?)(?![\w:])`,
  ].join('|'),
  'g',
);
const HARMLESS = /^(?:127\.\d+\.\d+\.\d+|0\.0\.0\.0|::1?|:+)$/;

function scrub(text: string): string {
  return text.replace(IDENTIFIER_TEXT, (m) => (HARMLESS.test(m) ? m : REDACTED));
}

const ERROR_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
// Library codes look like ECONNRESET, ERR_SOCKET_CLOSED or UNKNOWN_TOPIC_OR_PARTITION.
const ERROR_CODE = /^[A-Z][A-Z0-9_]{1,63}$/;
const MAX_CAUSES = 3;

// An error is written as its class, code, retriable flag, stack frames and cause, each checked:
// custom properties are left out, since any of them can hold the input the error was about.
// Messages of third-party errors are dropped (they can quote that input); ours are kept with
// identifier-shaped text masked.
function serializeError(err: unknown, depth = 0): Record<string, unknown> {
  if (!(err instanceof Error)) return { type: Array.isArray(err) ? 'array' : typeof err };
  const e = err as Error & { code?: unknown; retriable?: unknown };
  const code =
    typeof e.code === 'number' || (typeof e.code === 'string' && ERROR_CODE.test(e.code)) ? e.code : undefined;
  const ours = typeof code === 'string' && /^[A-Z]{2,4}_ERR_/.test(code);
  const out: Record<string, unknown> = {
    type: typeof e.name === 'string' && ERROR_NAME.test(e.name) ? e.name : REDACTED,
    code: code ?? (e.code === undefined ? undefined : REDACTED),
    retriable: typeof e.retriable === 'boolean' ? e.retriable : undefined,
    message: ours && typeof e.message === 'string' ? scrub(e.message) : undefined,
    // Only frame lines: a message with line breaks carries on into the stack's first lines.
    stack:
      typeof e.stack === 'string'
        ? e.stack
            .split('\n')
            .filter((l) => /^\s+at /.test(l))
            .slice(0, 7)
            .join('\n')
        : undefined,
  };
  if (e.cause !== undefined && depth < MAX_CAUSES) out.cause = serializeError(e.cause, depth + 1);
  return out;
}

// Callers are typed (fields, msg), but plain JavaScript and `as` casts reach here too: pino
// would write an object given as the message whole, and read a string given as fields as one.
function normalize(a: unknown, b: unknown): [Record<string, unknown>, string | undefined] {
  let fields: Record<string, unknown> = {};
  let msg: string | undefined;
  for (const x of [a, b]) {
    if (typeof x === 'string') {
      if (msg === undefined) msg = scrub(x);
    } else if (x instanceof Error) {
      if (fields.err === undefined) fields = { ...fields, err: x };
    } else if (x !== null && typeof x === 'object' && !Array.isArray(x)) {
      fields = { ...fields, ...(x as Record<string, unknown>) };
    } else if (x !== undefined) {
      // Numbers, arrays and the like carry no field names to check.
      fields = { ...fields, value: REDACTED };
    }
  }
  return [filter(fields), msg];
}

type Level = 'debug' | 'info' | 'warn' | 'error' | 'fatal';

function wrap(p: PinoLogger): Logger {
  const at = (level: Level) => (f: unknown, m?: unknown) => {
    const [fields, msg] = normalize(f, m);
    // Never undefined: pino would then write the message of an `err` field.
    p[level](fields, msg ?? '');
  };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    fatal: at('fatal'),
    child: (f) => wrap(p.child(normalize(f, undefined)[0])),
  };
}

export function createLogger(options: LoggerOptions): Logger {
  const p = pino(
    {
      level: options.level ?? 'info',
      base: { service: options.service },
      serializers: { err: (e: unknown) => serializeError(e) },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
  return wrap(p);
}
