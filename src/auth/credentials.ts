/** What a client proved at login, before routing. Never logged. */
export type Credentials =
  | { readonly kind: 'password'; readonly login: string; readonly password: string }
  | { readonly kind: 'apop'; readonly login: string; readonly timestamp: string; readonly digest: string }
  | { readonly kind: 'cram-md5'; readonly login: string; readonly challenge: string; readonly digest: string }
  /** An OAuth 2 access token (SASL XOAUTH2 or OAUTHBEARER, RFC 7628), passed on to the backend. */
  | { readonly kind: 'bearer'; readonly login: string; readonly token: string };

/** Challenge-response methods need the server to hold a shared secret. */
export function needsSharedSecret(c: Credentials): boolean {
  return c.kind === 'apop' || c.kind === 'cram-md5';
}
