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
    else out[k] = v;
  }
  return out;
}

// Only an error's class, code and stack frames are logged: messages of third-party errors
// can quote the input they failed on.
function serializeError(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { type: typeof err };
  const e = err as Error & { code?: unknown; retriable?: unknown };
  const ours = typeof e.code === 'string' && /^[A-Z]{2,4}_ERR_/.test(e.code);
  return {
    type: e.name,
    code: typeof e.code === 'string' || typeof e.code === 'number' ? e.code : undefined,
    retriable: typeof e.retriable === 'boolean' ? e.retriable : undefined,
    // Our own error messages are written to be safe to log; others are not trusted.
    message: ours ? e.message : undefined,
    stack: e.stack?.split('\n').slice(1, 8).join('\n'),
  };
}

function wrap(p: PinoLogger): Logger {
  return {
    debug: (f, m) => p.debug(filter(f), m),
    info: (f, m) => p.info(filter(f), m),
    warn: (f, m) => p.warn(filter(f), m),
    error: (f, m) => p.error(filter(f), m),
    fatal: (f, m) => p.fatal(filter(f), m),
    child: (f) => wrap(p.child(filter(f))),
  };
}

export function createLogger(options: LoggerOptions): Logger {
  const p = pino(
    {
      level: options.level ?? 'info',
      base: { service: options.service },
      serializers: { err: serializeError },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? pino.destination({ dest: 1, sync: false }),
  );
  return wrap(p);
}
