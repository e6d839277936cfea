// DLV_ERR_* codes of cc-delivery. `retriable` says whether waiting and trying again can help
// (a LEMF outage) or whether the input itself is unusable (dead-letter it, keep going).

export const DLV_ERRORS = {
  DLV_ERR_UNKNOWN_TRANSPORT: { retriable: true, text: 'unknown transport in LEMF config' },
  DLV_ERR_BAD_CONFIG: { retriable: true, text: 'LEMF config incomplete or invalid' },
  DLV_ERR_CONNECT: { retriable: true, text: 'cannot connect to LEMF' },
  DLV_ERR_NOT_CONNECTED: { retriable: true, text: 'LEMF connection not established' },
  DLV_ERR_CONNECTION_LOST: { retriable: true, text: 'LEMF connection lost' },
  DLV_ERR_TLS: { retriable: true, text: 'TLS handshake failed' },
  DLV_ERR_AUTH: { retriable: true, text: 'LEMF rejected credentials' },
  DLV_ERR_HOST_KEY: { retriable: true, text: 'SFTP server host key does not match the pinned fingerprint' },
  DLV_ERR_TIMEOUT: { retriable: true, text: 'LEMF did not answer in time' },
  DLV_ERR_KEEPALIVE_TIMEOUT: { retriable: true, text: 'no keep-alive response in time' },
  DLV_ERR_UPLOAD: { retriable: true, text: 'file upload or rename failed' },
  DLV_ERR_SMTP: { retriable: true, text: 'SMTP server did not accept the report' },
  DLV_ERR_PIPE: { retriable: true, text: 'PIPE program not running or write failed' },
  DLV_ERR_PIPE_ENTRY: { retriable: true, text: "PIPE entry not in the operator's allow-list (pipeCommands)" },
  DLV_ERR_SECRET_REF: {
    retriable: true,
    text: "secret reference is not a plain name in the tenant's own secret directory",
  },
  DLV_ERR_INSECURE: { retriable: true, text: 'plaintext transport refused (the LEMF does not set allowInsecure)' },
  DLV_ERR_LEMF_FLOOD: { retriable: true, text: 'LEMF sent more than its read limit; connection closed' },
  DLV_ERR_LEMF_PROTOCOL: { retriable: true, text: 'LEMF sent bytes that are not the protocol; connection closed' },
  DLV_ERR_CLOSED: { retriable: true, text: 'transport closed' },
  DLV_ERR_STATE: { retriable: true, text: 'delivery state (file number) could not be saved' },
  DLV_ERR_BAD_FILE_NAME: { retriable: false, text: 'file name pattern produced an unsafe name' },
  DLV_ERR_BAD_RECORD: { retriable: false, text: 'record cannot be delivered over this transport' },
} as const;

export type DlvErrorCode = keyof typeof DLV_ERRORS;

export interface DeliveryError {
  code: DlvErrorCode;
  message: string;
  retriable: boolean;
}

export function dlvError(code: DlvErrorCode, detail?: string): DeliveryError {
  const base = DLV_ERRORS[code];
  return { code, message: detail ? `${base.text}: ${detail}` : base.text, retriable: base.retriable };
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: DeliveryError };

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

export function fail<T>(code: DlvErrorCode, detail?: string): Result<T> {
  return { ok: false, error: dlvError(code, detail) };
}
