export { isSecretRef, plaintextSetting, SECRET_REF_PATTERN, secretRefsOf } from './lemf-policy.ts';
export type { SchemaName } from './schemas.ts';
export { SCHEMAS } from './schemas.ts';
export type {
  DeliveryStream,
  IdentifierTraits,
  MatchSpace,
  RecordFormat,
  SecretRefField,
  SettingsBlock,
  TargetMatch,
  TransportTraits,
} from './traits.ts';
export { EVENT_ACTIONS, IDENTIFIER_TRAITS, isKnownAction, TRANSPORT_TRAITS, transportCarries } from './traits.ts';
export type {
  AuditObjectType,
  AuditRecord,
  DeliveryScope,
  EmailSettings,
  Endpoint,
  EventCategory,
  FileSettings,
  IdentifierType,
  InterceptionKind,
  ItalianAuthorisation,
  LemfDestination,
  LemfTransport,
  MatchedEvent,
  NetworkInfo,
  NormalizedEvent,
  Party,
  PartyRole,
  PipeSettings,
  ReportSelection,
  Target,
  Tenant,
  TimestampFormat,
  TlsSettings,
  Warrant,
  WarrantState,
} from './types.ts';
export {
  AUDIT_OBJECT_TYPES,
  DELIVERY_SCOPES,
  EVENT_CATEGORIES,
  IDENTIFIER_TYPES,
  INTERCEPTION_KINDS,
  LEMF_TRANSPORTS,
  PARTY_ROLES,
  SELECTION_FLAG,
  TIMESTAMP_FORMATS,
  WARRANT_STATES,
} from './types.ts';
