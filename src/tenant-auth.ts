/**
 * Who checks a tenant's logins, in the gateway's terms. Kept apart from tenants.ts (which loads
 * the adapter registry) so the POP3 core can ask it without loading any adapter.
 */
import type { AdapterAuth, TokenSource } from '../adapters/contract.js';
import { UsersFile, userNameRuleFor } from './auth/users-file.js';
import type { DeviceLogins } from './identity/device-logins.js';

/**
 * `local`: the gateway verifies the login against its users file, then opens the mailbox.
 * `passthrough`: the backend verifies the POP3 credentials itself (IMAP login); `tokens` says
 * whether bearer tokens are passed on, `passwords` whether passwords are.
 * `grant`: the gateway verifies a device password of the account's link, then opens the linked
 * mailbox with an access token from the account's grant.
 */
export type AuthMode =
  /**
   * `mapped`: after the check, the account's stored backend credentials open the mailbox.
   * `appTokens`: after the check, an app-only token opens the mailbox (client credentials).
   */
  | { readonly kind: 'local'; readonly users: UsersFile; readonly mapped: boolean; readonly appTokens?: TokenSource }
  | { readonly kind: 'passthrough'; readonly passwords: boolean; readonly tokens: boolean }
  | { readonly kind: 'grant'; readonly provider: string; readonly devices: DeviceLogins; readonly tokens: TokenSource };

/** What the identity side gives a tenant whose auth names a provider. */
export interface IdentityParts {
  /** The tenant's token source (grant or app-only). */
  readonly tokens: TokenSource | undefined;
  /** The device-password check (grant tenants). */
  readonly devices: DeviceLogins | undefined;
}

/**
 * The adapter's auth mode with its users file opened (read lazily; `Tenants.check()` reads it).
 * `userName`: the tenant's setting, which decides what names its users file may hold.
 */
export function authModeFrom(auth: AdapterAuth, userName: string, identity: IdentityParts = { tokens: undefined, devices: undefined }): AuthMode {
  switch (auth.kind) {
    case 'users-file':
      return { kind: 'local', users: new UsersFile(auth.path, userNameRuleFor(userName)), mapped: auth.mapped };
    case 'app-only':
      if (identity.tokens === undefined) throw new Error(`auth app-only at ${auth.provider}: no token source`);
      return { kind: 'local', users: new UsersFile(auth.path, userNameRuleFor(userName)), mapped: false, appTokens: identity.tokens };
    case 'grant':
      if (identity.tokens === undefined || identity.devices === undefined) throw new Error(`auth grant at ${auth.provider}: no grants store`);
      return { kind: 'grant', provider: auth.provider, devices: identity.devices, tokens: identity.tokens };
    case 'passthrough':
      return auth;
  }
}

/** How `popgate route` names an auth mode: the IMAP `auth:` values, or `users file`. */
export function describeAuth(auth: AdapterAuth): string {
  switch (auth.kind) {
    case 'users-file':
      return auth.mapped ? 'mapped' : 'users file';
    case 'grant':
      return `device password, grant at ${auth.provider}`;
    case 'app-only':
      return `users file, app-only token of ${auth.provider}`;
    case 'passthrough':
      return auth.passwords ? 'passthrough' : 'oauth';
  }
}

/** The tenant passes OAuth bearer tokens on (so XOAUTH2/OAUTHBEARER can succeed). */
export function acceptsTokens(t: { readonly auth: AuthMode }): boolean {
  return t.auth.kind === 'passthrough' && t.auth.tokens;
}

/** The token source that minted a tenant's backend logins, if any (grant, app-only). */
export function mintedTokensOf(auth: AuthMode): TokenSource | undefined {
  if (auth.kind === 'grant') return auth.tokens;
  return auth.kind === 'local' ? auth.appTokens : undefined;
}
