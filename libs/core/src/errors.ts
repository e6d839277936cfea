// One way to define a service's error codes: a table of <SVC>_ERR_* codes, each with its
// message, whether retrying can help, and the HTTP status an API answers with. The REST layer,
// the DLQ writer and the metrics all read the same table, so a code means one thing everywhere.

export interface ErrorSpec {
  /** What went wrong, for an operator; never target identifiers or content. */
  readonly message: string;
  /** True when waiting and trying again can help (an outage); false when the input is unusable. */
  readonly retriable: boolean;
  /** The HTTP status an API answers with; absent for codes that only reach the DLQ or a log. */
  readonly status?: number;
}

export type ErrorTable<P extends string> = Readonly<Record<`${P}_ERR_${string}`, ErrorSpec>>;

/** An error carrying a code from a table; `detail` adds to the table's message, never replaces it. */
export class CodedError<C extends string = string> extends Error {
  readonly code: C;
  readonly retriable: boolean;
  readonly status: number | undefined;
  constructor(code: C, spec: ErrorSpec, detail?: string, options?: { cause?: unknown }) {
    super(detail ? `${spec.message}: ${detail}` : spec.message, options);
    this.name = 'CodedError';
    this.code = code;
    this.retriable = spec.retriable;
    this.status = spec.status;
  }
}

export interface ErrorCodes<P extends string, T extends ErrorTable<P>> {
  readonly prefix: P;
  readonly table: T;
  /** The codes, for exhaustive lists (metrics initialisation, docs). */
  readonly codes: readonly (keyof T & string)[];
  error(code: keyof T & string, detail?: string, options?: { cause?: unknown }): CodedError<keyof T & string>;
  is(err: unknown, code?: keyof T & string): err is CodedError<keyof T & string>;
  retriable(code: keyof T & string): boolean;
  /** The table's HTTP status, or 500 for a code that has none. */
  status(code: keyof T & string): number;
}

const CODE = /^[A-Z]{2,4}_ERR_[A-Z0-9]+(?:_[A-Z0-9]+)*$/;

/** Checks the table once at start-up: a malformed table is a bug, so it throws. */
export function defineErrors<const P extends string, const T extends ErrorTable<P>>(
  prefix: P,
  table: T,
): ErrorCodes<P, T> {
  const codes = Object.keys(table) as (keyof T & string)[];
  for (const code of codes) {
    const spec = table[code] as ErrorSpec;
    if (!CODE.test(code) || !code.startsWith(`${prefix}_ERR_`))
      throw new TypeError(`error code ${code} is not ${prefix}_ERR_<NAME>`);
    if (!spec.message.trim()) throw new TypeError(`error code ${code} has no message`);
    if (spec.status !== undefined && !(Number.isInteger(spec.status) && spec.status >= 400 && spec.status <= 599))
      throw new TypeError(`error code ${code} has status ${spec.status}, not an HTTP error status`);
  }
  const spec = (code: keyof T & string): ErrorSpec => {
    const s = table[code] as ErrorSpec | undefined;
    if (!s) throw new TypeError(`unknown error code ${code}`);
    return s;
  };
  return {
    prefix,
    table,
    codes,
    error: (code, detail, options) => new CodedError(code, spec(code), detail, options),
    is: (err, code): err is CodedError<keyof T & string> =>
      err instanceof CodedError && (code === undefined ? Object.hasOwn(table, err.code) : err.code === code),
    retriable: (code) => spec(code).retriable,
    status: (code) => spec(code).status ?? 500,
  };
}

/**
 * The end of an exhaustive switch: the compiler refuses the call while a member of the union is
 * unhandled; at run time (a value from a newer peer) it throws, naming what was unexpected.
 */
export function unreachable(value: never, what: string): never {
  throw new TypeError(`unexpected ${what}: ${typeof value === 'string' ? value : typeof value}`);
}
