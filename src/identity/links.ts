/**
 * Linking mailboxes to gateway accounts: the API the consent pages and the CLI share.
 *
 *   const { authorizationUrl } = await links.start('alice', 'corp');   // redirect the browser there
 *   const { link } = await links.finish(callbackQuery);                // on the redirect URL
 *   const { password } = await links.addDevicePassword('alice', 'office scanner');   // shown once
 *
 * A link is one grant per account: linking again (re-consent) replaces the grant and keeps the
 * account's device passwords. Callers show LinkSummary values, which hold no token and no hash.
 */
import { loggableName } from '../../adapters/shared/log-text.js';
import type { Logger } from '../logger.js';
import { devicePasswordRecord, generateDevicePassword } from './device-passwords.js';
import { summaryOf, type GrantRecord, type LinkSummary } from './grant-record.js';
import type { GrantStore } from './grant-store.js';
import type { KeySource } from './key-source.js';
import { PendingLinks, type PendingLink } from './pending-links.js';
import type { ProviderClient } from './provider-client.js';
import { ProviderError } from './provider-error.js';
import type { TokenBroker } from './token-broker.js';

export type LinkFailure =
  /** The account, provider or device password named does not exist, or the name is unusable. */
  | 'unknown'
  /** The callback matches no started link (unknown or replayed state, expired, another account). */
  | 'no-pending-link'
  /** The user declined, or the callback does not check out (state, nonce, issuer, no address). */
  | 'consent-failed'
  /** The provider refuses the gateway (client id, secret, redirect URL): an operator must act. */
  | 'provider-refused'
  /** The provider cannot be reached now. */
  | 'provider-unavailable';

export class LinkError extends Error {
  override readonly name = 'LinkError';
  constructor(
    readonly kind: LinkFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** An account name: what routing hands the backend (the tenant's userName), as the consent pages name it. */
const ACCOUNT = /^[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]{1,256}$/u;
const DEVICE_NAME_MAX = 100;

export interface StartedLink {
  /** Where to send the browser (the provider's consent page). */
  readonly authorizationUrl: URL;
  /** Kept by Links until the callback; a caller may keep it too (and pass it to finish()). */
  readonly pending: PendingLink;
}

export interface NewDevicePassword {
  readonly id: string;
  readonly name: string;
  /** Shown once; only its hash is stored. */
  readonly password: string;
}

export class Links {
  private readonly pendingLinks = new PendingLinks();

  constructor(
    private readonly store: GrantStore,
    private readonly keys: KeySource,
    private readonly providers: ReadonlyMap<string, ProviderClient>,
    private readonly broker: TokenBroker,
    private readonly logger: Logger,
  ) {}

  /** Names of the providers that can link mailboxes (those with a redirect URL). */
  providerNames(): string[] {
    return [...this.providers.values()].filter((p) => p.redirectUrl !== undefined).map((p) => p.name);
  }

  /** Starts linking a mailbox to `account` at `provider`: the consent URL, and the pending record keyed by its state. */
  async start(account: string, provider: string, options: { loginHint?: string } = {}): Promise<StartedLink> {
    checkAccount(account);
    const client = this.provider(provider);
    if (client.redirectUrl === undefined) throw new LinkError('unknown', `identity provider ${provider} has no redirectUrl: it cannot link mailboxes`);
    let request;
    try {
      request = await client.authorizationRequest(options);
    } catch (err) {
      throw linkErrorOf(err);
    }
    const pending: PendingLink = { ...request.secrets, account, provider, createdAt: Date.now() };
    this.pendingLinks.put(pending);
    return { authorizationUrl: request.url, pending };
  }

  /**
   * Finishes a link from the callback's query (code, state, iss; or error): checks it against
   * the started link, exchanges the code and stores the grant (sealed) as `linked`.
   * `pending`: the record start() returned, when the caller kept it (in its session) instead.
   */
  async finish(query: URLSearchParams | Readonly<Record<string, string>>, pending?: PendingLink): Promise<{ link: LinkSummary; pending: PendingLink }> {
    const params = query instanceof URLSearchParams ? query : new URLSearchParams(query);
    const state = params.get('state') ?? '';
    const taken = this.pendingLinks.take(state);
    const started = pending ?? taken;
    if (started === undefined || started.state !== state || state === '')
      throw new LinkError('no-pending-link', 'this consent answer matches no started link (expired, used already, or forged)');
    const client = this.provider(started.provider);
    let consent;
    try {
      consent = await client.finishAuthorization(params, started);
    } catch (err) {
      throw linkErrorOf(err);
    }
    const now = new Date().toISOString();
    const account = started.account;
    const sealed = this.keys.keyring().seal(consent.tokens.refreshToken as string, account);
    const stored = await this.store.update(account, (current) => ({
      account,
      provider: started.provider,
      address: consent.address,
      subject: consent.subject,
      scopes: [...(consent.tokens.scopes ?? client.settings.scopes)],
      state: 'linked',
      refreshToken: sealed,
      linkedAt: now,
      updatedAt: now,
      devicePasswords: current?.devicePasswords ?? [],
    }));
    this.broker.forget(account);
    this.logger.info(
      { account: loggableName(account), provider: started.provider, address: loggableName(consent.address), relinked: stored !== undefined },
      'identity: mailbox linked',
    );
    return { link: summaryOf(stored as GrantRecord), pending: started };
  }

  async list(): Promise<LinkSummary[]> {
    return (await this.store.all()).map(summaryOf);
  }

  async get(account: string): Promise<LinkSummary | undefined> {
    const record = await this.store.get(account);
    return record === undefined ? undefined : summaryOf(record);
  }

  /**
   * Unlinks: revokes the refresh token at the provider (when it has a revocation endpoint and
   * can be reached; the link is revoked here either way), drops it and marks the link revoked.
   * Device passwords stay (they open nothing until the mailbox is linked again).
   */
  async revoke(account: string, by: string): Promise<{ link: LinkSummary; revokedAtProvider: boolean }> {
    const record = await this.store.get(account);
    if (record === undefined) throw new LinkError('unknown', `account ${account} has no link`);
    let revokedAtProvider = false;
    if (record.refreshToken !== undefined) {
      try {
        const token = this.keys.keyringWith(record.refreshToken.kid).unseal(record.refreshToken, account);
        revokedAtProvider = await this.provider(record.provider).revoke(token);
      } catch (err) {
        this.logger.warn(
          { account: loggableName(account), provider: record.provider, err: (err as Error).message },
          'identity: the grant could not be revoked at the provider; it is unlinked here (the user can also remove the app in their account settings)',
        );
      }
    }
    const stored = await this.store.update(account, (current) => {
      if (current === undefined) return current;
      const { refreshToken: _gone, ...rest } = current;
      return { ...rest, state: 'revoked', stateReason: `revoked by ${by}`, updatedAt: new Date().toISOString() };
    });
    this.broker.forget(account);
    this.logger.info({ account: loggableName(account), provider: record.provider, by, revokedAtProvider }, 'identity: link revoked');
    return { link: summaryOf(stored as GrantRecord), revokedAtProvider };
  }

  /** Marks a link "needs re-consent" (an operator's decision, or the broker's on invalid_grant). */
  async markNeedsReconsent(account: string, reason: string): Promise<LinkSummary> {
    const stored = await this.store.update(account, (current) => {
      if (current === undefined) return current;
      const { refreshToken: _gone, ...rest } = current;
      return { ...rest, state: 'needs-reconsent', stateReason: reason, updatedAt: new Date().toISOString() };
    });
    if (stored === undefined) throw new LinkError('unknown', `account ${account} has no link`);
    this.broker.forget(account);
    return summaryOf(stored);
  }

  /** Removes an account's record altogether (its device passwords too). */
  async remove(account: string): Promise<boolean> {
    let existed = false;
    await this.store.update(account, (current) => {
      existed = current !== undefined;
      return undefined;
    });
    this.broker.forget(account);
    return existed;
  }

  /**
   * A new device password for the account (which must have a link record). The plain password
   * is in the answer and nowhere else.
   */
  async addDevicePassword(account: string, name: string): Promise<NewDevicePassword> {
    const label = name.trim();
    if (label === '' || label.length > DEVICE_NAME_MAX || /[\p{Cc}\p{Cf}]/u.test(label)) {
      throw new LinkError('unknown', `a device password's name must be 1-${DEVICE_NAME_MAX} printable characters`);
    }
    const password = generateDevicePassword();
    const record = await devicePasswordRecord(password, label);
    const stored = await this.store.update(account, (current) =>
      current === undefined ? current : { ...current, devicePasswords: [...current.devicePasswords, record] },
    );
    if (stored === undefined) throw new LinkError('unknown', `account ${account} has no link: link a mailbox first`);
    this.logger.info({ account: loggableName(account), devicePassword: record.id, name: label }, 'identity: device password added');
    return { id: record.id, name: label, password };
  }

  /** Removes device passwords by id, or by name (every one of that name); resolves how many went. */
  async removeDevicePassword(account: string, idOrName: string): Promise<number> {
    let removed = 0;
    await this.store.update(account, (current) => {
      if (current === undefined) return current;
      const kept = current.devicePasswords.filter((d) => d.id !== idOrName && d.name !== idOrName);
      removed = current.devicePasswords.length - kept.length;
      return removed === 0 ? current : { ...current, devicePasswords: kept };
    });
    if (removed > 0) this.logger.info({ account: loggableName(account), removed }, 'identity: device password removed');
    return removed;
  }

  /** Seals every stored refresh token again with the current key; resolves how many records changed. */
  async rotateKeys(): Promise<{ changed: number; keyId: string }> {
    const ring = this.keys.keyring();
    const changed = await this.store.updateAll((record) => {
      const sealed = record.refreshToken;
      if (sealed === undefined || sealed.kid === ring.currentId) return record;
      const plain = this.keys.keyringWith(sealed.kid).unseal(sealed, record.account);
      return { ...record, refreshToken: ring.seal(plain, record.account), updatedAt: new Date().toISOString() };
    });
    return { changed, keyId: ring.currentId };
  }

  private provider(name: string): ProviderClient {
    const client = this.providers.get(name);
    if (client === undefined) throw new LinkError('unknown', `no identity provider ${name} in the config`);
    return client;
  }
}

function checkAccount(account: string): void {
  if (!ACCOUNT.test(account)) throw new LinkError('unknown', 'an account name must be 1-256 printable characters');
}

function linkErrorOf(err: unknown): LinkError {
  if (err instanceof LinkError) return err;
  if (err instanceof ProviderError) {
    const kind: LinkFailure = err.kind === 'unavailable' ? 'provider-unavailable' : err.kind === 'refused' ? 'provider-refused' : 'consent-failed';
    return new LinkError(kind, err.message, { cause: err });
  }
  return new LinkError('provider-unavailable', (err as Error).message, { cause: err });
}
