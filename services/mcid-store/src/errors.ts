// Every MCD_ERR_* code of the mcid-store service: the REST API, the DLQ, the logs and the
// metrics all read this one table.
import { defineErrors } from '@li/core';

export const MCD = defineErrors('MCD', {
  MCD_ERR_VALIDATION: { message: 'invalid request', retriable: false, status: 400 },
  MCD_ERR_IDENTITY: { message: 'not a usable subscriber identity', retriable: false, status: 400 },
  MCD_ERR_IDENTITY_TAKEN: { message: 'identity already belongs to a subscriber', retriable: false, status: 409 },
  MCD_ERR_MODE: { message: 'invalid MCID mode', retriable: false, status: 400 },
  MCD_ERR_UNAUTHENTICATED: { message: 'no valid bearer token', retriable: false, status: 401 },
  MCD_ERR_FORBIDDEN: { message: 'the caller may not do this', retriable: false, status: 403 },
  MCD_ERR_NOT_FOUND: { message: 'not found', retriable: false, status: 404 },
  MCD_ERR_STATE_WRITE: { message: 'state store unavailable', retriable: true, status: 503 },
  MCD_ERR_DISK_FULL: { message: 'local ACR storage is full', retriable: true, status: 507 },
  MCD_ERR_STORAGE_IO: { message: 'local ACR storage failed', retriable: true, status: 503 },
  MCD_ERR_CONFIG: { message: 'invalid configuration', retriable: false, status: 500 },
  MCD_ERR_DIAMETER_CONNECT: { message: 'cannot connect to the CDS', retriable: true, status: 502 },
  MCD_ERR_DIAMETER_CEA: { message: 'the CDS refused the capabilities exchange', retriable: true, status: 502 },
  MCD_ERR_DIAMETER_TIMEOUT: { message: 'no answer from the CDS', retriable: true, status: 504 },
  MCD_ERR_DIAMETER_CLOSED: { message: 'the CDS connection is closed', retriable: true, status: 502 },
  MCD_ERR_DIAMETER_DECODE: { message: 'unreadable Diameter message from the CDS', retriable: true, status: 502 },
  MCD_ERR_DIAMETER_RESULT: { message: 'the CDS did not accept the ACR', retriable: true, status: 502 },
  // An event on li.<t>.events that names another tenant: dead-lettered, never applied.
  MCD_ERR_TENANT_MISMATCH: { message: 'event tenant differs from its topic', retriable: false, status: 400 },
  // A state key of a tenant this deployment does not serve: never written.
  MCD_ERR_TENANT_NOT_SERVED: { message: 'this deployment does not serve that tenant', retriable: false },
});

export type McdErrorCode = (typeof MCD.codes)[number];
