/**
 * What each provider kind means in concrete terms: its issuer, the scopes and authorization
 * parameters that give popgate a refresh token for mail, the claims that carry the mailbox
 * address, and the app-only scope. The values follow each provider's documentation (README,
 * "Identity providers").
 */
import type { ProviderConfig } from './config.js';

export const GOOGLE_MAIL_SCOPE = 'https://mail.google.com/';
export const MICROSOFT_IMAP_SCOPE = 'https://outlook.office.com/IMAP.AccessAsUser.All';
export const MICROSOFT_POP_SCOPE = 'https://outlook.office.com/POP.AccessAsUser.All';
/** Exchange Online's application permissions (IMAP.AccessAsApp, POP.AccessAsApp) are asked for as `.default`. */
export const MICROSOFT_APP_ONLY_SCOPE = 'https://outlook.office365.com/.default';

export interface ProviderSettings {
  /** Issuer identifier: discovery reads `<issuer>/.well-known/openid-configuration`. */
  readonly issuer: URL;
  readonly scopes: readonly string[];
  readonly authorizationParams: Readonly<Record<string, string>>;
  readonly addressClaims: readonly string[];
  /** Undefined: the provider offers no app-only access in this config. */
  readonly appOnlyScopes: readonly string[] | undefined;
}

export function providerSettings(p: ProviderConfig): ProviderSettings {
  switch (p.kind) {
    case 'google':
      return {
        issuer: new URL('https://accounts.google.com'),
        scopes: p.scopes ?? ['openid', 'email', GOOGLE_MAIL_SCOPE],
        // A refresh token comes only with access_type=offline, and again on a later consent only
        // when the consent screen is shown (prompt=consent).
        authorizationParams: p.authorizationParams ?? { access_type: 'offline', prompt: 'consent' },
        addressClaims: p.addressClaims ?? ['email'],
        appOnlyScopes: undefined,
      };
    case 'microsoft':
      return {
        issuer: new URL(`${p.authority.replace(/\/+$/, '')}/${p.tenant}/v2.0`),
        scopes: p.scopes ?? ['openid', 'email', 'offline_access', MICROSOFT_IMAP_SCOPE, MICROSOFT_POP_SCOPE],
        authorizationParams: p.authorizationParams ?? { prompt: 'select_account' },
        // `email` is optional in Entra ID tokens; `preferred_username` is the sign-in name (the UPN).
        addressClaims: p.addressClaims ?? ['email', 'preferred_username'],
        appOnlyScopes: p.appOnly === undefined ? undefined : (p.appOnly.scopes ?? [MICROSOFT_APP_ONLY_SCOPE]),
      };
    case 'oidc':
      return {
        issuer: new URL(p.issuer),
        scopes: p.scopes ?? ['openid', 'email', 'offline_access'],
        // Many servers (oidc-provider, Keycloak) issue a refresh token for offline_access only after an explicit consent.
        authorizationParams: p.authorizationParams ?? { prompt: 'consent' },
        addressClaims: p.addressClaims ?? ['email'],
        appOnlyScopes: p.appOnly === undefined ? undefined : (p.appOnly.scopes ?? []),
      };
  }
}
