// TS 101 671 HI1NotificationOperations, carried in a PS-PDU as Payload [3] hI1-Operation
// (TS 102 232-1; LI-PS-PDU v43 imports HI1NotificationOperations version7, which since that
// version is provided with TS 102 232-1). The module text is not in spec/asn1 (SOURCES.md §4),
// so this follows its published structure (DEFINITIONS IMPLICIT TAGS):
//
//   HI1-Operation ::= CHOICE { liActivated [1] Notification, liDeactivated [2] Notification,
//     liModified [3] Notification, alarms-indicator [4] Alarm-Indicator, ...,
//     national-HI1-ASN1parameters [5] ... }
//   Notification ::= SEQUENCE { domainID [0] OBJECT IDENTIFIER OPTIONAL,
//     lawfulInterceptionIdentifier [1] LawfulInterceptionIdentifier,
//     communicationIdentifier [2] CommunicationIdentifier OPTIONAL, timeStamp [3] TimeStamp, ...,
//     national-HI1-ASN1parameters [5] OPTIONAL, target-Information [6] OCTET STRING (SIZE (1..256))
//     OPTIONAL, network-Identifier [7] OPTIONAL, broadcastStatus [8] OPTIONAL }
//
// LawfulInterceptionIdentifier, CommunicationIdentifier and TimeStamp are the HI2Operations types
// (hi2.ts). On the wire: A3 (hI1-Operation, explicit: a CHOICE) { A1|A2|A3 Notification { 80 OID,
// 81 LIID, A2 { A1 { 80 operator-Identifier } }, A3 { 81 UTCTime }, 86 target-Information } }.
import {
  type BerWriter,
  byTag,
  CONTEXT,
  children,
  choiceOf,
  EtsiEncodeError,
  expectConstructed,
  need,
  oidContent,
  readLatin1,
  readOctets,
  readOid,
  type Tlv,
} from './ber.ts';
import {
  decodeCommunicationIdentifier,
  decodeTimeStamp,
  encodeCommunicationIdentifier,
  encodeTimeStamp,
  type Hi2CommunicationIdentifier,
  type Hi2TimeStamp,
} from './hi2.ts';

/** hi1OperationId {itu-t(0) identified-organization(4) etsi(0) securityDomain(2) lawfulIntercept(2) hi1(0) notificationOperations(1) version7(7)}. */
export const HI1_DOMAIN_ID: readonly number[] = [0, 4, 0, 2, 2, 0, 1, 7];

/** HI1-Operation alternatives this codec models (the notification kinds). */
export const HI1_OPERATION = { liActivated: 1, liDeactivated: 2, liModified: 3 } as const;
export type Hi1OperationKind = keyof typeof HI1_OPERATION;
const KIND_OF = new Map<number, Hi1OperationKind>(
  Object.entries(HI1_OPERATION).map(([k, v]) => [v, k as Hi1OperationKind]),
);

export interface Hi1Notification {
  /** domainID [0]: defaults to HI1_DOMAIN_ID; null leaves it out (it is OPTIONAL). */
  domainId?: readonly number[] | null;
  /** lawfulInterceptionIdentifier [1]: 1..25 octets (latin1 string). */
  liid: string;
  /** communicationIdentifier [2]: the operator (≤5 characters) that received the authorisation. */
  communicationIdentifier?: Hi2CommunicationIdentifier;
  /** timeStamp [3]: when the interception was activated, deactivated or modified. */
  timeStamp: Hi2TimeStamp;
  /** target-Information [6]: 1..256 octets of text describing the target (ASCII). */
  targetInformation?: Uint8Array;
}

export type Hi1Operation =
  | { kind: Hi1OperationKind; notification: Hi1Notification }
  /** alarms-indicator, national parameters and later alternatives: the raw alternative TLV. */
  | { kind: 'other'; tag: number; raw: Uint8Array };

function checkLiid(s: string): void {
  if (s.length < 1 || s.length > 25) throw new EtsiEncodeError('lawfulInterceptionIdentifier must be 1..25 octets');
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0xff) throw new EtsiEncodeError('lawfulInterceptionIdentifier must be octets (latin1)');
  }
}

/** Writes the hI1-Operation alternative of Payload: [3] (explicit) around the CHOICE. */
export function encodeHi1Operation(w: BerWriter, tag: number, op: Hi1Operation): void {
  w.open(CONTEXT, tag); // HI1-Operation is a CHOICE: explicit wrapper
  if (op.kind === 'other') w.raw(op.raw);
  else {
    const n = op.notification;
    checkLiid(n.liid);
    const info = n.targetInformation;
    if (info !== undefined && (info.length < 1 || info.length > 256)) {
      throw new EtsiEncodeError('target-Information must be 1..256 octets');
    }
    w.open(CONTEXT, HI1_OPERATION[op.kind]);
    if (n.domainId !== null) w.octets(CONTEXT, 0, oidContent(n.domainId ?? HI1_DOMAIN_ID));
    w.latin1(CONTEXT, 1, n.liid);
    if (n.communicationIdentifier) encodeCommunicationIdentifier(w, 2, n.communicationIdentifier);
    encodeTimeStamp(w, 3, n.timeStamp);
    if (info !== undefined) w.octets(CONTEXT, 6, info);
    w.end();
  }
  w.end();
}

/** Decodes the [3] hI1-Operation wrapper of a Payload. Throws BerError (internal). */
export function decodeHi1Operation(buf: Uint8Array, wrapper: Tlv): Hi1Operation {
  const alt = choiceOf(buf, wrapper, 'hI1-Operation');
  const kind = alt.cls === CONTEXT ? KIND_OF.get(alt.num) : undefined;
  if (!kind) return { kind: 'other', tag: alt.num, raw: buf.subarray(alt.offset, alt.next) };
  expectConstructed(alt, 'Notification');
  const list = children(buf, alt);
  const m = byTag(list);
  const n: Hi1Notification = {
    domainId: null,
    liid: readLatin1(buf, need(m, 1, 'lawfulInterceptionIdentifier', alt)),
    timeStamp: decodeTimeStamp(buf, need(m, 3, 'timeStamp', alt)),
  };
  for (const x of list) {
    if (x.cls !== CONTEXT) continue;
    switch (x.num) {
      case 0:
        n.domainId = readOid(buf, x);
        break;
      case 2:
        n.communicationIdentifier = decodeCommunicationIdentifier(buf, x);
        break;
      case 6:
        n.targetInformation = readOctets(buf, x);
        break;
      // [5] national parameters, [7] network-Identifier, [8] broadcastStatus and extensions: not modelled.
    }
  }
  return { kind, notification: n };
}
