// TS 102 232-2 EmailIRI / EmailCC. The EmailPDU module itself was not available; tags and
// enumerations follow the digest in shared/spec/MAIL.md §1-3 (read from libwandder/OpenLI
// encoders, which match the standard's tag table). Golden-byte tests pin the layout.
import {
  BerError,
  type BerWriter,
  byTag,
  CONTEXT,
  checkRange,
  children,
  choiceOf,
  expectConstructed,
  need,
  readOctets,
  readRelOid,
  readUint,
  readUtf8,
  type Tlv,
  U,
  UNIVERSAL,
} from './ber.ts';
import { relOidBytes } from './ipaccess.ts';
import { decodeIpAddress, encodeIpAddress, type IpAddress } from './ipaddress.ts';

/**
 * {li-ps(5) email(2) version15(15) iRI(1)}: we write OpenLI's EmailIRI/EmailCC layout and OpenLI
 * names it version15. No EmailPDU text to check against (not version20, which LI-PS-PDU v43
 * imports). Per-LEA override: objId.
 */
export const EMAIL_IRI_OBJ_ID: readonly number[] = [5, 2, 15, 1];
export const EMAIL_CC_OBJ_ID: readonly number[] = [5, 2, 15, 2];

export const EMAIL_EVENT = {
  send: 1,
  receive: 2,
  download: 3,
  logonAttempt: 4,
  logon: 5,
  logonFailure: 6,
  logoff: 7,
  partialDownload: 8,
  upload: 9,
} as const;

export const EMAIL_PROTOCOL = { smtp: 1, pop3: 2, imap4: 3, webmail: 4, undefined: 255 } as const;
export const EMAIL_STATUS = { unknown: 1, failed: 2, succeeded: 3 } as const;
export const EMAIL_FORMAT = { ipPacket: 1, application: 2 } as const;
export const SENDER_VALIDITY = { validated: 0, nonvalidated: 1 } as const;
export const AAA_RESULT = { unknown: 1, failed: 2, succeeded: 3 } as const;
export const SMTP_AUTH_METHOD = { undefined: 1, cramMD5: 2, digestMD5: 3 } as const;

export type AaaInformation =
  | { kind: 'pop3'; username: string; password?: Uint8Array; aaaResult?: number }
  | {
      kind: 'smtp';
      username?: string;
      authMethod?: number;
      challenge?: Uint8Array;
      response?: Uint8Array;
      aaaResult?: number;
    };

export interface EmailIri {
  objId?: readonly number[];
  eventType: number;
  clientAddress?: IpAddress;
  serverAddress?: IpAddress;
  clientPort?: number;
  serverPort?: number;
  serverOctetsSent?: number;
  clientOctetsSent?: number;
  protocolId?: number;
  sender?: string;
  recipients?: string[];
  status?: number;
  totalRecipientCount?: number;
  /** RFC 5322 Message-ID (OCTET STRING, written as UTF-8 octets). */
  messageId?: string;
  aaaInformation?: AaaInformation;
  senderValidity?: number;
}

export interface EmailCc {
  objId?: readonly number[];
  /** 1 ip-packet, 2 application. */
  format: number;
  content: Uint8Array;
}

/** Encodes EmailIRI as [tag] (IRIContents alternative emailIRI [1]). */
export function encodeEmailIri(w: BerWriter, tag: number, v: EmailIri): void {
  w.open(CONTEXT, tag);
  w.octets(CONTEXT, 0, relOidBytes(v.objId ?? EMAIL_IRI_OBJ_ID));
  w.int(CONTEXT, 1, v.eventType);
  if (v.clientAddress) encodeIpAddress(w, 2, v.clientAddress);
  if (v.serverAddress) encodeIpAddress(w, 3, v.serverAddress);
  if (v.clientPort !== undefined) {
    checkRange(v.clientPort, 0, 65535, 'client-Port');
    w.int(CONTEXT, 4, v.clientPort);
  }
  if (v.serverPort !== undefined) {
    checkRange(v.serverPort, 0, 65535, 'server-Port');
    w.int(CONTEXT, 5, v.serverPort);
  }
  if (v.serverOctetsSent !== undefined) w.int(CONTEXT, 6, v.serverOctetsSent);
  if (v.clientOctetsSent !== undefined) w.int(CONTEXT, 7, v.clientOctetsSent);
  if (v.protocolId !== undefined) w.int(CONTEXT, 8, v.protocolId);
  if (v.sender !== undefined) w.utf8(CONTEXT, 9, v.sender);
  if (v.recipients !== undefined) {
    w.open(CONTEXT, 10);
    for (const r of v.recipients) w.utf8(UNIVERSAL, U.UTF8String, r);
    w.end();
  }
  if (v.status !== undefined) w.int(CONTEXT, 11, v.status);
  if (v.totalRecipientCount !== undefined) w.int(CONTEXT, 12, v.totalRecipientCount);
  if (v.messageId !== undefined) w.utf8(CONTEXT, 13, v.messageId);
  if (v.aaaInformation) {
    const a = v.aaaInformation;
    w.open(CONTEXT, 16); // AAAInformation is a CHOICE: explicit wrapper
    if (a.kind === 'pop3') {
      w.open(CONTEXT, 0);
      w.utf8(CONTEXT, 0, a.username);
      if (a.password !== undefined) w.octets(CONTEXT, 1, a.password);
      if (a.aaaResult !== undefined) w.int(CONTEXT, 2, a.aaaResult);
      w.end();
    } else {
      w.open(CONTEXT, 1);
      if (a.username !== undefined) w.utf8(CONTEXT, 0, a.username);
      if (a.authMethod !== undefined) w.int(CONTEXT, 1, a.authMethod);
      if (a.challenge !== undefined) w.octets(CONTEXT, 2, a.challenge);
      if (a.response !== undefined) w.octets(CONTEXT, 3, a.response);
      if (a.aaaResult !== undefined) w.int(CONTEXT, 4, a.aaaResult);
      w.end();
    }
    w.end();
  }
  if (v.senderValidity !== undefined) w.int(CONTEXT, 17, v.senderValidity);
  w.end();
}

function uintSafe(buf: Uint8Array, t: Tlv): number {
  return readUint(buf, t, Number.MAX_SAFE_INTEGER);
}

export function decodeEmailIri(buf: Uint8Array, t: Tlv): EmailIri {
  expectConstructed(t, 'EmailIRI');
  const list = children(buf, t);
  const m = byTag(list);
  const v: EmailIri = {
    objId: readRelOid(buf, need(m, 0, 'emailIRIObjId', t)),
    eventType: readUint(buf, need(m, 1, 'eMailEvent', t), 255),
  };
  for (const x of list) {
    if (x.cls !== CONTEXT) continue;
    switch (x.num) {
      case 2:
        v.clientAddress = decodeIpAddress(buf, x);
        break;
      case 3:
        v.serverAddress = decodeIpAddress(buf, x);
        break;
      case 4:
        v.clientPort = readUint(buf, x, 65535);
        break;
      case 5:
        v.serverPort = readUint(buf, x, 65535);
        break;
      case 6:
        v.serverOctetsSent = uintSafe(buf, x);
        break;
      case 7:
        v.clientOctetsSent = uintSafe(buf, x);
        break;
      case 8:
        v.protocolId = readUint(buf, x, 255);
        break;
      case 9:
        v.sender = readUtf8(buf, x);
        break;
      case 10: {
        expectConstructed(x, 'e-mail-Recipients');
        v.recipients = children(buf, x).map((r) => readUtf8(buf, r));
        break;
      }
      case 11:
        v.status = readUint(buf, x, 255);
        break;
      case 12:
        v.totalRecipientCount = uintSafe(buf, x);
        break;
      case 13:
        v.messageId = readUtf8(buf, x);
        break;
      case 16:
        v.aaaInformation = decodeAaa(buf, x);
        break;
      case 17:
        v.senderValidity = readUint(buf, x, 255);
        break;
    }
  }
  return v;
}

function decodeAaa(buf: Uint8Array, wrapper: Tlv): AaaInformation {
  const alt = choiceOf(buf, wrapper, 'aAAInformation');
  expectConstructed(alt, 'aAAInformation');
  const list = children(buf, alt);
  if (alt.num === 0) {
    const m = byTag(list);
    const out: AaaInformation = { kind: 'pop3', username: readUtf8(buf, need(m, 0, 'username', alt)) };
    const p = m.get(1);
    if (p) out.password = readOctets(buf, p);
    const r = m.get(2);
    if (r) out.aaaResult = readUint(buf, r, 255);
    return out;
  }
  if (alt.num === 1) {
    const out: AaaInformation = { kind: 'smtp' };
    for (const x of list) {
      if (x.num === 0) out.username = readUtf8(buf, x);
      else if (x.num === 1) out.authMethod = readUint(buf, x, 255);
      else if (x.num === 2) out.challenge = readOctets(buf, x);
      else if (x.num === 3) out.response = readOctets(buf, x);
      else if (x.num === 4) out.aaaResult = readUint(buf, x, 255);
    }
    return out;
  }
  throw new BerError('ETSI_ERR_UNEXPECTED_TAG', `unknown aAAInformation [${alt.num}]`, alt.offset);
}

/** Encodes EmailCC as [tag] (CCContents alternative emailCC [1]). */
export function encodeEmailCc(w: BerWriter, tag: number, v: EmailCc): void {
  w.open(CONTEXT, tag);
  w.octets(CONTEXT, 0, relOidBytes(v.objId ?? EMAIL_CC_OBJ_ID));
  w.int(CONTEXT, 1, v.format);
  w.octets(CONTEXT, 2, v.content);
  w.end();
}

export function decodeEmailCc(buf: Uint8Array, t: Tlv): EmailCc {
  expectConstructed(t, 'EmailCC');
  const m = byTag(children(buf, t));
  return {
    objId: readRelOid(buf, need(m, 0, 'emailCCObjId', t)),
    format: readUint(buf, need(m, 1, 'e-mail-Format', t), 255),
    content: readOctets(buf, need(m, 2, 'content', t)),
  };
}
