// Every ADM_ERR_* code of admf. The REST layer answers with the table's status and the DLQ
// writer records the code, so a failure maps the same way wherever it surfaces.
import { defineErrors } from '@li/core';

export const ADM = defineErrors('ADM', {
  ADM_ERR_VALIDATION: { message: 'the input is not valid', retriable: false, status: 400 },
  ADM_ERR_UNAUTHENTICATED: { message: 'no valid bearer token', retriable: false, status: 401 },
  ADM_ERR_FORBIDDEN: { message: 'the caller may not do this', retriable: false, status: 403 },
  ADM_ERR_NOT_FOUND: { message: 'no such resource', retriable: false, status: 404 },
  ADM_ERR_CONFLICT: { message: 'the change conflicts with the current state', retriable: false, status: 409 },
  ADM_ERR_TENANT_MISMATCH: { message: 'the record belongs to another tenant', retriable: false, status: 400 },
  ADM_ERR_STORE: { message: 'the change could not be stored', retriable: true, status: 503 },
  ADM_ERR_STANDBY: { message: 'this instance stands by; another admf instance writes', retriable: true, status: 503 },
  ADM_ERR_INTERNAL: { message: 'internal error', retriable: false, status: 500 },
});
export type AdmErrorCode = (typeof ADM.codes)[number];

/** A refusal the API returns as its body; `message` says what exactly was wrong with the request. */
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
