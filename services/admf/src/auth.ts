// Bearer tokens from configuration: token -> {subject, tenant, role}. Tokens are kept only as
// SHA-256 digests, so a lookup does not compare secrets character by character.
import { createHash } from 'node:crypto';
import type { Caller } from './domain/model.ts';
import { ROLES } from './domain/model.ts';
import { TENANT_ID_PATTERN } from './domain/tenant.ts';
import type { Result } from './errors.ts';
import { errResult, okResult } from './errors.ts';

export type TokenTable = Record<string, Caller>;

const digest = (token: string) => createHash('sha256').update(token).digest('hex');

export class TokenAuthenticator {
  private readonly byDigest = new Map<string, Caller>();

  private constructor() {}

  /** Checks the table once at start; a bad entry is a configuration error. */
  static fromTable(table: TokenTable): Result<TokenAuthenticator> {
    const a = new TokenAuthenticator();
    for (const [token, c] of Object.entries(table)) {
      const where = `tokens[${c?.subject ?? '?'}]`;
      if (token.length < 16)
        return errResult('ADM_ERR_VALIDATION', `${where}: token shorter than 16 characters`, where);
      if (!c || typeof c.subject !== 'string' || c.subject === '')
        return errResult('ADM_ERR_VALIDATION', `${where}: subject missing`, where);
      if (!ROLES.includes(c.role))
        return errResult('ADM_ERR_VALIDATION', `${where}: role must be ${ROLES.join(', ')}`, where);
      const operatorWide = c.tenant === '*' && c.role === 'admin';
      if (!operatorWide && !TENANT_ID_PATTERN.test(c.tenant)) {
        return errResult('ADM_ERR_VALIDATION', `${where}: tenant must be a tenant id ("*" only for admin)`, where);
      }
      a.byDigest.set(digest(token), { subject: c.subject, tenant: c.tenant, role: c.role });
    }
    return okResult(a);
  }

  authenticate(authorization: string | undefined): Result<Caller> {
    const m = /^Bearer ([\x21-\x7e]{1,512})$/i.exec(authorization ?? '');
    if (!m) return errResult('ADM_ERR_UNAUTHENTICATED', 'a bearer token is required');
    const c = this.byDigest.get(digest(m[1]!));
    return c ? okResult(c) : errResult('ADM_ERR_UNAUTHENTICATED', 'unknown token');
  }
}
