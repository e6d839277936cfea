// MCD_ERR_* codes of the mcid-store service, with whether retrying can help.
export const ERRORS = {
  MCD_ERR_VALIDATION: { retriable: false, http: 400 },
  MCD_ERR_IDENTITY: { retriable: false, http: 400 },
  MCD_ERR_IDENTITY_TAKEN: { retriable: false, http: 409 },
  MCD_ERR_MODE: { retriable: false, http: 400 },
  MCD_ERR_UNAUTHENTICATED: { retriable: false, http: 401 },
  MCD_ERR_FORBIDDEN: { retriable: false, http: 403 },
  MCD_ERR_NOT_FOUND: { retriable: false, http: 404 },
  MCD_ERR_STATE_WRITE: { retriable: true, http: 503 },
  MCD_ERR_DISK_FULL: { retriable: true, http: 507 },
  MCD_ERR_STORAGE_IO: { retriable: true, http: 503 },
  MCD_ERR_CONFIG: { retriable: false, http: 500 },
  MCD_ERR_DIAMETER_CONNECT: { retriable: true, http: 502 },
  MCD_ERR_DIAMETER_CEA: { retriable: true, http: 502 },
  MCD_ERR_DIAMETER_TIMEOUT: { retriable: true, http: 504 },
  MCD_ERR_DIAMETER_CLOSED: { retriable: true, http: 502 },
  MCD_ERR_DIAMETER_DECODE: { retriable: true, http: 502 },
  MCD_ERR_DIAMETER_RESULT: { retriable: true, http: 502 },
  // An event on li.<t>.events that names another tenant: dead-lettered, never applied.
  MCD_ERR_TENANT_MISMATCH: { retriable: false, http: 400 },
} as const;

export type McdErrorCode = keyof typeof ERRORS;

export function isRetriable(code: McdErrorCode): boolean {
  return ERRORS[code].retriable;
}
