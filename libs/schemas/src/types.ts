// TypeScript shapes of the Avro records in ../avro: generated.ts is generated from them
// (scripts/generate-types.ts); this file adds what Avro does not say.
import type { EventCategory, ReportSelection } from './generated.ts';

export * from './generated.ts';

/** Maps a category to the selection flag that enables it; ACCOUNT events are never selected. */
export const SELECTION_FLAG: Record<EventCategory, keyof ReportSelection | null> = {
  LOGIN: 'login',
  SIGNALS: 'signals',
  MEDIA: 'media',
  NEW_MAIL: 'newMail',
  SENT_MAIL: 'sentMail',
  MAILBOX: 'mailbox',
  ACCESS: 'access',
  PARTIAL: 'partial',
  DELETED_MAIL: 'deletedMail',
  ACCOUNT: null,
};
