/**
 * popgate as the OAuth client of one identity provider (openid-client on oauth4webapi): the
 * provider's metadata by discovery (read on first use, read again after a failure), the
 * authorization-code flow with PKCE, `state` and `nonce`, refresh, client credentials and
 * revocation. openid-client is imported on first use, so a gateway without providers never
 * loads it.
 */
import type * as Oidc from 'openid-client';
import type { ProviderConfig } from './config.js';
import { classifyProviderError, ProviderError } from './provider-error.js';
import { providerSettings, type ProviderSettings } from './provider-settings.js';

type OidcModule = typeof Oidc;

/** An access token and what the provider said about it. */
export interface ProviderTokens {
  readonly accessToken: string;
  /** Seconds; undefined when the provider did not say. */
  readonly expiresIn: number | undefined;
  /** A new refresh token (a code exchange, or a rotation on refresh). */
  readonly refreshToken: string | undefined;
  readonly scopes: readonly string[] | undefined;
}

/** The secrets of one authorization request, kept until its callback. */
export interface AuthorizationSecrets {
  readonly state: string;
  readonly nonce: string;
  readonly codeVerifier: string;
}

/** Who consented, and the grant they gave. */
export interface ConsentResult {
  readonly subject: string;
  readonly address: string;
  readonly tokens: ProviderTokens;
}

let oidcModule: Promise<OidcModule> | undefined;
function loadOidc(): Promise<OidcModule> {
  oidcModule ??= import('openid-client');
  return oidcModule;
}

export class ProviderClient {
  readonly settings: ProviderSettings;
  private configuration: Promise<Oidc.Configuration> | undefined;

  constructor(
    readonly name: string,
    private readonly cfg: ProviderConfig,
    private readonly clientSecret: string,
  ) {
    this.settings = providerSettings(cfg);
  }

  get kind(): ProviderConfig['kind'] {
    return this.cfg.kind;
  }

  get redirectUrl(): string | undefined {
    return this.cfg.redirectUrl;
  }

  /** The URL to send the browser to, and the secrets its callback must match. */
  async authorizationRequest(options: { loginHint?: string } = {}): Promise<{ url: URL; secrets: AuthorizationSecrets }> {
    if (this.cfg.redirectUrl === undefined) throw new ProviderError('refused', `identity provider ${this.name} has no redirectUrl: it cannot link mailboxes`);
    const oidc = await loadOidc();
    const config = await this.config('reading its metadata');
    const secrets: AuthorizationSecrets = { state: oidc.randomState(), nonce: oidc.randomNonce(), codeVerifier: oidc.randomPKCECodeVerifier() };
    const url = oidc.buildAuthorizationUrl(config, {
      ...this.settings.authorizationParams,
      redirect_uri: this.cfg.redirectUrl,
      scope: this.settings.scopes.join(' '),
      response_type: 'code',
      state: secrets.state,
      nonce: secrets.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(secrets.codeVerifier),
      code_challenge_method: 'S256',
      ...(options.loginHint !== undefined && { login_hint: options.loginHint }),
    });
    return { url, secrets };
  }

  /**
   * Checks the callback's parameters (state, iss, error) against the request, exchanges the code
   * (with the PKCE verifier) and checks the ID token (signature, issuer, audience, nonce).
   */
  async finishAuthorization(callbackParams: URLSearchParams, secrets: AuthorizationSecrets): Promise<ConsentResult> {
    if (this.cfg.redirectUrl === undefined) throw new ProviderError('refused', `identity provider ${this.name} has no redirectUrl`);
    const oidc = await loadOidc();
    const config = await this.config('reading its metadata');
    const callback = new URL(this.cfg.redirectUrl);
    callback.search = callbackParams.toString();
    let response: Oidc.TokenEndpointResponse & Oidc.TokenEndpointResponseHelpers;
    try {
      response = await oidc.authorizationCodeGrant(config, callback, {
        expectedState: secrets.state,
        expectedNonce: secrets.nonce,
        pkceCodeVerifier: secrets.codeVerifier,
        idTokenExpected: true,
      });
    } catch (err) {
      const failure = classifyProviderError(err, this.name, 'finishing the consent');
      // A state, nonce or issuer that does not match is the callback's fault, not an outage.
      const e = err as { code?: unknown };
      if (failure.kind === 'unavailable' && typeof e.code === 'string' && /COMPARISON|INVALID_RESPONSE|PARSE_ERROR|TIMESTAMP/.test(e.code)) {
        throw new ProviderError('bad-callback', failure.message, failure.oauthError, { cause: err });
      }
      throw failure;
    }
    const claims = response.claims();
    if (claims === undefined)
      throw new ProviderError('bad-callback', `identity provider ${this.name}: the token response has no ID token (is 'openid' among the scopes?)`);
    const address = this.settings.addressClaims.map((c) => claims[c]).find((v): v is string => typeof v === 'string' && v !== '');
    if (address === undefined) {
      throw new ProviderError(
        'bad-callback',
        `identity provider ${this.name}: the ID token has none of the claims ${this.settings.addressClaims.join(', ')} (the mailbox address)`,
      );
    }
    if (response.refresh_token === undefined) {
      throw new ProviderError(
        'bad-callback',
        `identity provider ${this.name}: no refresh token was issued (check the scopes and authorizationParams: offline access)`,
      );
    }
    return { subject: claims.sub, address, tokens: tokensOf(response) };
  }

  /** A new access token from a refresh token (and, when the provider rotates them, a new refresh token). */
  async refresh(refreshToken: string): Promise<ProviderTokens> {
    const oidc = await loadOidc();
    const config = await this.config('reading its metadata');
    try {
      return tokensOf(await oidc.refreshTokenGrant(config, refreshToken));
    } catch (err) {
      throw classifyProviderError(err, this.name, 'refreshing a grant');
    }
  }

  /** An app-only access token (client-credentials grant). */
  async clientCredentials(): Promise<ProviderTokens> {
    const scopes = this.settings.appOnlyScopes;
    if (scopes === undefined) throw new ProviderError('refused', `identity provider ${this.name} has no appOnly settings`);
    const oidc = await loadOidc();
    const config = await this.config('reading its metadata');
    try {
      return tokensOf(await oidc.clientCredentialsGrant(config, scopes.length > 0 ? { scope: scopes.join(' ') } : {}));
    } catch (err) {
      throw classifyProviderError(err, this.name, 'getting an app-only token');
    }
  }

  /** Revokes a refresh token at the provider, when it has a revocation endpoint; resolves false when it has none. */
  async revoke(refreshToken: string): Promise<boolean> {
    const oidc = await loadOidc();
    const config = await this.config('reading its metadata');
    if (config.serverMetadata().revocation_endpoint === undefined) return false;
    try {
      await oidc.tokenRevocation(config, refreshToken, { token_type_hint: 'refresh_token' });
      return true;
    } catch (err) {
      throw classifyProviderError(err, this.name, 'revoking a grant');
    }
  }

  /** The provider's metadata, discovered once; a failed discovery is tried again on the next call. */
  private config(doing: string): Promise<Oidc.Configuration> {
    if (this.configuration === undefined) {
      const pending = this.discover().catch((err: unknown) => {
        if (this.configuration === pending) this.configuration = undefined;
        throw classifyProviderError(err, this.name, doing);
      });
      this.configuration = pending;
    }
    return this.configuration;
  }

  private async discover(): Promise<Oidc.Configuration> {
    const oidc = await loadOidc();
    const issuer = this.settings.issuer;
    // Loopback HTTP (a test or development IdP) is all the config lets through besides HTTPS.
    const insecure = issuer.protocol === 'http:';
    const auth = this.cfg.clientAuth === 'basic' ? oidc.ClientSecretBasic(this.clientSecret) : oidc.ClientSecretPost(this.clientSecret);
    return await oidc.discovery(issuer, this.cfg.clientId, { client_secret: this.clientSecret }, auth, {
      timeout: Math.ceil(this.cfg.timeoutMs / 1000),
      ...(insecure && { execute: [oidc.allowInsecureRequests] }),
    });
  }
}

function tokensOf(r: Oidc.TokenEndpointResponse): ProviderTokens {
  return {
    accessToken: r.access_token,
    expiresIn: typeof r.expires_in === 'number' ? r.expires_in : undefined,
    refreshToken: typeof r.refresh_token === 'string' && r.refresh_token !== '' ? r.refresh_token : undefined,
    scopes: typeof r.scope === 'string' ? r.scope.split(' ').filter((s) => s !== '') : undefined,
  };
}
