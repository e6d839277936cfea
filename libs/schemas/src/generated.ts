// Generated from ../avro/*.avsc by scripts/generate-types.ts: do not edit; change the schema and run
// `npm run generate` in libs/schemas.

export const AUDIT_OBJECT_TYPES = ['TENANT', 'LEMF', 'WARRANT'] as const;
export type AuditObjectType = (typeof AUDIT_OBJECT_TYPES)[number];

/**
 * The report kinds of CommuniGate's Intercept page (seed 000); ACCOUNT is administrative (rename/remove) and never
 * selected.
 */
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
  'SIP_INSTANCE',
] as const;
export type IdentifierType = (typeof IDENTIFIER_TYPES)[number];

/** Avro enum default: a symbol of a newer writer unknown here resolves to OTHER. */
export const PARTY_ROLES = ['CALLER', 'CALLEE', 'ACCOUNT', 'SENDER', 'RECIPIENT', 'CLIENT', 'SERVER', 'OTHER'] as const;
export type PartyRole = (typeof PARTY_ROLES)[number];

/** IRI only, or IRI and content of communication. */
export const DELIVERY_SCOPES = ['IRI_ONLY', 'IRI_AND_CC'] as const;
export type DeliveryScope = (typeof DELIVERY_SCOPES)[number];

export const LEMF_TRANSPORTS = ['ETSI_TCP', 'HI2_TCP', 'FTP', 'SFTP', 'EMAIL', 'PIPE', 'PKT_CABLE'] as const;
export type LemfTransport = (typeof LEMF_TRANSPORTS)[number];

/** Avro enum default: a symbol of a newer writer unknown here resolves to GENERALIZED_TIME. */
export const TIMESTAMP_FORMATS = ['GENERALIZED_TIME', 'MICROSECOND'] as const;
export type TimestampFormat = (typeof TIMESTAMP_FORMATS)[number];

/** Avro enum default: a symbol of a newer writer unknown here resolves to ETSI_DEFAULT. */
export const TIMESTAMP_PROFILES = [
  'ETSI_DEFAULT',
  'MILLISECONDS',
  'MICROSECONDS',
  'WHOLE_SECONDS',
  'GENERALIZED_TIME_MS',
  'MICROSECOND_HEADER_MS',
  'HEADER_TIMESTAMP_ONLY_MS',
] as const;
export type TimestampProfile = (typeof TIMESTAMP_PROFILES)[number];

export const FILE_STREAMS = ['HI2', 'HI3'] as const;
export type FileStream = (typeof FILE_STREAMS)[number];

/** Avro enum default: a symbol of a newer writer unknown here resolves to TS102232. */
export const FILE_FORMATS = ['TS102232', 'TS101671'] as const;
export type FileFormat = (typeof FILE_FORMATS)[number];

export const ITALIAN_INTERCEPTION_TYPES = ['TELEFONICA', 'TELEMATICA', 'AMBIENTALE'] as const;
export type ItalianInterceptionType = (typeof ITALIAN_INTERCEPTION_TYPES)[number];

export const INTERCEPTION_KINDS = ['VOICE', 'MESSAGING', 'EMAIL', 'DATA', 'MULTIMEDIA'] as const;
export type InterceptionKind = (typeof INTERCEPTION_KINDS)[number];

export const WARRANT_STATES = ['ACTIVE', 'SUSPENDED', 'DEACTIVATED'] as const;
export type WarrantState = (typeof WARRANT_STATES)[number];

/**
 * Who did what to which object, when, with the object before and after. Topic li.<t>.audit, never deleted. Each record
 * carries the SHA-256 of the previous one (hash chain). Key: seq.
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
  /** canonical JSON of the object before */
  before: string | null;
  after: string | null;
  reason: string | null;
  /** hash of the previous entry; 64 zeros for seq 1 */
  prevHash: string;
  /** SHA-256 hex over the canonical JSON (keys sorted) of every other field */
  hash: string;
}

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
  /** placeholders {liid} {seq} {ts} {lemf} */
  namePattern: string;
  maxRecords: number;
  maxBytes: number;
  maxSeconds: number;
  username: string | null;
  credentialRef: string | null;
  /**
   * SFTP: pinned server host key, OpenSSH fingerprint form SHA256:<base64 without padding> (prefix optional); null =
   * not pinned. Absent in records written before the field existed.
   */
  hostKeySha256?: string | null;
  /**
   * which records the LEMF's files hold: HI2 (IRI), HI3 (CC) or both; default both. Absent in records written before
   * the field existed.
   */
  streams?: FileStream[];
  /**
   * the one encoding the LEMF's files hold: TS102232 PS-PDUs (every IRI and CC) or TS101671 HI2 records (IRI of
   * warrants that write them; no CC); never both. Absent in records written before the field existed.
   */
  format?: FileFormat;
}

export interface EmailSettings {
  from: string;
  to: string[];
  username: string | null;
  credentialRef: string | null;
  startTls: boolean;
}

export interface PipeSettings {
  /** name of an entry of cc-delivery's operator allow-list (pipeCommands), which holds the command; never a command */
  entry: string;
}

export interface IpsecSettings {
  /**
   * it-annex2 (IKEv1 main mode, PSK, aes128-sha1-modp1024, ESP aes128-sha1, no PFS) or modern (IKEv2, AES-GCM-256,
   * ECP-256/X25519, certificates)
   */
  profile: string;
  /** the LEMF's IPsec gateway address (IKE peer) */
  gateway: string;
  /** our IKE address; null = any */
  localAddress: string | null;
  /** our traffic selectors (CIDR) */
  localTs: string[];
  /** the LEMF's traffic selectors (CIDR); its delivery addresses must lie inside */
  remoteTs: string[];
  /** our IKE identity; null = our address (PSK) or our certificate's subject */
  localId: string | null;
  /** the LEMF gateway's IKE identity; null = its address */
  remoteId: string | null;
  /** secret holding the pre-shared key (it-annex2) */
  pskRef: string | null;
  /** secret holding our certificate, PEM (modern) */
  certRef: string | null;
  /** secret holding our private key, PEM (modern) */
  keyRef: string | null;
  /** secret holding the CA certificate that signs the LEMF gateway's certificate, PEM (modern) */
  caRef: string | null;
}

/** Where and how one LEMF receives its records. Secrets are referenced by name, never stored here. Key: LEMF id. */
export interface LemfDestination {
  id: string;
  tenant: string;
  name: string;
  transport: LemfTransport;
  /** HI2 (or the only) endpoint */
  address: Endpoint | null;
  /** HI3 endpoint for ETSI_TCP */
  ccAddress: Endpoint | null;
  tls: TlsSettings | null;
  keepaliveSeconds: number;
  keepaliveTimeoutSeconds: number;
  /** the LEMF acknowledges PDUs */
  acknowledged: boolean;
  /** superseded by timestampProfile and read by nothing; kept so records and API clients that set it still work */
  timestampFormat: TimestampFormat;
  /**
   * how the times of the LEMF's PDUs are written (header time fields, GeneralizedTime fraction digits, qualifier): a
   * row of TIMESTAMP_PROFILES in traits.ts; ETSI_DEFAULT sends the records as encoded
   */
  timestampProfile: TimestampProfile;
  files: FileSettings | null;
  email: EmailSettings | null;
  pipe: PipeSettings | null;
  /**
   * site-to-site IPsec tunnel the LEMF's traffic must take (strongSwan, driven by cc-delivery over VICI); delivery
   * waits while it is down; null = none. Absent in records written before the field existed.
   */
  ipsec?: IpsecSettings | null;
  /**
   * accept a plaintext transport (FTP, TCP without tls, SMTP without STARTTLS, SFTP without a pinned host key); false
   * refuses it. Absent in records written before the field existed.
   */
  allowInsecure?: boolean;
  enabled: boolean;
  version: number;
}

/** One event for one warrant: target-match writes one per (event, LIID). Key: LIID. */
export interface MatchedEvent {
  liid: string;
  tenant: string;
  /** ISO 3166-1 alpha-2 */
  authorisationCountry: string;
  warrantVersion: number;
  deliver: DeliveryScope;
  lemfIds: string[];
  /** the roles in which a target took part: gives the direction */
  matchedRoles: PartyRole[];
  matchedAtMicros: number;
  event: NormalizedEvent;
  /**
   * the parties of the event (or its network addresses, as CLIENT/SERVER) that matched a target of the warrant. Absent
   * in records written before the field existed.
   */
  matchedParties?: Party[];
  /** the warrant's courtCaseId. Absent in records written before the field existed. */
  courtCaseId?: string;
}

export interface Party {
  role: PartyRole;
  type: IdentifierType;
  /** as seen; target-match normalises before lookup */
  value: string;
}

export interface NetworkInfo {
  /** udp, tcp, tls, sctp */
  transport: string;
  srcAddress: string;
  srcPort: number;
  dstAddress: string;
  dstPort: number;
}

/**
 * What ingest saw on the network or was told by a mail server, in one shape for every protocol. Key: communicationId.
 */
export interface NormalizedEvent {
  /** UUID, unique per event */
  eventId: string;
  tenant: string;
  category: EventCategory;
  /** protocol-level action, e.g. sip.invite, sip.response, imap.login, smtp.send, msnp.msg, mail.stored */
  action: string;
  /** UTC, microseconds since the Unix epoch */
  occurredAtMicros: number;
  /** ingest adapter: sip, pcap, mail-events, x2x3 */
  source: string;
  /** SIP, SMTP, POP3, IMAP, MSNP, ... */
  protocol: string;
  /** Call-ID, TCP flow, mail session or account: one communication for CIN allocation */
  communicationId: string;
  /** every identifier the event involves, each with its role */
  parties: Party[];
  network: NetworkInfo | null;
  /** protocol details: method, status, mailbox, uid, messageId, ... */
  attributes: Record<string, string>;
  /** the raw message or packet payload, for CC */
  content: Buffer | null;
  contentType: string | null;
}

/**
 * A call whose media ingest captures as content: target-match writes it when a SIP event of the call matches a warrant;
 * a tombstone (null) ends it (BYE, CANCEL, failed call, warrant ended). Key: communicationId (the Call-ID).
 */
export interface Tap {
  tenant: string;
  /** the Call-ID, as on the call's events */
  communicationId: string;
  /** the warrants the call matched */
  liids: string[];
  /** UTC µs when target-match wrote it */
  tappedAtMicros: number;
  /** UTC µs after which ingest drops the tap even without a tombstone */
  expiresAtMicros: number;
}

/**
 * A tenant (a virtual telephony provider, or the carrier itself). Topic li._system.tenants, compacted. Key: tenant id.
 */
export interface Tenant {
  id: string;
  name: string;
  /** country calling code for national numbers, e.g. 39 */
  defaultCountryCode: string;
  nationalTrunkPrefix: string | null;
  version: number;
  createdAtMicros: number;
}

export interface ItalianTechnicalData {
  /** server di appoggio */
  supportServer: string;
  /** numero della sessione di ascolto */
  listeningSessionNumber: string;
  /** rubrica associata */
  addressBook: string;
  /** linee d'appoggio */
  supportLines: string[];
  /** indirizzo del server FTP for the data contents: ftp://, ftps:// or sftp:// URL */
  ftpServerAddress: string;
  recordedAtMicros: number;
}

export interface ItalianAuthorisation {
  proceedingNumber: string;
  ritNumber: string;
  judge: string;
  authorisedOfficers: string[];
  operator: string;
  /**
   * tipologia (seed 001 Art. 9 c.1 a): telefonica, telematica or ambientale (environmental, via probes the LEMF
   * supplier installs, Art. 9 c.7); null only in records written before the field existed. Absent in records written
   * before the field existed.
   */
  interceptionType?: ItalianInterceptionType | null;
  /**
   * dati tecnici (seed 001 Art. 9 c.3-4) the operator starts transmission with; null until recorded. Absent in records
   * written before the field existed.
   */
  technicalData?: ItalianTechnicalData | null;
}

export interface Target {
  id: string;
  type: IdentifierType;
  /**
   * normalised by @li/identifiers (E.164 +digits, IMEI 14 digits, sip:user@host, tel:+digits, lower-case mail, RFC 5952
   * IPv6); IPv4/IPv6 may be a prefix a.b.c.d/n
   */
  value: string;
  /**
   * E164 only: value is an incomplete number (seed 001 Art. 9 c.1 e), a prefix matching every number that starts with
   * it. Absent in records written before the field existed.
   */
  incomplete?: boolean;
}

/** Report selection as on CommuniGate's Intercept page (seed 000) */
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

/**
 * A warrant as admf keeps it; the compacted li.<t>.warrants topic is its single source of truth. Key:
 * <authorisationCountry>:<LIID> (an LIID is unique only per tenant and authorising country).
 */
export interface Warrant {
  /** 1-25 alphanumerics */
  liid: string;
  tenant: string;
  /** ISO 3166-1 alpha-2 */
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
