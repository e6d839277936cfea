// Bearer tokens from configuration: token -> {subject, tenant, role}. Tokens are kept only as
// SHA-256 digests, so a lookup does not compare secrets character by character.
import { createHash } from 'node:crypto';

/**
 * admin, provisioner and auditor act through admf's and mcid-store's APIs; viewer (SRE,
 * helpdesk) only reads delivery health in admf and writes nothing anywhere; mailserver only
 * posts mail-server events to ingest. Each service decides which roles may do what.
 */
export const ROLES = ['admin', 'provisioner', 'auditor', 'viewer', 'mailserver'] as const;
export type Role = (typeof ROLES)[number];

/** Who is acting. tenant "*" is an operator-wide admin. */
export interface Caller {
  subject: string;
  tenant: string;
  role: Role;
}

export type TokenTable = Record<string, Caller>;

/** The same rule as validateTenant() in @li/bus: tenant ids become topic names li.<tenant>.*. */
export const TENANT_ID_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/;

export const AUTH_ERRORS = {
  /** No credential, or one that is not in the table: HTTP 401. */
  AUTH_ERR_UNAUTHENTICATED: { status: 401, retriable: false },
  /** The token table itself is wrong: a configuration error at start. */
  AUTH_ERR_TOKEN_TABLE: { status: 500, retriable: false },
} as const;
export type AuthErrorCode = keyof typeof AUTH_ERRORS;

export interface AuthError {
  code: AuthErrorCode;
  message: string;
  /** For AUTH_ERR_TOKEN_TABLE: which entry, by subject (never the token). */
  field?: string;
}

export type AuthResult<T> = { ok: true; value: T } | { ok: false; error: AuthError };

const ok = <T>(value: T): AuthResult<T> => ({ ok: true, value });
const fail = <T = never>(code: AuthErrorCode, message: string, field?: string): AuthResult<T> => ({
  ok: false,
  error: field === undefined ? { code, message } : { code, message, field },
});

const digest = (token: string) => createHash('sha256').update(token).digest('hex');

export const isOperatorAdmin = (c: Caller): boolean => c.tenant === '*' && c.role === 'admin';

export interface AuthenticateOptions {
  /**
   * Also take `Basic base64(<any user>:<token>)`: for clients that can only put credentials
   * in a URL (Dovecot's event exporter). Off by default.
   */
  basic?: boolean;
}

export class TokenAuthenticator {
  private readonly byDigest = new Map<string, Caller>();

  private constructor() {}

  /** Checks the table once at start; a bad entry is a configuration error. */
  static fromTable(table: unknown): AuthResult<TokenAuthenticator> {
    if (typeof table !== 'object' || table === null || Array.isArray(table)) {
      return fail('AUTH_ERR_TOKEN_TABLE', 'tokens: expected a map of token -> {subject, tenant, role}');
    }
    const a = new TokenAuthenticator();
    for (const [token, c] of Object.entries(table as Record<string, Partial<Caller> | null>)) {
      const where = `tokens[${typeof c?.subject === 'string' ? c.subject : '?'}]`;
      if (token.length < 16 || !/^[\x21-\x7e]{16,512}$/.test(token)) {
        return fail('AUTH_ERR_TOKEN_TABLE', `${where}: token must be 16-512 printable characters`, where);
      }
      if (!c || typeof c.subject !== 'string' || c.subject === '') {
        return fail('AUTH_ERR_TOKEN_TABLE', `${where}: subject missing`, where);
      }
      if (!ROLES.includes(c.role as Role)) {
        return fail('AUTH_ERR_TOKEN_TABLE', `${where}: role must be ${ROLES.join(', ')}`, where);
      }
      const operatorWide = c.tenant === '*' && c.role === 'admin';
      if (!operatorWide && (typeof c.tenant !== 'string' || !TENANT_ID_PATTERN.test(c.tenant))) {
        return fail('AUTH_ERR_TOKEN_TABLE', `${where}: tenant must be a tenant id ("*" only for admin)`, where);
      }
      a.byDigest.set(digest(token), { subject: c.subject, tenant: c.tenant as string, role: c.role as Role });
    }
    return ok(a);
  }

  /** The caller behind an Authorization header value. */
  authenticate(authorization: string | undefined, options: AuthenticateOptions = {}): AuthResult<Caller> {
    const token = tokenOf(authorization ?? '', options.basic === true);
    if (token === undefined) return fail('AUTH_ERR_UNAUTHENTICATED', 'a bearer token is required');
    const c = this.byDigest.get(digest(token));
    return c ? ok(c) : fail('AUTH_ERR_UNAUTHENTICATED', 'unknown token');
  }
}

function tokenOf(header: string, basic: boolean): string | undefined {
  // Scheme names are case-insensitive (RFC 7235 section 2.1).
  const bearer = /^Bearer ([\x21-\x7e]{1,512})$/i.exec(header);
  if (bearer) return bearer[1];
  if (!basic) return undefined;
  const b = /^Basic ([A-Za-z0-9+/]{1,1024}={0,2})$/i.exec(header);
  if (!b) return undefined;
  const decoded = Buffer.from(b[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const password = colon < 0 ? '' : decoded.slice(colon + 1);
  return /^[\x21-\x7e]{1,512}$/.test(password) ? password : undefined;
}
