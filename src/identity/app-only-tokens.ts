/**
 * App-only access tokens (client-credentials grant): one token per provider opens every mailbox
 * the application was granted, so it is cached once for all logins and renewed before it
 * expires, one request at a time.
 */
import { StoreError, type BackendLogin, type TokenSource } from '../../adapters/contract.js';
import type { Logger } from '../logger.js';
import type { ProviderClient } from './provider-client.js';
import { ProviderError } from './provider-error.js';
import { refreshTimeFor } from './token-broker.js';

const DEFAULT_LIFETIME_S = 3600;

export class AppOnlyTokens implements TokenSource {
  readonly renewable = true;
  private cached: { readonly token: string; readonly refreshAt: number } | undefined;
  private minting: Promise<string> | undefined;
  /** Token requests sent (for tests). */
  requests = 0;

  constructor(
    private readonly client: ProviderClient,
    private readonly logger: Logger,
  ) {}

  async accessToken(_login: BackendLogin, signal: AbortSignal): Promise<string> {
    if (this.cached !== undefined && Date.now() < this.cached.refreshAt) return this.cached.token;
    this.minting ??= this.mint().finally(() => (this.minting = undefined));
    const pending = this.minting;
    signal.throwIfAborted();
    return await pending;
  }

  invalidate(_login: BackendLogin, token: string): void {
    if (this.cached?.token === token) this.cached = undefined;
  }

  private async mint(): Promise<string> {
    this.requests++;
    try {
      const tokens = await this.client.clientCredentials();
      this.cached = { token: tokens.accessToken, refreshAt: refreshTimeFor(tokens.expiresIn ?? DEFAULT_LIFETIME_S) };
      return tokens.accessToken;
    } catch (err) {
      const e = err instanceof ProviderError ? err : new ProviderError('unavailable', (err as Error).message, undefined, { cause: err });
      if (e.kind === 'unavailable') {
        this.logger.warn({ provider: this.client.name, err: e.message }, 'identity: the app-only token cannot be had now; logins fail with [SYS/TEMP]');
        throw new StoreError('TEMPORARY', e.message, { cause: err });
      }
      this.logger.error(
        { provider: this.client.name, err: e.message },
        `identity: ${this.client.name} refuses the app-only token request: check the client secret, that the application permission (IMAP.AccessAsApp / POP.AccessAsApp) has admin consent, and the tenant id`,
      );
      throw new StoreError('PERMANENT', e.message, { cause: err });
    }
  }
}
