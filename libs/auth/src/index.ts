export { loadTokenFile } from './token-file.ts';
export type { AuthError, AuthErrorCode, AuthenticateOptions, AuthResult, Caller, Role, TokenTable } from './tokens.ts';
export { AUTH_ERRORS, isOperatorAdmin, ROLES, TENANT_ID_PATTERN, TokenAuthenticator } from './tokens.ts';
