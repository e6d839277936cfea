// DLV_ERR_* codes of cc-delivery. `retriable` says whether waiting and trying again can help
// (a LEMF outage) or whether the input itself is unusable (dead-letter it, keep going).
import { defineErrors } from '@li/core';

const DLV_ERRORS = defineErrors('DLV', {
  DLV_ERR_UNKNOWN_TRANSPORT: { retriable: true, message: 'unknown transport in LEMF config' },
  DLV_ERR_BAD_CONFIG: { retriable: true, message: 'LEMF config incomplete or invalid' },
  DLV_ERR_CONNECT: { retriable: true, message: 'cannot connect to LEMF' },
  DLV_ERR_NOT_CONNECTED: { retriable: true, message: 'LEMF connection not established' },
  DLV_ERR_CONNECTION_LOST: { retriable: true, message: 'LEMF connection lost' },
  DLV_ERR_TLS: { retriable: true, message: 'TLS handshake failed' },
  DLV_ERR_AUTH: { retriable: true, message: 'LEMF rejected credentials' },
  DLV_ERR_HOST_KEY: { retriable: true, message: 'SFTP server host key does not match the pinned fingerprint' },
  DLV_ERR_TIMEOUT: { retriable: true, message: 'LEMF did not answer in time' },
  DLV_ERR_KEEPALIVE_TIMEOUT: { retriable: true, message: 'no keep-alive response in time' },
  DLV_ERR_UPLOAD: { retriable: true, message: 'file upload or rename failed' },
  DLV_ERR_UPLOAD_SHORT: {
    retriable: true,
    message: 'file server stored fewer bytes than were sent (its disk may be full); not renamed, retried',
  },
  DLV_ERR_SMTP: { retriable: true, message: 'SMTP server did not accept the report' },
  DLV_ERR_PIPE: { retriable: true, message: 'PIPE program not running or write failed' },
  DLV_ERR_PIPE_ENTRY: { retriable: true, message: "PIPE entry not in the operator's allow-list (pipeCommands)" },
  DLV_ERR_SECRET_REF: {
    retriable: true,
    message: "secret reference is not a plain name in the tenant's own secret directory",
  },
  DLV_ERR_INSECURE: { retriable: true, message: 'plaintext transport refused (the LEMF does not set allowInsecure)' },
  DLV_ERR_LEMF_FLOOD: { retriable: true, message: 'LEMF sent more than its read limit; connection closed' },
  DLV_ERR_LEMF_PROTOCOL: { retriable: true, message: 'LEMF sent bytes that are not the protocol; connection closed' },
  DLV_ERR_IPSEC_DOWN: {
    retriable: true,
    message: "the LEMF's IPsec tunnel is not up: records wait (nothing is sent in clear)",
  },
  DLV_ERR_IPSEC_CONFIG: { retriable: true, message: "the LEMF's IPsec settings could not be loaded into strongSwan" },
  DLV_ERR_CLOSED: { retriable: true, message: 'transport closed' },
  DLV_ERR_STATE: { retriable: true, message: 'delivery state (file number) could not be saved' },
  DLV_ERR_BAD_FILE_NAME: { retriable: false, message: 'file name pattern produced an unsafe name' },
  DLV_ERR_BAD_RECORD: { retriable: false, message: 'record cannot be delivered over this transport' },
  DLV_ERR_TIMESTAMP_PROFILE: {
    retriable: false,
    message: "record's times cannot be written as the LEMF's timestampProfile asks",
  },
});

export type DlvErrorCode = (typeof DLV_ERRORS.codes)[number];

/** A delivery failure as status, metrics and the DLQ carry it: plain data, no stack. */
export interface DeliveryError {
  code: DlvErrorCode;
  message: string;
  retriable: boolean;
}

export function dlvError(code: DlvErrorCode, detail?: string): DeliveryError {
  const e = DLV_ERRORS.error(code, detail);
  return { code, message: e.message, retriable: e.retriable };
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: DeliveryError };

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

export function fail<T>(code: DlvErrorCode, detail?: string): Result<T> {
  return { ok: false, error: dlvError(code, detail) };
}
