// Errors of the bus, matched on `code`. None carries record content or identifiers.
export const BUS_ERROR_CODES = [
  'BUS_ERR_TENANT', // a tenant id that is not a valid topic prefix
  'BUS_ERR_STREAM', // an unknown stream name
  'BUS_ERR_SCHEMA', // a value that does not match its Avro schema
  'BUS_ERR_DECODE', // bytes that are not a registry-framed Avro record of the expected schema
  'BUS_ERR_REGISTRY', // the schema registry refused or could not be reached
  'BUS_ERR_SECURITY', // Kafka TLS or SASL settings that cannot be used (missing file, bad combination)
  'BUS_ERR_TOPIC_LAYOUT', // partition or replication settings that cannot be used
  'BUS_ERR_HEADER', // a li.* record header missing or malformed (names the header, never its value)
  'BUS_ERR_FENCED', // a transactional id or leadership another instance holds now: this one may not write
  'BUS_ERR_SEND', // a send failed for good; `acknowledged` says how many of its first records Kafka has
] as const;
export type BusErrorCode = (typeof BUS_ERROR_CODES)[number];

export class BusError extends Error {
  readonly code: BusErrorCode;
  readonly retriable: boolean;
  constructor(code: BusErrorCode, message: string, options: { retriable?: boolean; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'BusError';
    this.code = code;
    this.retriable = options.retriable ?? false;
  }
}

export function isBusError(err: unknown, code?: BusErrorCode): err is BusError {
  return (
    err instanceof Error &&
    (err as BusError).name === 'BusError' &&
    (code === undefined || (err as BusError).code === code)
  );
}

/**
 * Bus.send failed for good after Kafka acknowledged the first `acknowledged` records, in order:
 * a caller that sends again sends only the rest (the acknowledged ones would be written twice).
 * The records of the request that failed may have been written too (its answer may be what was
 * lost): only these are known to be in Kafka.
 */
export class BusSendError extends BusError {
  readonly acknowledged: number;
  constructor(acknowledged: number, total: number, cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super('BUS_ERR_SEND', `send failed with ${acknowledged} of ${total} records acknowledged: ${why}`, { cause });
    this.acknowledged = acknowledged;
  }
}

/** How many of a failed send's first records Kafka acknowledged (0 if the error does not say). */
export function acknowledgedBefore(err: unknown): number {
  return isBusError(err, 'BUS_ERR_SEND') ? ((err as BusSendError).acknowledged ?? 0) : 0;
}
