export type { LogFields, Logger, LoggerOptions, SafeKey } from './logger.ts';
export { createLogger, REDACTED, SAFE_KEYS } from './logger.ts';
