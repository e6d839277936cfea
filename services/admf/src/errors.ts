// ADM_ERR_* codes. HTTP status and whether a retry can help travel with the code, so the REST
// layer and a later Kafka consumer map failures the same way.
export const ADM_ERRORS = {
  ADM_ERR_VALIDATION: { status: 400, retriable: false },
  ADM_ERR_UNAUTHENTICATED: { status: 401, retriable: false },
  ADM_ERR_FORBIDDEN: { status: 403, retriable: false },
  ADM_ERR_NOT_FOUND: { status: 404, retriable: false },
  ADM_ERR_CONFLICT: { status: 409, retriable: false },
  ADM_ERR_TENANT_MISMATCH: { status: 400, retriable: false },
  ADM_ERR_STORE: { status: 503, retriable: true },
  ADM_ERR_INTERNAL: { status: 500, retriable: false },
} as const;
export type AdmErrorCode = keyof typeof ADM_ERRORS;

export interface AdmError {
  code: AdmErrorCode;
  message: string;
  /** The input field at fault, as a path like "targets[2].value". */
  field?: string;
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: AdmError };

export const okResult = <T>(value: T): Result<T> => ({ ok: true, value });
export const errResult = <T = never>(code: AdmErrorCode, message: string, field?: string): Result<T> => ({
  ok: false,
  error: field === undefined ? { code, message } : { code, message, field },
});
