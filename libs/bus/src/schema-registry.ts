// The schema registry as the codecs use it: the Confluent-compatible API (a subject's schema →
// its id, an id → its schema) behind caches. Once a service knows its schemas it never asks the
// registry again: no call per record, and a registry outage does not stop a running pipeline.
// A registry that cannot be reached is waited for (start-up says so); one that answers "no" is an
// error, since waiting would not change its answer.

export interface RegistryApi {
  /** The id of `schema` under `subject`, registering it if the subject does not have it yet. */
  register(subject: string, schema: string): Promise<number>;
  /** The text of the schema with this id. */
  schemaById(id: number): Promise<string>;
}

/** The registry answered and refused (HTTP 4xx: unknown id, incompatible schema, no access). */
export class RegistryRefused extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = 'RegistryRefused';
    this.status = status;
  }
}

/** The registry could not be reached or failed (connection refused, timeout, HTTP 5xx). */
export class RegistryUnavailable extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RegistryUnavailable';
  }
}

/** The Confluent-compatible REST API at `url` (e.g. Apicurio's …/apis/ccompat/v7). */
export function httpRegistryApi(url: string, timeoutMs = 10_000): RegistryApi {
  const u = new URL(url);
  // fetch refuses credentials in a URL: send them as basic authentication instead.
  const auth = u.username
    ? `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`
    : undefined;
  u.username = '';
  u.password = '';
  const base = u.toString().replace(/\/+$/, '');
  async function call(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
    let res: Response;
    try {
      res = await fetch(`${base}${path}`, {
        method,
        headers: {
          accept: 'application/vnd.schemaregistry.v1+json, application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/vnd.schemaregistry.v1+json' }),
          ...(auth ? { authorization: auth } : {}),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const code = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
      throw new RegistryUnavailable(`schema registry at ${u.host} not reachable (${code})`, { cause: err });
    }
    const text = await res.text().catch(() => '');
    if (res.status >= 500) throw new RegistryUnavailable(`schema registry at ${u.host} failed: HTTP ${res.status}`);
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // a body that is not JSON: judged by the status alone
    }
    if (!res.ok) {
      // The registry's own message (e.g. "Schema 9 not found", an incompatibility): no record content.
      const why = typeof json.message === 'string' ? json.message : `HTTP ${res.status}`;
      throw new RegistryRefused(res.status, `schema registry at ${u.host} refused: ${why}`);
    }
    return json;
  }
  return {
    async register(subject, schema) {
      const r = await call('POST', `/subjects/${encodeURIComponent(subject)}/versions`, { schema });
      if (typeof r.id !== 'number')
        throw new RegistryRefused(200, 'schema registry answered a registration without id');
      return r.id;
    },
    async schemaById(id) {
      const r = await call('GET', `/schemas/ids/${id}`);
      if (typeof r.schema !== 'string')
        throw new RegistryRefused(200, `schema registry answered id ${id} without schema`);
      if (r.schemaType !== undefined && r.schemaType !== 'AVRO')
        throw new RegistryRefused(200, `schema id ${id} is ${String(r.schemaType)}, not Avro`);
      return r.schema;
    },
  };
}

export interface SchemaCacheOptions {
  /** Longest pause between attempts while the registry is unreachable (they start at 200 ms). */
  maxDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  /** Called once when a wait for the registry begins, and once when it ends. */
  onUnavailable?: (reason: string) => void;
  onAvailable?: (waitedMs: number) => void;
}

const sleepFor = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Schema ids by subject and schema, and schemas by id, each asked of the registry once (and
 * once at a time). A registration waits while the registry is unreachable; a schema lookup does
 * not (it throws RegistryUnavailable, and the caller retries its batch).
 */
export class SchemaCache {
  readonly #api: RegistryApi;
  readonly #o: SchemaCacheOptions;
  readonly #ids = new Map<string, Promise<number>>();
  readonly #schemas = new Map<number, Promise<string>>();
  #waiters = 0;
  #closed = false;
  #unavailableSince: number | undefined;
  #lastProblem = '';

  constructor(api: RegistryApi, options: SchemaCacheOptions = {}) {
    this.#api = api;
    this.#o = options;
  }

  /** The id of `schema` under `subject`: from the cache, or registered (waiting for the registry). */
  idOf(subject: string, schema: string): Promise<number> {
    const key = `${subject}\u0000${schema}`;
    let id = this.#ids.get(key);
    if (!id) {
      id = this.#register(subject, schema);
      this.#ids.set(key, id);
      id.then(
        (n) => {
          // Our own schema: a record carrying this id needs no lookup.
          if (!this.#schemas.has(n)) this.#schemas.set(n, Promise.resolve(schema));
        },
        () => this.#ids.delete(key),
      );
    }
    return id;
  }

  /** The schema with this id: from the cache, or asked once; throws RegistryUnavailable while it is away. */
  schemaOf(id: number): Promise<string> {
    let s = this.#schemas.get(id);
    if (!s) {
      s = this.#api.schemaById(id);
      this.#schemas.set(id, s);
      s.catch(() => this.#schemas.delete(id));
    }
    return s;
  }

  /** Ends every wait for the registry (the bus is closing): those registrations fail. */
  close(): void {
    this.#closed = true;
  }

  /** What a registration is waiting for now, or undefined. */
  waiting(): string | undefined {
    if (this.#waiters === 0 || this.#unavailableSince === undefined) return undefined;
    const s = Math.round(((this.#o.now ?? Date.now)() - this.#unavailableSince) / 1000);
    return `waiting for the schema registry for ${s} s: ${this.#lastProblem}`;
  }

  async #register(subject: string, schema: string): Promise<number> {
    const now = this.#o.now ?? Date.now;
    const sleep = this.#o.sleep ?? sleepFor;
    const maxDelay = this.#o.maxDelayMs ?? 5_000;
    this.#waiters++;
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          const id = await this.#api.register(subject, schema);
          if (this.#unavailableSince !== undefined) {
            const waited = now() - this.#unavailableSince;
            this.#unavailableSince = undefined;
            this.#o.onAvailable?.(waited);
          }
          return id;
        } catch (err) {
          // Services starting together may register a new subject at once: the loser of that
          // race can be told of a conflict, and finds the schema in place when it asks again.
          if (err instanceof RegistryRefused && err.status === 409 && attempt < 4) {
            await sleep(100 * (attempt + 1));
            continue;
          }
          if (!(err instanceof RegistryUnavailable) || this.#closed) throw err;
          this.#lastProblem = err.message;
          if (this.#unavailableSince === undefined) {
            this.#unavailableSince = now();
            this.#o.onUnavailable?.(err.message);
          }
          await sleep(Math.min(maxDelay, 200 * 2 ** Math.min(attempt, 10)));
        }
      }
    } finally {
      this.#waiters--;
    }
  }
}
