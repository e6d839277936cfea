// Step 3 of apply(): the record values of @li/etsi for one event (no encoding, no state), from
// a table keyed by the service and the role: which IRI (and which eMailEvent or accessEventType
// in it) and which CC content.

import { CodedError, unreachable } from '@li/core';
import {
  AAA_RESULT,
  type AaaInformation,
  ACCESS_EVENT_TYPE,
  CALL_DIRECTION,
  type CcContents,
  EMAIL_EVENT,
  EMAIL_FORMAT,
  EMAIL_PROTOCOL,
  EMAIL_STATUS,
  type EmailIri,
  FRAME_TYPE,
  type Hi2Iri,
  INTERNET_ACCESS_TYPE,
  IP_ASSIGNMENT,
  IP_VERSION,
  type IpAddress,
  type IpIriContents,
  type IpmmCc,
  IRI_VERSION_LAST,
  type IriContents,
  ipAddressFromString,
  MMCC_PROTOCOL,
  type NetworkElementIdentifier,
  PARTY_QUALIFIER,
  PAYLOAD_DIRECTION,
  type PartyInformation,
  WINTER_SUMMER,
} from '@li/etsi';
import { IDENTIFIER_TRAITS, type MatchedEvent, type NormalizedEvent, type Party, type PartyRole } from '@li/schemas';
import { type EncErrorCode, encErrors } from '../errors.ts';
import type { EncodedRole, IriRecordType, ServiceKind } from './classify.ts';
import type { EncoderOptions } from './options.ts';
import { isMsnpMessage, msnpPackets } from './packet.ts';
import type { Allocation } from './state.ts';

/** An IRI or CC the event should give but has no record format for (the DLQ says which). */
export interface Skipped {
  what: 'IRI' | 'CC';
  reason: string;
}

/** One CC content; encode.ts splits it into segments, each wrapped into a CC PDU. */
export interface CcValue {
  content: Uint8Array;
  direction: number;
  wrap: (part: Uint8Array) => CcContents;
}

interface IriValue {
  type: IriRecordType;
  contents: IriContents;
  /** Set for IPMMIRI and IPIRI; EmailIRI carries no session direction. */
  sessionDirection?: number;
  /** The TS 101 671 twin, for authorisation countries that want one. */
  hi2?: Hi2Iri;
}

export interface Values {
  iri?: IriValue;
  cc: CcValue[];
  skipped: Skipped[];
}

/** What a table entry gives; the IRI's type and TS 101 671 twin come from the allocation. */
interface Built {
  iri?: { contents: IriContents; sessionDirection?: number };
  cc: CcValue[];
  skipped: Skipped[];
}

type Builder = (m: MatchedEvent) => Built;

// The choices per record type. Media (ccOnly) is keyed by its communication's service.
const VALUES: { readonly [S in ServiceKind]: { readonly [R in EncodedRole]: Builder } } = {
  sip: {
    open: sipValues,
    inside: sipValues,
    insideOrReport: sipValues,
    answer: sipValues,
    inviteFailure: sipValues,
    close: sipValues,
    report: sipValues,
    ccOnly: sipMedia,
  },
  // mailRole gives mail events only open, insideOrReport, report and close.
  email: {
    open: emailValues((e) => mailEvent(e, false)),
    inside: emailValues((e) => mailEvent(e, false)),
    insideOrReport: emailValues((e) => mailEvent(e, false)),
    answer: emailValues((e) => mailEvent(e, false)),
    inviteFailure: emailValues((e) => mailEvent(e, false)),
    close: emailValues(() => EMAIL_EVENT.logoff),
    report: emailValues((e) => mailEvent(e, true)),
    ccOnly: otherMedia,
  },
  ip: {
    open: ipValues(ACCESS_EVENT_TYPE.accessAccept),
    inside: ipValues(ACCESS_EVENT_TYPE.interimUpdate),
    insideOrReport: ipValues(ACCESS_EVENT_TYPE.interimUpdate),
    answer: ipValues(ACCESS_EVENT_TYPE.interimUpdate),
    inviteFailure: ipValues(ACCESS_EVENT_TYPE.interimUpdate),
    close: ipValues(ACCESS_EVENT_TYPE.accessEnd),
    report: ipValues(ACCESS_EVENT_TYPE.accessReject),
    ccOnly: otherMedia,
  },
};

/** The values of one event's records. Throws a CodedError when the event lacks what they need. */
export function buildValues(m: MatchedEvent, role: EncodedRole, a: Allocation, o: EncoderOptions): Values {
  const built = VALUES[a.service][role](m);
  if (!built.iri || a.iriType === undefined) return { cc: built.cc, skipped: built.skipped };
  const iri: IriValue = { type: a.iriType, ...built.iri };
  if (o.ts101671Countries.includes(m.authorisationCountry)) {
    iri.hi2 = hi2Iri(m, a.iriType, a.cin, a.service, {
      operatorIdentifier: o.operatorIdentifier,
      countryCode: m.authorisationCountry,
      ...(o.hi2NetworkElement ? { networkElement: o.hi2NetworkElement } : {}),
    });
  }
  return { iri, cc: built.cc, skipped: built.skipped };
}

/** The DLQ reason is the sentence given here, so the table's message is not prefixed to it. */
function invalid(code: EncErrorCode, reason: string): never {
  throw new CodedError(code, { ...encErrors.table[code], message: reason });
}

const skip = (what: Skipped['what'], reason: string): Built => ({ cc: [], skipped: [{ what, reason }] });

/** The event's content goes out as CC: the warrant asks for it and there is some. */
function hasCc(m: MatchedEvent): m is MatchedEvent & { event: { content: Uint8Array } } {
  return m.deliver === 'IRI_AND_CC' && !!m.event.content && m.event.content.length > 0;
}

const ipccPackets = (part: Uint8Array): CcContents => ({
  kind: 'iPCC',
  value: { contents: { kind: 'iPPackets', packets: part } },
});

/** IPCC for an MSNP message: one CC content per rebuilt IP packet (packet.ts). */
function msnpCc(m: MatchedEvent, packets: Buffer[]): CcValue[] {
  const direction = sessionDirection(m);
  return packets.map((content) => ({ content, direction, wrap: ipccPackets }));
}

function sipValues(m: MatchedEvent): Built {
  return { iri: { contents: sipIri(m.event), sessionDirection: sessionDirection(m) }, cc: [], skipped: [] };
}

function emailValues(eventTypeOf: (e: NormalizedEvent) => number | undefined): Builder {
  return (m) => {
    const e = m.event;
    const eventType = eventTypeOf(e);
    if (eventType === undefined) return skip('IRI', `no e-mail event type for ${e.category}`);
    const contents = emailIri(m, eventType);
    if (!hasCc(m) || !CC_EMAIL_EVENTS.has(eventType)) return { iri: { contents }, cc: [], skipped: [] };
    const cc: CcValue = {
      content: m.event.content,
      direction: emailCcDirection(m, eventType),
      wrap: (part) => ({ kind: 'emailCC', value: { format: EMAIL_FORMAT.application, content: part } }),
    };
    return { iri: { contents }, cc: [cc], skipped: [] };
  };
}

function ipValues(accessEventType: number): Builder {
  return (m) => {
    const iri = { contents: ipIri(m, accessEventType), sessionDirection: sessionDirection(m) };
    if (!hasCc(m)) return { iri, cc: [], skipped: [] };
    const e = m.event;
    if (isIpPacket(e)) {
      return { iri, cc: [{ content: e.content, direction: sessionDirection(m), wrap: ipccPackets }], skipped: [] };
    }
    if (isMsnpMessage(e)) {
      // Messaging captured on the wire: IPCC (TS 102 232-3) of the message's packets, rebuilt
      // from the flow and the captured MSG payload (packet.ts).
      const packets = msnpPackets(e);
      if (packets.length > 0) return { iri, cc: msnpCc(m, packets), skipped: [] };
      return { iri, ...skip('CC', 'MSNP message without IP addresses to rebuild its packets') };
    }
    // IPCC carries whole IP packets; other application payloads have no CC format here.
    return { iri, ...skip('CC', `content type ${e.contentType ?? 'unknown'} is not an IP packet`) };
  };
}

/** Media of a SIP communication: IPMMCC (TS 102 232-5). */
function sipMedia(m: MatchedEvent): Built {
  return media(m, () => true);
}

/** Media of other communications: RTP as IPMMCC, IP packets and MSNP messages as IPCC. */
function otherMedia(m: MatchedEvent): Built {
  return media(m, isRtp);
}

function media(m: MatchedEvent, asIpmm: (e: NormalizedEvent) => boolean): Built {
  const e = m.event;
  if (!e.content || e.content.length === 0) return skip('CC', 'media event without content');
  const direction = mediaDirection(m);
  if (asIpmm(e)) {
    const wrap = (part: Uint8Array): CcContents => ({ kind: 'iPMMCC', value: ipmmCc(e, part) });
    return { cc: [{ content: e.content, direction, wrap }], skipped: [] };
  }
  if (isIpPacket(e)) return { cc: [{ content: e.content, direction, wrap: ipccPackets }], skipped: [] };
  // MSNP invitations to voice/video (category MEDIA) carry the MSG payload: IPCC as for chat.
  const packets = msnpPackets(e);
  if (packets.length > 0) return { cc: msnpCc(m, packets), skipped: [] };
  return skip('CC', `no CC format for content type ${e.contentType ?? 'unknown'}`);
}

// E-mail events that move a message, and so have content for EmailCC.
const CC_EMAIL_EVENTS: ReadonlySet<number> = new Set([
  EMAIL_EVENT.send,
  EMAIL_EVENT.receive,
  EMAIL_EVENT.download,
  EMAIL_EVENT.partialDownload,
  EMAIL_EVENT.upload,
]);

const ORIGINATING: ReadonlySet<PartyRole> = new Set(['CALLER', 'SENDER', 'CLIENT']);
const TERMINATING: ReadonlySet<PartyRole> = new Set(['CALLEE', 'RECIPIENT']);

/** Which side of the communication the target is on, from the roles it matched in. */
function targetSide(m: MatchedEvent): 'originating' | 'terminating' | 'both' | 'unknown' {
  const o = m.matchedRoles.some((r) => ORIGINATING.has(r));
  const t = m.matchedRoles.some((r) => TERMINATING.has(r));
  if (o && t) return 'both';
  if (o) return 'originating';
  if (t) return 'terminating';
  return 'unknown';
}

/** Session direction relative to the target (TS 102 232-1 PayloadDirection). */
function sessionDirection(m: MatchedEvent): number {
  const side = targetSide(m);
  switch (side) {
    case 'originating':
      return PAYLOAD_DIRECTION.fromTarget;
    case 'terminating':
      return PAYLOAD_DIRECTION.toTarget;
    case 'both':
      return PAYLOAD_DIRECTION.combined;
    case 'unknown':
      return PAYLOAD_DIRECTION.indeterminate;
    default:
      return unreachable(side, 'target side');
  }
}

// Ports on which the server side listens: the other end is the (target's) client.
const SERVER_PORTS = new Set([25, 465, 587, 2525, 24, 110, 995, 143, 993, 80, 443, 1863, 5060, 5061]);

interface Endpoints {
  client: { address: string; port: number };
  server: { address: string; port: number };
}

function endpoints(e: NormalizedEvent): Endpoints | undefined {
  const n = e.network;
  if (!n) return undefined;
  const src = { address: n.srcAddress, port: n.srcPort };
  const dst = { address: n.dstAddress, port: n.dstPort };
  if (!SERVER_PORTS.has(n.dstPort) && SERVER_PORTS.has(n.srcPort)) return { client: dst, server: src };
  return { client: src, server: dst };
}

// The same few SBC/server addresses recur on every record: parse each once (bounded cache;
// the IpAddress values are never mutated by the encoder).
const ipCache = new Map<string, IpAddress | undefined>();
function ip(address: string): IpAddress | undefined {
  if (ipCache.has(address)) return ipCache.get(address);
  const v = ipAddressFromString(address, IP_ASSIGNMENT.notKnown);
  if (ipCache.size >= 4096) ipCache.clear();
  ipCache.set(address, v);
  return v;
}

function needIp(address: string, what: string): IpAddress {
  const a = ip(address);
  if (!a) invalid('ENC_ERR_MISSING_NETWORK', `${what} is not an IP address`);
  return a;
}

function partyValue(e: NormalizedEvent, roles: readonly PartyRole[]): string | undefined {
  for (const role of roles) {
    const p = e.parties.find((x) => x.role === role);
    if (p) return p.value;
  }
  return undefined;
}

function sizeAttr(e: NormalizedEvent): number | undefined {
  const raw = e.attributes.size ?? e.attributes.bytes ?? e.attributes.messageSize;
  if (raw === undefined || !/^\d{1,15}$/.test(raw)) return undefined;
  return Number(raw);
}

// ------------------------------------------------------------------------------------------
// SIP -> IPMMIRI (TS 102 232-5)
// ------------------------------------------------------------------------------------------

function sipIri(e: NormalizedEvent): IriContents {
  if (!e.content || e.content.length === 0) invalid('ENC_ERR_MISSING_CONTENT', 'SIP event without the message');
  if (!e.network) invalid('ENC_ERR_MISSING_NETWORK', 'SIP event without addresses');
  return {
    kind: 'iPMMIRI',
    value: {
      contents: {
        kind: 'sIPMessage',
        message: {
          ipSourceAddress: needIp(e.network.srcAddress, 'source'),
          ipDestinationAddress: needIp(e.network.dstAddress, 'destination'),
          sipContent: e.content,
        },
      },
    },
  };
}

// ------------------------------------------------------------------------------------------
// Mail -> EmailIRI (TS 102 232-2)
// ------------------------------------------------------------------------------------------

/** eMailEvent of a mail event: the category says which, failedLogin whether a LOGIN failed. */
function mailEvent(e: NormalizedEvent, failedLogin: boolean): number | undefined {
  switch (e.category) {
    case 'LOGIN':
      return failedLogin ? EMAIL_EVENT.logonFailure : EMAIL_EVENT.logon;
    case 'SENT_MAIL':
      return EMAIL_EVENT.send;
    case 'NEW_MAIL':
      return e.action.toLowerCase().endsWith('.append') ? EMAIL_EVENT.upload : EMAIL_EVENT.receive;
    case 'ACCESS':
      return EMAIL_EVENT.download;
    case 'PARTIAL':
      return EMAIL_EVENT.partialDownload;
    case 'SIGNALS':
    case 'MAILBOX':
    case 'DELETED_MAIL':
    case 'MEDIA':
    case 'ACCOUNT':
      return undefined;
    default:
      return unreachable(e.category, 'event category');
  }
}

const PROTOCOL_ID: Record<string, number> = {
  SMTP: EMAIL_PROTOCOL.smtp,
  SUBMISSION: EMAIL_PROTOCOL.smtp,
  LMTP: EMAIL_PROTOCOL.smtp,
  POP3: EMAIL_PROTOCOL.pop3,
  IMAP: EMAIL_PROTOCOL.imap4,
  WEBMAIL: EMAIL_PROTOCOL.webmail,
};

function emailStatus(e: NormalizedEvent, eventType: number): number {
  if (eventType === EMAIL_EVENT.logonFailure) return EMAIL_STATUS.failed;
  const r = (e.attributes.result ?? e.attributes.status ?? e.attributes.error ?? '').toLowerCase();
  if (/^(success|succeeded|ok|true|250|\+ok)$/.test(r)) return EMAIL_STATUS.succeeded;
  if (/^(failure|failed|no|bad|false|error|-err)$/.test(r) || /^[45]\d\d$/.test(r)) return EMAIL_STATUS.failed;
  // An event the server reports after the fact (login, delivery) happened.
  if (eventType === EMAIL_EVENT.logon || eventType === EMAIL_EVENT.logoff) return EMAIL_STATUS.succeeded;
  return EMAIL_STATUS.unknown;
}

function emailIri(m: MatchedEvent, eventType: number): IriContents {
  const e = m.event;
  const v: EmailIri = { eventType };
  const ends = endpoints(e);
  if (ends) {
    const c = ip(ends.client.address);
    const s = ip(ends.server.address);
    if (c) v.clientAddress = c;
    if (s) v.serverAddress = s;
    v.clientPort = ends.client.port;
    v.serverPort = ends.server.port;
  }
  const size = sizeAttr(e);
  if (size !== undefined) {
    if (eventType === EMAIL_EVENT.send || eventType === EMAIL_EVENT.upload) v.clientOctetsSent = size;
    else v.serverOctetsSent = size;
  }
  const proto = PROTOCOL_ID[e.protocol.toUpperCase()];
  if (proto !== undefined) v.protocolId = proto;
  const sender = partyValue(e, ['SENDER', 'ACCOUNT']);
  if (sender !== undefined) v.sender = sender;
  const recipients = e.parties.filter((p: Party) => p.role === 'RECIPIENT').map((p) => p.value);
  const count = Number(e.attributes.recipientCount ?? recipients.length);
  if (recipients.length > 0 || eventType === EMAIL_EVENT.send || eventType === EMAIL_EVENT.receive) {
    // MAIL.md §4: when the target only received the mail, the other recipients are third
    // parties: only the recipients that matched the warrant (matchedParties) are listed then.
    if (m.matchedRoles.includes('SENDER') || m.matchedRoles.includes('ACCOUNT')) v.recipients = recipients;
    else {
      const own = (m.matchedParties ?? []).filter((p) => p.role === 'RECIPIENT').map((p) => p.value);
      const listed = recipients.filter((r) => own.includes(r));
      if (listed.length > 0) v.recipients = listed;
    }
    if (Number.isSafeInteger(count) && count >= 0) v.totalRecipientCount = count;
  }
  v.status = emailStatus(e, eventType);
  if (e.attributes.messageId) v.messageId = e.attributes.messageId;
  if (eventType === EMAIL_EVENT.logon || eventType === EMAIL_EVENT.logonFailure) {
    const aaa = aaaInformation(e, v.status);
    if (aaa) v.aaaInformation = aaa;
  }
  return { kind: 'emailIRI', value: v };
}

function aaaInformation(e: NormalizedEvent, status: number): AaaInformation | undefined {
  const username = partyValue(e, ['ACCOUNT', 'SENDER']) ?? e.attributes.user;
  if (username === undefined) return undefined;
  const aaaResult =
    status === EMAIL_STATUS.succeeded
      ? AAA_RESULT.succeeded
      : status === EMAIL_STATUS.failed
        ? AAA_RESULT.failed
        : AAA_RESULT.unknown;
  const p = e.protocol.toUpperCase();
  if (p === 'POP3') return { kind: 'pop3', username, aaaResult };
  if (p === 'SMTP' || p === 'SUBMISSION') return { kind: 'smtp', username, aaaResult };
  return undefined; // TS 102 232-2 defines no IMAP AAA alternative
}

/** Direction of mail content: what the target sends or uploads is fromTarget. */
function emailCcDirection(m: MatchedEvent, eventType: number): number {
  if (eventType === EMAIL_EVENT.upload) return PAYLOAD_DIRECTION.fromTarget;
  if (eventType === EMAIL_EVENT.download || eventType === EMAIL_EVENT.partialDownload)
    return PAYLOAD_DIRECTION.toTarget;
  if (eventType === EMAIL_EVENT.send && m.matchedRoles.includes('SENDER')) return PAYLOAD_DIRECTION.fromTarget;
  if (eventType === EMAIL_EVENT.receive || m.matchedRoles.includes('RECIPIENT')) return PAYLOAD_DIRECTION.toTarget;
  return sessionDirection(m);
}

// ------------------------------------------------------------------------------------------
// Other IP services (MSNP, ...) -> IPIRI (TS 102 232-3)
// ------------------------------------------------------------------------------------------

function ipIri(m: MatchedEvent, accessEventType: number): IriContents {
  const e = m.event;
  // The party that matched the warrant (not an address: targetIPAddress carries those), else
  // the first party in a role the target took, else the account.
  const targetParty =
    (m.matchedParties ?? []).find((p) => p.type !== 'IPV4' && p.type !== 'IPV6') ??
    e.parties.find((p) => m.matchedRoles.includes(p.role)) ??
    e.parties.find((p) => p.role === 'ACCOUNT');
  const c: IpIriContents = {
    accessEventType,
    targetUsername: targetParty?.value ?? '',
    internetAccessType: INTERNET_ACCESS_TYPE.undefined,
    iPVersion: IP_VERSION.iPV4,
  };
  const client = endpoints(e)?.client;
  const addr = client ? ip(client.address) : undefined;
  if (addr) {
    c.targetIPAddress = addr;
    c.iPVersion = addr.type === 1 ? IP_VERSION.iPV6 : IP_VERSION.iPV4;
  }
  if (accessEventType === ACCESS_EVENT_TYPE.accessAccept) c.startTime = e.occurredAtMicros;
  if (accessEventType === ACCESS_EVENT_TYPE.accessEnd) c.endTime = e.occurredAtMicros;
  return { kind: 'iPIRI', value: { contents: c } };
}

// ------------------------------------------------------------------------------------------
// CC content classification
// ------------------------------------------------------------------------------------------

/** X3 payload formats (TS 103 221-2): 5 IPv4 packet, 6 IPv6 packet, 8 RTP packet. */
function isIpPacket(e: NormalizedEvent): boolean {
  const f = e.attributes.payloadFormat;
  return f === '5' || f === '6' || /ip-?packet|ipv[46]/i.test(e.contentType ?? '');
}

function isRtp(e: NormalizedEvent): boolean {
  return e.attributes.payloadFormat === '8' || /rtp/i.test(e.contentType ?? '');
}

/** Direction of a media packet: X3 PayloadDirection (2 to target, 3 from target, 4 combined). */
function mediaDirection(m: MatchedEvent): number {
  const from = m.event.attributes.mediaFrom;
  if (from === 'CALLER' || from === 'CALLEE') {
    // Mirrored call media (ingest's MediaTracker): which party sent it, against the side the
    // target matched in for this warrant, never who sent the INVITE.
    const side = targetSide(m);
    if (side === 'both') return PAYLOAD_DIRECTION.combined;
    if (side === 'unknown') return PAYLOAD_DIRECTION.indeterminate;
    const sentByTarget = (from === 'CALLER') === (side === 'originating');
    return sentByTarget ? PAYLOAD_DIRECTION.fromTarget : PAYLOAD_DIRECTION.toTarget;
  }
  switch (m.event.attributes.payloadDirection) {
    case '2':
      return PAYLOAD_DIRECTION.toTarget;
    case '3':
      return PAYLOAD_DIRECTION.fromTarget;
    case '4':
      return PAYLOAD_DIRECTION.combined;
    case '5':
      return PAYLOAD_DIRECTION.notApplicable;
    default:
      return PAYLOAD_DIRECTION.indeterminate;
  }
}

function ipmmCc(e: NormalizedEvent, content: Uint8Array): IpmmCc {
  if (e.attributes.mediaKind === 'udptl') {
    // T.38 fax (ingest's MediaTracker): the UDPTL packet as captured.
    return { mmccContents: content, frameType: FRAME_TYPE.udptlFrame, mmccProtocol: MMCC_PROTOCOL.udptl };
  }
  return {
    mmccContents: content,
    frameType: isIpPacket(e) ? FRAME_TYPE.ipFrame : FRAME_TYPE.rtpFrame,
    mmccProtocol: MMCC_PROTOCOL.rtp,
  };
}

// ------------------------------------------------------------------------------------------
// TS 101 671 HI2 record (Italian profile)
// ------------------------------------------------------------------------------------------

export const HI2_RECORD_TYPE: Record<IriRecordType, number> = { BEGIN: 1, END: 2, CONTINUE: 3, REPORT: 4 };

/** TBCD digits (3GPP TS 29.002): two digits per octet, low nibble first, F filler. */
function tbcd(digits: string): Uint8Array {
  const d = digits.replace(/\D/g, '');
  const out = new Uint8Array(Math.ceil(d.length / 2));
  for (let i = 0; i < d.length; i += 2) {
    const lo = Number(d[i]);
    const hi = i + 1 < d.length ? Number(d[i + 1]) : 0xf;
    out[i / 2] = (hi << 4) | lo;
  }
  return out;
}

/** The party's identity in the alternative its type's traits name (IDENTIFIER_TRAITS.hi2PartyIdentity). */
function hi2Party(p: Party, qualifier: number): PartyInformation | undefined {
  const alternative = IDENTIFIER_TRAITS[p.type]?.hi2PartyIdentity ?? null;
  switch (alternative) {
    case 'sip-uri':
      return { qualifier, identity: { sipUri: p.value } };
    case 'tel-url': {
      if (p.value.startsWith('tel:')) return { qualifier, identity: { telUrl: p.value } };
      const digits = p.value.replace(/[^\d]/g, '');
      return digits ? { qualifier, identity: { telUrl: `tel:+${digits}` } } : undefined;
    }
    case 'imsi': {
      const b = tbcd(p.value);
      return b.length >= 3 && b.length <= 8 ? { qualifier, identity: { imsi: b } } : undefined;
    }
    case 'imei': {
      const b = tbcd(p.value);
      return b.length === 8 ? { qualifier, identity: { imei: b } } : undefined;
    }
    case null: // no HI2 alternative carries it (e-mail, accounts, addresses): the party is left out
      return undefined;
    default:
      return unreachable(alternative, 'HI2 party identity');
  }
}

const PARTY_QUALIFIER_OF: Partial<Record<PartyRole, number>> = {
  CALLER: PARTY_QUALIFIER.originating,
  SENDER: PARTY_QUALIFIER.originating,
  CALLEE: PARTY_QUALIFIER.terminating,
  RECIPIENT: PARTY_QUALIFIER.terminating,
};

interface Hi2Context {
  operatorIdentifier: string;
  networkElement?: NetworkElementIdentifier;
  countryCode: string;
}

function hi2Iri(m: MatchedEvent, type: IriRecordType, cin: number, service: ServiceKind, ctx: Hi2Context): Hi2Iri {
  const e = m.event;
  const side = targetSide(m);
  const parties: PartyInformation[] = [];
  for (const p of e.parties) {
    const q = PARTY_QUALIFIER_OF[p.role];
    if (q === undefined || parties.length >= 10) continue;
    const info = hi2Party(p, q);
    if (info) parties.push(info);
  }
  const iri: Hi2Iri = {
    recordType: HI2_RECORD_TYPE[type],
    params: {
      iriVersion: IRI_VERSION_LAST,
      liid: m.liid,
      communicationIdentifier: { cin: String(cin), operatorIdentifier: ctx.operatorIdentifier },
      timeStamp: { kind: 'localTime', micros: e.occurredAtMicros, winterSummer: WINTER_SUMMER.notProvided },
      interceptedCallDirection:
        side === 'originating'
          ? CALL_DIRECTION.originatingTarget
          : side === 'terminating'
            ? CALL_DIRECTION.terminatingTarget
            : CALL_DIRECTION.notAvailable,
      nationalHI2Asn1Parameters: { countryCode: ctx.countryCode },
    },
  };
  if (ctx.networkElement) iri.params.communicationIdentifier.networkElementIdentifier = ctx.networkElement;
  if (parties.length > 0) iri.params.partyInformation = parties;
  if (service === 'sip' && e.content && e.content.length > 0) iri.params.sipMessage = e.content;
  return iri;
}
