// kafkajs logs through its own logger. This routes its warnings and errors into ours, without
// payloads, and at the level an SRE should read them: a broker answer kafkajs retries (such as
// CONCURRENT_TRANSACTIONS just after a commit) is a warning, not an error.

import { createRequire } from 'node:module';
import type { LogFields, Logger } from '@li/log';
import { logLevel } from 'kafkajs';

interface KafkaLogEntry {
  message: string;
  error?: unknown;
  retryCount?: unknown;
}

// kafkajs's own table of protocol errors says which ones it retries; it exports no public copy.
function loadRetriableMessages(): ReadonlySet<string> {
  try {
    const table = createRequire(import.meta.url)('kafkajs/src/protocol/error.js') as {
      errorCodes: { message: string; retriable: boolean }[];
    };
    return new Set(table.errorCodes.filter((e) => e.retriable).map((e) => e.message));
  } catch {
    return new Set();
  }
}
const RETRIABLE = loadRetriableMessages();

// Group-membership answers that kafkajs's table marks not retriable, yet its consumer recovers
// from by rejoining the group (a rebalance, or a member the coordinator expired): warnings.
const REJOINED = new Set(
  ['REBALANCE_IN_PROGRESS', 'UNKNOWN_MEMBER_ID', 'ILLEGAL_GENERATION'].flatMap((type) => {
    try {
      const table = createRequire(import.meta.url)('kafkajs/src/protocol/error.js') as {
        errorCodes: { type: string; message: string }[];
      };
      return table.errorCodes.filter((e) => e.type === type).map((e) => e.message);
    } catch {
      return [];
    }
  }),
);

/** The level one kafkajs entry is logged at in ours, or null to drop it. */
export function kafkaEntryLevel(level: number, entry: KafkaLogEntry): 'error' | 'warn' | null {
  if (level === logLevel.ERROR) {
    const known = typeof entry.error === 'string' ? entry.error : '';
    const retried = entry.retryCount !== undefined || RETRIABLE.has(known) || REJOINED.has(known);
    return retried ? 'warn' : 'error';
  }
  if (level === logLevel.WARN) return 'warn';
  return null;
}

export function kafkaLogCreator(log: Logger) {
  return () =>
    ({ level, log: entry }: { level: number; log: KafkaLogEntry }) => {
      const to = kafkaEntryLevel(level, entry);
      if (!to) return;
      // kafkajs's error texts are protocol and socket messages; they carry no record content.
      const fields: LogFields = { component: 'kafkajs' };
      if (typeof entry.error === 'string') fields.reason = entry.error;
      log[to](fields, entry.message);
    };
}
