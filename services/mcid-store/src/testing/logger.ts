// A logger that writes nothing, for tests that do not look at log lines.
import { createLogger, type Logger } from '@li/log';

export const silentLog: Logger = createLogger({ service: 'mcid-store-test', level: 'silent' });
