/**
 * Access tokens from the stored grants. One token per account, cached until shortly before it
 * expires; one refresh per account at a time, however many sessions ask at once (the others
 * wait for the same answer); a rotated refresh token is sealed and stored before the new access
 * token is handed out. A grant the provider refuses (`invalid_grant`) marks the link
 * "needs re-consent" and says in the log what the user must do.
 *
 * Refreshes are serialised within this process only: gateways sharing one grants file do not
 * coordinate theirs, and a provider that rotates refresh tokens and ends a grant whose spent
 * token is used again may then end it. Several gateways share grants through a shared store.
 */
import { LRUCache } from 'lru-cache';
import { StoreError } from '../../adapters/contract.js';
import { loggableName } from '../../adapters/shared/log-text.js';
import type { Logger } from '../logger.js';
import type { GrantRecord } from './grant-record.js';
import type { GrantStore } from './grant-store.js';
import type { KeySource } from './key-source.js';
import { UnsealError, type Sealed } from './keyring.js';
import type { ProviderClient } from './provider-client.js';
import { ProviderError } from './provider-error.js';

/** Accounts whose access tokens are cached (a token is a few KB at most). */
const CACHED_ACCOUNTS = 10_000;
/** Without expires_in, a token is taken to live this long (RFC 6749 leaves it to the provider). */
const DEFAULT_LIFETIME_S = 3600;

interface Cached {
  readonly token: string;
  readonly refreshAt: number;
}

/** Renewed before it runs out: a request sent with a token about to expire earns a refusal. */
export function refreshTimeFor(lifetimeS: number, now = Date.now()): number {
  const lifetimeMs = lifetimeS * 1000;
  return now + lifetimeMs - Math.min(300_000, lifetimeMs / 4);
}

export class TokenBroker {
  private readonly cache = new LRUCache<string, Cached>({ max: CACHED_ACCOUNTS });
  private readonly refreshing = new Map<string, Promise<string>>();
  /** Refreshes sent to providers (for tests and metrics). */
  refreshes = 0;

  constructor(
    private readonly store: GrantStore,
    private readonly keys: KeySource,
    private readonly providers: ReadonlyMap<string, ProviderClient>,
    private readonly logger: Logger,
  ) {}

  /**
   * An access token for the account's grant at `provider`.
   * @throws StoreError AUTH_FAILED (no usable grant: not linked, revoked, needs re-consent),
   *   PERMANENT (the provider refuses the gateway: an operator must act) or TEMPORARY (outage)
   */
  async accessToken(account: string, provider: string, signal?: AbortSignal): Promise<string> {
    const cached = this.cache.get(cacheKey(account, provider));
    if (cached !== undefined && Date.now() < cached.refreshAt) return cached.token;
    const key = cacheKey(account, provider);
    let pending = this.refreshing.get(key);
    if (pending === undefined) {
      // Not tied to one session's signal: every session of the account waits for this refresh.
      pending = this.refresh(account, provider).finally(() => this.refreshing.delete(key));
      this.refreshing.set(key, pending);
    }
    return signal === undefined ? await pending : await abortable(pending, signal);
  }

  /** The backend refused `token`: the next accessToken() refreshes. */
  invalidate(account: string, provider: string, token: string): void {
    const key = cacheKey(account, provider);
    if (this.cache.get(key)?.token === token) this.cache.delete(key);
  }

  /** Forgets the account's cached token (its link was revoked or replaced). */
  forget(account: string): void {
    for (const key of [...this.cache.keys()]) if (key.startsWith(`${account}\0`)) this.cache.delete(key);
  }

  private async refresh(account: string, providerName: string): Promise<string> {
    const log = { account: loggableName(account), provider: providerName };
    const record = await this.store.get(account).catch((err: unknown) => {
      throw new StoreError('TEMPORARY', `grants store unreadable: ${(err as Error).message}`, { cause: err });
    });
    const usable = this.usableGrant(record, providerName);
    if (typeof usable === 'string') throw new StoreError('AUTH_FAILED', `account ${loggableName(account)}: ${usable}`);
    const client = this.providers.get(providerName);
    if (client === undefined) throw new StoreError('PERMANENT', `identity provider ${providerName} is not configured`);
    let refreshToken: string;
    try {
      refreshToken = this.keys.keyringWith(usable.kid).unseal(usable, account);
    } catch (err) {
      const why = err instanceof UnsealError ? err.message : (err as Error).message;
      this.logger.error({ ...log, err: why }, 'the stored grant cannot be decrypted: is the key that sealed it still in the grants key file (keyFile/keyEnv)?');
      throw new StoreError('PERMANENT', `account ${loggableName(account)}: the stored grant cannot be decrypted`, { cause: err });
    }
    this.refreshes++;
    let tokens;
    try {
      tokens = await client.refresh(refreshToken);
    } catch (err) {
      throw await this.refused(err, account, providerName, record as GrantRecord, usable);
    }
    if (tokens.refreshToken !== undefined && tokens.refreshToken !== refreshToken) {
      // Rotation: the old refresh token is spent; the new one must be stored before anything else.
      await this.store.update(account, (current) => {
        if (current === undefined || current.provider !== providerName) return current;
        return {
          ...current,
          refreshToken: this.keys.keyring().seal(tokens.refreshToken as string, account),
          ...(tokens.scopes !== undefined && { scopes: [...tokens.scopes] }),
          updatedAt: new Date().toISOString(),
        };
      });
      this.logger.debug(log, 'identity: refresh token rotated and stored');
    }
    this.cache.set(cacheKey(account, providerName), { token: tokens.accessToken, refreshAt: refreshTimeFor(tokens.expiresIn ?? DEFAULT_LIFETIME_S) });
    this.logger.debug({ ...log, expiresIn: tokens.expiresIn }, 'identity: access token refreshed');
    return tokens.accessToken;
  }

  /** The sealed refresh token, or why there is none to use. */
  private usableGrant(record: GrantRecord | undefined, provider: string): Sealed | string {
    if (record === undefined) return 'no linked mailbox';
    if (record.provider !== provider) return `linked at provider ${record.provider}, not ${provider}`;
    if (record.state !== 'linked') return `the link is ${record.state}`;
    return record.refreshToken ?? 'the link has no refresh token';
  }

  private async refused(err: unknown, account: string, provider: string, record: GrantRecord, used: Sealed): Promise<StoreError> {
    const log = { account: loggableName(account), provider, address: loggableName(record.address) };
    if (!(err instanceof ProviderError)) return new StoreError('TEMPORARY', `identity provider ${provider}: ${(err as Error).message}`, { cause: err });
    switch (err.kind) {
      case 'invalid-grant': {
        await this.store
          .update(account, (current) => {
            // Only the grant that was refused: a link made again meanwhile stays as it is.
            if (current === undefined || current.provider !== provider || current.state !== 'linked' || current.refreshToken?.data !== used.data)
              return current;
            const { refreshToken: _dead, ...rest } = current;
            return { ...rest, state: 'needs-reconsent', stateReason: err.oauthError ?? 'invalid_grant', updatedAt: new Date().toISOString() };
          })
          .catch((e: unknown) => this.logger.error({ ...log, err: (e as Error).message }, 'identity: cannot record that the link needs re-consent'));
        this.forget(account);
        this.logger.error(
          { ...log, err: err.message },
          `identity: ${provider} refused the stored grant (invalid_grant: revoked, expired, or the password changed); the link is now "needs re-consent": the user must link the mailbox again on the consent page; until then logins fail`,
        );
        return new StoreError('AUTH_FAILED', err.message, { cause: err });
      }
      case 'refused':
        this.logger.error(
          { ...log, err: err.message },
          `identity: ${provider} refuses the gateway's client (check clientId, the client secret, and the scopes granted to the app registration)`,
        );
        return new StoreError('PERMANENT', err.message, { cause: err });
      default:
        this.logger.warn(
          { ...log, err: err.message },
          `identity: ${provider} cannot be reached or failed; logins of its accounts fail with [SYS/TEMP] until it answers`,
        );
        return new StoreError('TEMPORARY', err.message, { cause: err });
    }
  }
}

function cacheKey(account: string, provider: string): string {
  return `${account}\0${provider}`;
}

function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
