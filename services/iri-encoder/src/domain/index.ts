// The iri-encoder domain: MatchedEvent -> ETSI records + explicit state changes (no Kafka).
export type { ApplyResult, EncodedRecord, EncoderOptions, RecordFormat, Skipped } from './apply.ts';
export { apply, DEFAULT_OPTIONS } from './apply.ts';
export type { EventRole, IriRecordType, ServiceKind } from './classify.ts';
export { roleOf, serviceOf } from './classify.ts';
export type { EncErrorCode } from './errors.ts';
export { ENC_ERR } from './errors.ts';
export type { Hi1Result } from './hi1.ts';
export { applyWarrant, hi1Key, notificationFor } from './hi1.ts';
export type {
  CinCounter,
  CommunicationEntry,
  EncoderState,
  ExpiryPolicy,
  Hi1Entry,
  SequenceEntry,
  StateChange,
  StateValue,
} from './state.ts';
export { cinKey, commit, commKey, emptyState, expire, MAX_CIN, restore, seqKey } from './state.ts';
export type { TenantCheck } from './tenant.ts';
export { checkMatchedTenant, checkWarrantTenant } from './tenant.ts';
