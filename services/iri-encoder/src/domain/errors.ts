// Error codes of the encoding domain (ENC_ERR_*). A failed event goes to the DLQ with its code;
// none of these is retriable: the same input fails the same way.
export const ENC_ERR = {
  MISSING_CONTENT: 'ENC_ERR_MISSING_CONTENT',
  MISSING_NETWORK: 'ENC_ERR_MISSING_NETWORK',
  INVALID_VALUE: 'ENC_ERR_INVALID_VALUE',
  TENANT_MISMATCH: 'ENC_ERR_TENANT_MISMATCH',
  UNSUPPORTED_EVENT: 'ENC_ERR_UNSUPPORTED_EVENT',
  INTERNAL: 'ENC_ERR_INTERNAL',
} as const;
export type EncErrorCode = (typeof ENC_ERR)[keyof typeof ENC_ERR];
