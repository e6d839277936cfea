// admf's REST API, same origin, the bearer token held in memory only (never in a URL, cookie or
// storage). Identifiers go in paths admf already defines or in POST bodies; the console's own
// address never carries one.
export interface ApiError {
  status: number;
  code: string;
  message: string;
  field?: string;
}

export interface Caller {
  subject: string;
  tenant: string;
  role: 'admin' | 'provisioner' | 'auditor';
}

let token: string | null = null;

export const setToken = (t: string | null): void => {
  token = t;
};

export class Failed extends Error {
  readonly error: ApiError;
  constructor(error: ApiError) {
    super(error.message);
    this.error = error;
  }
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    headers: {
      authorization: `Bearer ${token ?? ''}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? null : JSON.stringify(body),
    credentials: 'omit',
    cache: 'no-store',
    referrerPolicy: 'no-referrer',
  });
  const json = (await res.json().catch(() => ({}))) as { error?: Omit<ApiError, 'status'> };
  if (!res.ok) {
    throw new Failed({
      status: res.status,
      code: json.error?.code ?? 'HTTP',
      message: json.error?.message ?? res.statusText,
      ...(json.error?.field ? { field: json.error.field } : {}),
    });
  }
  return json as T;
}

/** tenant path segment */
export const tp = (tenant: string) => `/tenants/${encodeURIComponent(tenant)}`;
/** a warrant's path in admf's API (key "<country>:<LIID>") */
export const wp = (tenant: string, key: string) => {
  const [country, liid] = key.split(':');
  return `${tp(tenant)}/warrants/${encodeURIComponent(country ?? '')}/${encodeURIComponent(liid ?? '')}`;
};
