// Errors of the bus, matched on `code`. None carries record content or identifiers.
export const BUS_ERROR_CODES = [
  'BUS_ERR_TENANT', // a tenant id that is not a valid topic prefix
  'BUS_ERR_STREAM', // an unknown stream name
  'BUS_ERR_SCHEMA', // a value that does not match its Avro schema
  'BUS_ERR_DECODE', // bytes that are not a registry-framed Avro record of the expected schema
  'BUS_ERR_REGISTRY', // the schema registry refused or could not be reached
  'BUS_ERR_SECURITY', // Kafka TLS or SASL settings that cannot be used (missing file, bad combination)
  'BUS_ERR_TOPIC_LAYOUT', // partition or replication settings that cannot be used
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
