/**
 * Who checks a tenant's logins, in the gateway's terms. Kept apart from tenants.ts (which loads
 * the adapter registry) so the POP3 core can ask it without loading any adapter.
 */
import type { AdapterAuth } from '../adapters/contract.js';
import { UsersFile, userNameRuleFor } from './auth/users-file.js';

/**
 * `local`: the gateway verifies the login against its users file, then opens the mailbox.
 * `passthrough`: the backend verifies the POP3 credentials itself (IMAP login); `tokens` says
 * whether bearer tokens are passed on, `passwords` whether passwords are.
 */
export type AuthMode =
  /** `mapped`: after the check, the account's stored backend credentials open the mailbox. */
  | { readonly kind: 'local'; readonly users: UsersFile; readonly mapped: boolean }
  | { readonly kind: 'passthrough'; readonly passwords: boolean; readonly tokens: boolean };

/**
 * The adapter's auth mode with its users file opened (read lazily; `Tenants.check()` reads it).
 * `userName`: the tenant's setting, which decides what names its users file may hold.
 */
export function authModeFrom(auth: AdapterAuth, userName: string): AuthMode {
  return auth.kind === 'users-file' ? { kind: 'local', users: new UsersFile(auth.path, userNameRuleFor(userName)), mapped: auth.mapped } : auth;
}

/** How `popgate route` names an auth mode: the IMAP `auth:` values, or `users file`. */
export function describeAuth(auth: AdapterAuth): string {
  if (auth.kind === 'users-file') return auth.mapped ? 'mapped' : 'users file';
  return auth.passwords ? 'passthrough' : 'oauth';
}

/** The tenant passes OAuth bearer tokens on (so XOAUTH2/OAUTHBEARER can succeed). */
export function acceptsTokens(t: { readonly auth: AuthMode }): boolean {
  return t.auth.kind === 'passthrough' && t.auth.tokens;
}
