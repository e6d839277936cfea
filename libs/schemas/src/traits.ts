// The variation points of the records as data: what each identifier type, LEMF transport and
// event category means to the services. Each table `satisfies Record<Union, ...>`, so a new Avro
// symbol fails compilation here until its traits are written down, and services that read a
// table instead of switching on the union need no change of their own.
import type { EventCategory, IdentifierType, LemfDestination, LemfTransport, TimestampProfile } from './generated.ts';

// ---- identifier types -------------------------------------------------------------------

/** How a target of this type finds events: one canonical value, or every address in a range. */
export type TargetMatch = 'exact' | 'address-range';

/**
 * The match-key space (@li/identifiers): types sharing a space find each other (E164 and TEL_URI;
 * EMAIL and a MAIL_ACCOUNT written as an address).
 */
export type MatchSpace = 'e164' | 'imsi' | 'imei' | 'sip' | 'sipinst' | 'mail' | 'acct' | 'pacct' | 'ip';

export interface IdentifierTraits {
  /** What the value is. */
  value: 'phone-number' | 'imsi' | 'imei' | 'uri' | 'urn' | 'mail-address' | 'account-name' | 'ip-address' | 'opaque';
  /** The canonical form @li/identifiers normalises to. */
  canonical: string;
  match: TargetMatch;
  space: MatchSpace;
  /** MAIL_ACCOUNT: an account written as an address uses this space instead. */
  addressSpace?: MatchSpace;
  /** Normalising reads the tenant's numbering plan (default country code, trunk prefix). */
  tenantNumbering: boolean;
  /** X1 TargetIdentifier element (TS 103 221-1) that names it in X2/X3 PDUs, if any. */
  x1Element: string | null;
  /** TS 101 671 HI2 PartyInformation.partyIdentity alternative that carries a party of this type. */
  hi2PartyIdentity: 'sip-uri' | 'tel-url' | 'imsi' | 'imei' | null;
  /** The ETSI fields that carry it (TS 102 232-x IRIs, TS 101 671 HI2), for reading only. */
  etsiFields: readonly string[];
}

export const IDENTIFIER_TRAITS = {
  E164: {
    value: 'phone-number',
    canonical: '+<country code><national number>',
    match: 'exact',
    space: 'e164',
    tenantNumbering: true,
    x1Element: 'e164Number',
    hi2PartyIdentity: 'tel-url',
    etsiFields: ['TS 101 671 PartyInformation.partyIdentity.tel-URL (tel:+digits)'],
  },
  IMSI: {
    value: 'imsi',
    canonical: '14-15 digits',
    match: 'exact',
    space: 'imsi',
    tenantNumbering: false,
    x1Element: 'imsi',
    hi2PartyIdentity: 'imsi',
    etsiFields: ['TS 101 671 PartyInformation.partyIdentity.imsi (TBCD)'],
  },
  IMEI: {
    value: 'imei',
    canonical: '14 digits (TAC+SNR; check digit and SV dropped)',
    match: 'exact',
    space: 'imei',
    tenantNumbering: false,
    x1Element: 'imei',
    hi2PartyIdentity: 'imei',
    etsiFields: ['TS 101 671 PartyInformation.partyIdentity.imei (TBCD, 8 octets)'],
  },
  SIP_URI: {
    value: 'uri',
    canonical: 'sip:user@host (a telephone-subscriber user as E.164)',
    match: 'exact',
    space: 'sip',
    tenantNumbering: true,
    x1Element: 'sipUri',
    hi2PartyIdentity: 'sip-uri',
    etsiFields: [
      'TS 101 671 PartyInformation.partyIdentity.sip-uri',
      'TS 102 232-5 IPMMIRI SIPMessage.sIPContent (inside the message)',
    ],
  },
  TEL_URI: {
    value: 'uri',
    canonical: 'tel:+<E.164>',
    match: 'exact',
    space: 'e164',
    tenantNumbering: true,
    x1Element: 'telUri',
    hi2PartyIdentity: 'tel-url',
    etsiFields: ['TS 101 671 PartyInformation.partyIdentity.tel-URL'],
  },
  EMAIL: {
    value: 'mail-address',
    canonical: 'local@domain, both lower case, domain as A-labels',
    match: 'exact',
    space: 'mail',
    tenantNumbering: false,
    x1Element: 'emailAddress',
    hi2PartyIdentity: null,
    etsiFields: [
      'TS 102 232-2 EmailIRI.e-mail-Sender / e-mail-Recipients',
      'TS 102 232-3 IPIRIContents.targetUsername (MSNP)',
    ],
  },
  MAIL_ACCOUNT: {
    value: 'account-name',
    canonical: 'account name lower case (an address as EMAIL)',
    match: 'exact',
    space: 'acct',
    addressSpace: 'mail',
    tenantNumbering: false,
    x1Element: null,
    hi2PartyIdentity: null,
    etsiFields: ['TS 102 232-2 EmailIRI.e-mail-Sender', 'TS 102 232-2 AAAInformation (POP3/SMTP username)'],
  },
  IPV4: {
    value: 'ip-address',
    canonical: 'dotted quad, a prefix a.b.c.d/n with host bits zeroed',
    match: 'address-range',
    space: 'ip',
    tenantNumbering: false,
    x1Element: 'ipv4Address',
    hi2PartyIdentity: null,
    etsiFields: [
      'TS 102 232-3 IPIRIContents.targetIPAddress',
      'TS 102 232-2 EmailIRI.clientAddress / serverAddress',
      'TS 102 232-5 SIPMessage.iPSourceAddress / iPDestinationAddress',
    ],
  },
  IPV6: {
    value: 'ip-address',
    canonical: 'RFC 5952 text, a prefix addr/n with host bits zeroed',
    match: 'address-range',
    space: 'ip',
    tenantNumbering: false,
    x1Element: 'ipv6Address',
    hi2PartyIdentity: null,
    etsiFields: [
      'TS 102 232-3 IPIRIContents.targetIPAddress',
      'TS 102 232-2 EmailIRI.clientAddress / serverAddress',
      'TS 102 232-5 SIPMessage.iPSourceAddress / iPDestinationAddress',
    ],
  },
  PROVIDER_ACCOUNT: {
    value: 'opaque',
    canonical: 'trimmed, case kept',
    match: 'exact',
    space: 'pacct',
    tenantNumbering: false,
    x1Element: null,
    hi2PartyIdentity: null,
    etsiFields: ['TS 102 232-3 IPIRIContents.targetUsername'],
  },
  // One device rather than a subscriber: the URN a SIP user agent puts in its Contact's
  // +sip.instance (RFC 5626), e.g. urn:uuid:<UUID>, or urn:gsma:imei:<IMEI> in IMS (3GPP TS 24.229).
  SIP_INSTANCE: {
    value: 'urn',
    canonical: 'urn:<nid>:<nss>, "urn", the NID and a UUID lower-cased',
    match: 'exact',
    space: 'sipinst',
    tenantNumbering: false,
    x1Element: null,
    hi2PartyIdentity: null,
    etsiFields: ['TS 102 232-5 SIPMessage (the Contact header of the intercepted SIP message carries it)'],
  },
} as const satisfies Record<IdentifierType, IdentifierTraits>;

// ---- LEMF transports --------------------------------------------------------------------

/** The two encodings of an IRI (cc-delivery record header). */
export type RecordFormat = 'TS102232' | 'TS101671';
/** What a record is: HI2 IRI, HI3 content, or a seed 000 report composed for e-mail/PIPE. */
export type DeliveryStream = 'HI2' | 'HI3' | 'REPORT';
/** A LemfDestination block a transport reads. */
export type SettingsBlock = keyof Pick<LemfDestination, 'address' | 'ccAddress' | 'tls' | 'files' | 'email' | 'pipe'>;
/** The fields of a LemfDestination that name a secret (see secretRefsOf). */
export type SecretRefField = 'tls.caRef' | 'tls.certRef' | 'tls.keyRef' | 'files.credentialRef' | 'email.credentialRef';

export interface TransportTraits {
  /** Record encodings it carries; records without a format always go. */
  formats: readonly RecordFormat[];
  streams: readonly DeliveryStream[];
  /** A connection carrying records one after another, files of batched records, or one mail per record. */
  unit: 'stream' | 'file' | 'message';
  /** Blocks cc-delivery needs to deliver (the transport fails with DLV_ERR_BAD_CONFIG without them). */
  requires: readonly SettingsBlock[];
  /** Blocks it reads when present. */
  optional: readonly SettingsBlock[];
  /** Secret references it resolves. */
  secrets: readonly SecretRefField[];
  /** The setting that makes it not plaintext (see plaintextSetting): null = always plaintext, 'local' = no network. */
  secureWith: 'tls' | 'files.hostKeySha256' | 'email.startTls' | 'local' | null;
  /** Sends TS 102 232-1 keep-alives (keepaliveSeconds, keepaliveTimeoutSeconds). */
  keepalive: boolean;
}

const BOTH_FORMATS: readonly RecordFormat[] = ['TS102232', 'TS101671'];
const TLS_SECRETS: readonly SecretRefField[] = ['tls.caRef', 'tls.certRef', 'tls.keyRef'];

export const TRANSPORT_TRAITS = {
  // An ETSI TCP LEMF only sees PS-PDUs and an HI2 TCP LEMF only TS 101 671 records: a record of
  // the other standard mid-stream would break its decoder.
  ETSI_TCP: {
    formats: ['TS102232'],
    streams: ['HI2', 'HI3'],
    unit: 'stream',
    requires: ['address'],
    optional: ['ccAddress', 'tls'],
    secrets: TLS_SECRETS,
    secureWith: 'tls',
    keepalive: true,
  },
  HI2_TCP: {
    formats: ['TS101671'],
    streams: ['HI2', 'HI3'],
    unit: 'stream',
    requires: ['address'],
    optional: ['tls'],
    secrets: TLS_SECRETS,
    secureWith: 'tls',
    keepalive: false,
  },
  // Files: the transport carries both encodings; each LEMF's files.format picks the one its files
  // hold (fileSelection; cc-delivery formats.ts), so a file never mixes them.
  FTP: {
    formats: BOTH_FORMATS,
    streams: ['HI2', 'HI3'],
    unit: 'file',
    requires: ['address', 'files'],
    optional: [],
    secrets: ['files.credentialRef'],
    secureWith: null,
    keepalive: false,
  },
  SFTP: {
    formats: BOTH_FORMATS,
    streams: ['HI2', 'HI3'],
    unit: 'file',
    requires: ['address', 'files'],
    optional: [],
    secrets: ['files.credentialRef'],
    secureWith: 'files.hostKeySha256',
    keepalive: false,
  },
  // E-mail and PIPE LEMFs take the seed 000 reports only: an HI2/HI3 PS-PDU is no e-mail.
  EMAIL: {
    formats: BOTH_FORMATS,
    streams: ['REPORT'],
    unit: 'message',
    requires: ['address', 'email'],
    optional: ['tls'],
    secrets: ['email.credentialRef', 'tls.caRef'],
    secureWith: 'email.startTls',
    keepalive: false,
  },
  PIPE: {
    formats: BOTH_FORMATS,
    streams: ['REPORT'],
    unit: 'stream',
    requires: ['pipe'],
    optional: [],
    secrets: [],
    secureWith: 'local',
    keepalive: false,
  },
  // PacketCable 2.0 (seed 000 `pkcable:`): media as Call Content Connection datagrams (UDP, no
  // TLS) to ccAddress, the media-collecting server, else to address, the collecting server. The
  // Call Data Connection (PCESP signalling messages) is not built: HI2 does not go this way yet.
  PKT_CABLE: {
    formats: ['TS102232'],
    streams: ['HI3'],
    unit: 'stream',
    requires: ['address'],
    optional: ['ccAddress'],
    secrets: [],
    secureWith: null,
    keepalive: false,
  },
} as const satisfies Record<LemfTransport, TransportTraits>;

/** True when a LEMF on this transport takes a record of this stream and format (no format: any). */
export function transportCarries(transport: LemfTransport, stream: DeliveryStream, format?: string): boolean {
  const t: TransportTraits | undefined = TRANSPORT_TRAITS[transport];
  if (!t) return false; // a transport from a newer peer: carry nothing rather than guess
  return t.streams.includes(stream) && (!format || (t.formats as readonly string[]).includes(format));
}

// ---- timestamp profiles -----------------------------------------------------------------

/**
 * How a LEMF's PDUs write their times. cc-delivery applies the row to each record the encoder
 * wrote once per LIID (libs/etsi time-rules.ts), and to the keep-alives it writes itself.
 */
export interface TimestampProfileRules {
  /** PSHeader time fields: as encoded (timeStamp [5] and microSecondTimeStamp [7]), or only one of them. */
  headerTime: 'AS_ENCODED' | 'GENERALIZED_TIME' | 'MICROSECOND';
  /**
   * Fraction digits of every GeneralizedTime (header, payload, IPIRI start/end, TS 101 671 and HI1
   * local times), truncated or zero-padded; null keeps the encoder's: the shortest exact form, no
   * fraction on a whole second (X.690 canonical).
   */
  fractionDigits: 0 | 3 | 6 | null;
  /** PSHeader timeStampQualifier [8]: as encoded, or left out. */
  headerQualifier: 'AS_ENCODED' | 'OMIT';
}

// Receivers built on OpenLI's decoder library read a GeneralizedTime only with exactly three
// fraction digits (none crashes it, ".5Z" reads as 5 ms, six digits overflow): the *_MS rows.
export const TIMESTAMP_PROFILE_RULES = {
  /** The records as the encoder wrote them: today's bytes. */
  ETSI_DEFAULT: { headerTime: 'AS_ENCODED', fractionDigits: null, headerQualifier: 'AS_ENCODED' },
  /** Exactly milliseconds in every GeneralizedTime; for receivers on OpenLI's decoder library. */
  MILLISECONDS: { headerTime: 'AS_ENCODED', fractionDigits: 3, headerQualifier: 'AS_ENCODED' },
  /** Exactly microseconds in every GeneralizedTime. */
  MICROSECONDS: { headerTime: 'AS_ENCODED', fractionDigits: 6, headerQualifier: 'AS_ENCODED' },
  /** No fraction (the header's microSecondTimeStamp keeps the precision). */
  WHOLE_SECONDS: { headerTime: 'AS_ENCODED', fractionDigits: 0, headerQualifier: 'AS_ENCODED' },
  /** Header timeStamp only, milliseconds everywhere: what OpenLI sends an agency set to `generalized`. */
  GENERALIZED_TIME_MS: { headerTime: 'GENERALIZED_TIME', fractionDigits: 3, headerQualifier: 'AS_ENCODED' },
  /** Header microSecondTimeStamp only, milliseconds elsewhere: OpenLI's default header. */
  MICROSECOND_HEADER_MS: { headerTime: 'MICROSECOND', fractionDigits: 3, headerQualifier: 'AS_ENCODED' },
  /**
   * Header timeStamp only and no qualifier, milliseconds everywhere: no header time field after the
   * PSHeader's extension marker, for decoders that refuse fields they do not know.
   */
  HEADER_TIMESTAMP_ONLY_MS: { headerTime: 'GENERALIZED_TIME', fractionDigits: 3, headerQualifier: 'OMIT' },
} as const satisfies Record<TimestampProfile, TimestampProfileRules>;

// ---- event actions ----------------------------------------------------------------------

/**
 * The `action` values ingest writes, per category. `*` stands for one producer-filled segment:
 * `sip.*` the lower-case SIP method, `x2.*`/`x3.*` the X2/X3 payload format name, `*.login` the
 * mail service a server event names (`*.logout` too), or `sip` (a registration that binds). A
 * category shares no action with another, except `msnp.invite` (MEDIA when it offers a media
 * session, else SIGNALS).
 */
export const EVENT_ACTIONS = {
  LOGIN: [
    'smtp.login',
    'smtp.login.failed',
    'imap.login',
    'imap.login.failed',
    'pop3.login',
    'pop3.login.failed',
    '*.login',
    '*.login.failed',
    // The end of a logged-in session: at QUIT/LOGOUT, or `closed` when the connection ended without.
    'smtp.logout',
    'smtp.closed',
    'imap.logout',
    'imap.closed',
    'pop3.logout',
    'pop3.closed',
    '*.logout',
    'msnp.signin',
    'msnp.signin.failed',
  ],
  SIGNALS: [
    'sip.*',
    'sip.response',
    'smtp.starttls',
    'imap.starttls',
    'imap.compress',
    'pop3.stls',
    'msnp.signout',
    'msnp.closed',
    'msnp.sb.closed',
    'msnp.presence',
    'msnp.referral',
    'msnp.ring',
    'msnp.typing',
    'msnp.invite',
    'msnp.msg',
    'msnp.msg.other',
    'msnp.p2p',
    'msnp.sb.answer',
    'msnp.sb.call',
    'msnp.sb.join',
    'msnp.sb.leave',
    'msnp.sb.referral',
    'msnp.sb.roster',
    'msnp.sb.session',
    // A direct transfer (MSNFTP file or other peer-to-peer session) an invitation announced.
    'msnp.ft.start',
    'msnp.ft.data',
    'msnp.ft.end',
    'x2.*',
  ],
  // media.rtp / media.rtcp / media.udptl: a tapped call's packets (ingest's MediaTracker)
  MEDIA: ['msnp.invite', 'x3.*', 'media.rtp', 'media.rtcp', 'media.udptl'],
  NEW_MAIL: ['imap.append', 'imap.copy', 'imap.move', 'mail.delivered', 'message.stored'],
  SENT_MAIL: ['smtp.send', 'submission.send', 'message.sent'],
  MAILBOX: [
    'imap.mailbox.created',
    'imap.mailbox.removed',
    'imap.mailbox.renamed',
    'mailbox.created',
    'mailbox.removed',
    'mailbox.renamed',
  ],
  // `*.deleted`: messages removed (the Access report's "messages deleted"), beside DELETED_MAIL.
  ACCESS: ['imap.fetch', 'pop3.retr', 'message.read', 'imap.deleted', 'pop3.deleted'],
  PARTIAL: ['imap.fetch.partial', 'pop3.top', 'message.partial'],
  DELETED_MAIL: ['imap.close', 'imap.expunge', 'pop3.dele', 'message.deleted'],
  ACCOUNT: ['account.renamed', 'account.removed'],
} as const satisfies Record<EventCategory, readonly string[]>;

function actionMatches(pattern: string, action: string): boolean {
  const star = pattern.indexOf('*');
  if (star === -1) return pattern === action;
  const head = pattern.slice(0, star);
  const tail = pattern.slice(star + 1);
  if (action.length <= head.length + tail.length || !action.startsWith(head) || !action.endsWith(tail)) return false;
  return !action.slice(head.length, action.length - tail.length).includes('.');
}

/** True when ingest writes this action for this category (EVENT_ACTIONS, `*` one segment). */
export function isKnownAction(category: EventCategory, action: string): boolean {
  return (EVENT_ACTIONS[category] as readonly string[]).some((p) => actionMatches(p, action));
}
