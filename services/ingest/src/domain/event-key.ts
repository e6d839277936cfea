// The Kafka key of an event on li.<t>.events, which picks its partition: what must stay in order
// shares a key. A communication's events share its id (target-match, mcid-store and the encoder
// see them in order). Account events (rename, removal) share one key per tenant: admf applies
// them in order, and a rename and a later event about the new name have different accounts.
import type { NormalizedEvent } from '@li/schemas';

export const ACCOUNT_EVENTS_KEY = 'li.account-events';

export function eventKey(e: Pick<NormalizedEvent, 'category' | 'communicationId'>): string {
  return e.category === 'ACCOUNT' ? ACCOUNT_EVENTS_KEY : e.communicationId;
}
