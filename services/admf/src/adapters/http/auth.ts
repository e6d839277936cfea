// admf's view of @li/auth: the shared bearer-token table with admf's error codes.
import { TokenAuthenticator as SharedAuthenticator, type TokenTable } from '@li/auth';
import type { Caller } from '../../domain/model.ts';
import type { Result } from '../../errors.ts';
import { errResult, okResult } from '../../errors.ts';

export class TokenAuthenticator {
  private readonly shared: SharedAuthenticator;

  private constructor(shared: SharedAuthenticator) {
    this.shared = shared;
  }

  /** Checks the table once at start; a bad entry is a configuration error. */
  static fromTable(table: TokenTable): Result<TokenAuthenticator> {
    const r = SharedAuthenticator.fromTable(table);
    if (!r.ok) return errResult('ADM_ERR_VALIDATION', r.error.message, r.error.field);
    return okResult(new TokenAuthenticator(r.value));
  }

  /** A table already checked by @li/auth (loadTokenFile). */
  static fromShared(shared: SharedAuthenticator): TokenAuthenticator {
    return new TokenAuthenticator(shared);
  }

  authenticate(authorization: string | undefined): Result<Caller> {
    const r = this.shared.authenticate(authorization);
    return r.ok ? okResult(r.value) : errResult('ADM_ERR_UNAUTHENTICATED', r.error.message);
  }
}
