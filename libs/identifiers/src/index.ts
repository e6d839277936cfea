export type { IpAddress, IpFamily, IpPrefix } from './ip.ts';
export {
  formatIpPrefix,
  formatIpv4,
  formatIpv6,
  maskBytes,
  parseIpAddress,
  parseIpPrefix,
  parseIpv4,
  parseIpv4Into,
  parseIpv6,
} from './ip.ts';
export type {
  IdentifierErrorCode,
  NormalizeOptions,
  NormalizeResult,
  PartyKeys,
  TargetIndexEntry,
} from './normalize.ts';
export {
  IDENTIFIER_ERRORS,
  ipKey,
  luhnCheckDigit,
  MIN_INCOMPLETE_NUMBER_DIGITS,
  normalizeE164,
  normalizeEmail,
  normalizeImei,
  normalizeImsi,
  normalizeIncompleteNumber,
  normalizeMailAccount,
  normalizeProviderAccount,
  normalizeSipUri,
  normalizeTarget,
  normalizeTelUri,
  partyKeys,
  targetIndexEntry,
} from './normalize.ts';
export { isWarrantActiveAt, warrantKey } from './warrant.ts';
