// TypeScript shapes of the Avro records in ../avro. Keep the two in step: schemas.test.ts
// checks a sample of every type against its Avro schema.

export const EVENT_CATEGORIES = [
  'LOGIN',
  'SIGNALS',
  'MEDIA',
  'NEW_MAIL',
  'SENT_MAIL',
  'MAILBOX',
  'ACCESS',
  'PARTIAL',
  'DELETED_MAIL',
  'ACCOUNT',
] as const;
export type EventCategory = (typeof EVENT_CATEGORIES)[number];

export const IDENTIFIER_TYPES = [
  'E164',
  'IMSI',
  'IMEI',
  'SIP_URI',
  'TEL_URI',
  'EMAIL',
  'MAIL_ACCOUNT',
  'IPV4',
  'IPV6',
  'PROVIDER_ACCOUNT',
] as const;
export type IdentifierType = (typeof IDENTIFIER_TYPES)[number];

export const PARTY_ROLES = ['CALLER', 'CALLEE', 'ACCOUNT', 'SENDER', 'RECIPIENT', 'CLIENT', 'SERVER', 'OTHER'] as const;
export type PartyRole = (typeof PARTY_ROLES)[number];

export type DeliveryScope = 'IRI_ONLY' | 'IRI_AND_CC';

export interface Party {
  role: PartyRole;
  type: IdentifierType;
  value: string;
}

export interface NetworkInfo {
  transport: string;
  srcAddress: string;
  srcPort: number;
  dstAddress: string;
  dstPort: number;
}

export interface NormalizedEvent {
  eventId: string;
  tenant: string;
  category: EventCategory;
  action: string;
  occurredAtMicros: number;
  source: string;
  protocol: string;
  communicationId: string;
  parties: Party[];
  network: NetworkInfo | null;
  attributes: Record<string, string>;
  content: Buffer | null;
  contentType: string | null;
}

export interface MatchedEvent {
  liid: string;
  tenant: string;
  authorisationCountry: string;
  warrantVersion: number;
  deliver: DeliveryScope;
  lemfIds: string[];
  matchedRoles: PartyRole[];
  matchedAtMicros: number;
  event: NormalizedEvent;
  /**
   * The parties that matched a target (network addresses as CLIENT/SERVER parties). Optional in
   * TypeScript because records written before the field existed decode without it (Avro default []).
   */
  matchedParties?: Party[];
  /** The warrant's courtCaseId (Avro default ""; absent on older records). */
  courtCaseId?: string;
}

export type InterceptionKind = 'VOICE' | 'MESSAGING' | 'EMAIL' | 'DATA' | 'MULTIMEDIA';
export type WarrantState = 'ACTIVE' | 'SUSPENDED' | 'DEACTIVATED';

export interface ItalianAuthorisation {
  proceedingNumber: string;
  ritNumber: string;
  judge: string;
  authorisedOfficers: string[];
  operator: string;
}

export interface Target {
  id: string;
  type: IdentifierType;
  value: string;
}

/** Report selection as on CommuniGate's Intercept page (seed 000). */
export interface ReportSelection {
  login: boolean;
  signals: boolean;
  media: boolean;
  newMail: boolean;
  sentMail: boolean;
  mailbox: boolean;
  access: boolean;
  partial: boolean;
  deletedMail: boolean;
}

export interface Warrant {
  liid: string;
  tenant: string;
  authorisationCountry: string;
  courtCaseId: string;
  italian: ItalianAuthorisation | null;
  interceptionKind: InterceptionKind;
  targets: Target[];
  selection: ReportSelection;
  deliver: DeliveryScope;
  lemfIds: string[];
  validFromMicros: number;
  validUntilMicros: number;
  state: WarrantState;
  version: number;
  updatedAtMicros: number;
}

export type LemfTransport = 'ETSI_TCP' | 'HI2_TCP' | 'FTP' | 'SFTP' | 'EMAIL' | 'PIPE';

export interface Endpoint {
  host: string;
  port: number;
}

export interface TlsSettings {
  caRef: string | null;
  certRef: string | null;
  keyRef: string | null;
  serverName: string | null;
}

export interface FileSettings {
  directory: string;
  namePattern: string;
  maxRecords: number;
  maxBytes: number;
  maxSeconds: number;
  username: string | null;
  credentialRef: string | null;
  /**
   * SFTP: the server's host key as OpenSSH prints it, `SHA256:<base64 without padding>` (prefix
   * optional). A different key refuses the connection. Absent in records written before the field.
   */
  hostKeySha256?: string | null;
}

export interface EmailSettings {
  from: string;
  to: string[];
  username: string | null;
  credentialRef: string | null;
  startTls: boolean;
}

/** PIPE: the LEMF names an entry of cc-delivery's operator allow-list (`pipeCommands`), never a command. */
export interface PipeSettings {
  entry: string;
}

export interface LemfDestination {
  id: string;
  tenant: string;
  name: string;
  transport: LemfTransport;
  address: Endpoint | null;
  ccAddress: Endpoint | null;
  tls: TlsSettings | null;
  keepaliveSeconds: number;
  keepaliveTimeoutSeconds: number;
  acknowledged: boolean;
  timestampFormat: 'GENERALIZED_TIME' | 'MICROSECOND';
  files: FileSettings | null;
  email: EmailSettings | null;
  pipe: PipeSettings | null;
  /**
   * Accept a plaintext transport (see `plaintextSetting`); false or absent refuses it. Absent in
   * records written before the field.
   */
  allowInsecure?: boolean;
  enabled: boolean;
  version: number;
}

/** A tenant (li._system.tenants, key = id); see tenant.v1.avsc. */
export interface Tenant {
  id: string;
  name: string;
  defaultCountryCode: string;
  nationalTrunkPrefix: string | null;
  version: number;
  createdAtMicros: number;
}

export type AuditObjectType = 'TENANT' | 'LEMF' | 'WARRANT';

/**
 * One li.<t>.audit entry; see audit-record.v1.avsc. hash = SHA-256 hex over the canonical JSON
 * (keys sorted) of every other field; prevHash = previous entry's hash (64 zeros for seq 1).
 */
export interface AuditRecord {
  tenant: string;
  seq: number;
  atMicros: number;
  actor: string;
  role: string;
  action: string;
  objectType: AuditObjectType;
  objectId: string;
  before: string | null;
  after: string | null;
  reason: string | null;
  prevHash: string;
  hash: string;
}

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
