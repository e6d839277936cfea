// Loggers for tests (@li/log/testing): one that writes nothing, and one that keeps each call's
// level, fields and message as given (before the redaction a real logger applies), to assert on.
import type { LogFields, Logger } from './logger.ts';
import { createLogger } from './logger.ts';

export const silentLogger: Logger = createLogger({ service: 'test', level: 'silent' });

export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error' | 'fatal';
  fields: LogFields;
  msg: string;
}

export function recordingLogger(): { log: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: LogLine['level']) => (fields: LogFields, msg: string) => {
    lines.push({ level, fields, msg });
  };
  const log: Logger = {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    fatal: at('fatal'),
    child: () => log,
  };
  return { log, lines };
}
