export { isSecretRef, plaintextSetting, SECRET_REF_PATTERN, secretRefsOf } from './lemf-policy.ts';
export type { SchemaName } from './schemas.ts';
export { SCHEMAS } from './schemas.ts';
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
  TlsSettings,
  Warrant,
  WarrantState,
} from './types.ts';
export { EVENT_CATEGORIES, IDENTIFIER_TYPES, PARTY_ROLES, SELECTION_FLAG } from './types.ts';
