// @li/etsi: BER codecs for ETSI LI records (TS 102 232-1/-2/-3/-5 PS-PDUs, TS 101 671 HI2 IRIs).
export type { DecodeErrorCode, DecodeFailure, DecodeResult, ParsedTime, Tlv } from './ber.ts';
export {
  BerError,
  BerWriter,
  CONSTRUCTED,
  CONTEXT,
  EtsiEncodeError,
  formatGeneralizedTime,
  parseGeneralizedTime,
  readTlv,
  UNIVERSAL,
} from './ber.ts';
export type { AaaInformation, EmailCc, EmailIri } from './email.ts';
export {
  AAA_RESULT,
  EMAIL_CC_OBJ_ID,
  EMAIL_EVENT,
  EMAIL_FORMAT,
  EMAIL_IRI_OBJ_ID,
  EMAIL_PROTOCOL,
  EMAIL_STATUS,
  SENDER_VALIDITY,
  SMTP_AUTH_METHOD,
} from './email.ts';
export type { Hi1Notification, Hi1Operation, Hi1OperationKind } from './hi1.ts';
export { HI1_DOMAIN_ID, HI1_OPERATION } from './hi1.ts';
export type {
  Hi2CommunicationIdentifier,
  Hi2Iri,
  Hi2IrisContent,
  Hi2RecordType,
  Hi2TimeStamp,
  IriParameters,
  NetworkElementIdentifier,
  PartyIdentity,
  PartyInformation,
  PartyNumber,
} from './hi2.ts';
export {
  CALL_DIRECTION,
  CALL_STATE,
  decodeHi2,
  encodeHi2Iri,
  encodeHi2IrisContent,
  HI2_DOMAIN_ID,
  HI2_RECORD,
  IRI_VERSION_LAST,
  PARTY_QUALIFIER,
  WINTER_SUMMER,
} from './hi2.ts';
export type { IpCc, IpCcContents, IpIri, IpIriContents } from './ipaccess.ts';
export { ACCESS_EVENT_TYPE, INTERNET_ACCESS_TYPE, IP_VERSION, IPCC_OBJ_ID, IPIRI_OBJ_ID } from './ipaccess.ts';
export type { IpAddress, IpValue } from './ipaddress.ts';
export { IP_ASSIGNMENT, IP_TYPE, ipAddressFromString } from './ipaddress.ts';
export type { IpmmCc, IpmmIri, IpmmIriContents, SipMessage } from './ipmm.ts';
export { FRAME_TYPE, IPMM_CC_OBJ_ID, IPMM_IRI_OBJ_ID, MMCC_PROTOCOL } from './ipmm.ts';
export type { KeepaliveOptions, TimestampFormat } from './keepalive.ts';
export {
  encodeKeepalive,
  encodeKeepaliveResponse,
  encodePduAckRequest,
  encodePduAckResponse,
  headerTime,
  isKeepalive,
  isKeepaliveResponse,
} from './keepalive.ts';
export type {
  CcContents,
  CcPayload,
  CommunicationIdentifier,
  Etsi671Iri,
  IntegrityCheck,
  IriContents,
  IriPayload,
  IriType,
  MicroSecondTimeStamp,
  Payload,
  PsHeader,
  PsPdu,
  TriPayload,
} from './pspdu.ts';
export {
  decodePsPdu,
  encodePsPdu,
  IRI_TYPE,
  LI_PS_DOMAIN_ID,
  microSecondTimeStamp,
  PAYLOAD_DIRECTION,
  pduLength,
  TIMESTAMP_QUALIFIER,
  writePsPdu,
} from './pspdu.ts';
export { DEFAULT_MAX_SEGMENT, splitContent } from './segment.ts';
export type { TimeRules } from './time-rules.ts';
export { applyTimeRulesToHi2, applyTimeRulesToPsPdu, keepsEncoding } from './time-rules.ts';
