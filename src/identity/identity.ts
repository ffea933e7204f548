/**
 * The gateway's identity side, built from the `identity:` section: one OAuth client per
 * provider, the grants store and its keys, the token broker, the device-password check and the
 * links API. Built once at start-up and kept across reloads that leave the section unchanged,
 * so cached tokens and discovered metadata survive a SIGHUP.
 */
import type { AdapterAuth, TokenSource } from '../../adapters/contract.js';
import { ConfigError } from '../errors.js';
import type { Logger } from '../logger.js';
import { AppOnlyTokens } from './app-only-tokens.js';
import type { IdentityConfig } from './config.js';
import { DeviceLogins } from './device-logins.js';
import { FileGrantStore } from './file-grant-store.js';
import { GrantTokens } from './grant-tokens.js';
import type { GrantStore } from './grant-store.js';
import { KeySource } from './key-source.js';
import { Links } from './links.js';
import { ProviderClient } from './provider-client.js';
import { readSecretValue } from './secret-value.js';
import { TokenBroker } from './token-broker.js';

/** What a grants store needs: present when the config has `identity.grants`. */
export interface Grants {
  readonly store: GrantStore;
  readonly keys: KeySource;
  readonly broker: TokenBroker;
  readonly links: Links;
  readonly devices: DeviceLogins;
}

export class Identity {
  private readonly appOnly = new Map<string, AppOnlyTokens>();
  private readonly grantTokens = new Map<string, GrantTokens>();

  private constructor(
    /** The section this was built from (a reload with the same section keeps this instance). */
    readonly config: IdentityConfig,
    readonly providers: ReadonlyMap<string, ProviderClient>,
    readonly grants: Grants | undefined,
    private readonly logger: Logger,
  ) {}

  /**
   * Reads the client secrets and (with a grants store) the keys and the store now, so a missing
   * secret or an unreadable key is a start-up error. Contacts no provider.
   * @throws ConfigError naming each problem
   */
  static async load(config: IdentityConfig | undefined, logger: Logger, previous?: Identity): Promise<Identity> {
    const cfg: IdentityConfig = config ?? { providers: {} };
    // The consent pages' settings (web) do not touch providers or grants: changing them keeps cached tokens and started links.
    if (previous !== undefined && JSON.stringify({ ...previous.config, web: undefined }) === JSON.stringify({ ...cfg, web: undefined })) return previous;
    const problems: string[] = [];
    const providers = new Map<string, ProviderClient>();
    for (const [name, p] of Object.entries(cfg.providers)) {
      const secret = readSecretValue(
        { file: p.clientSecretFile, env: p.clientSecretEnv },
        { file: `identity.providers.${name}.clientSecretFile`, env: `identity.providers.${name}.clientSecretEnv` },
      );
      if (typeof secret !== 'string') problems.push(secret.problem);
      else providers.set(name, new ProviderClient(name, p, secret));
    }
    const log = logger.child({ component: 'identity' });
    let grants: Grants | undefined;
    if (cfg.grants !== undefined) {
      const keys = new KeySource(cfg.grants);
      const store = new FileGrantStore(cfg.grants.file);
      try {
        keys.keyring();
      } catch (err) {
        problems.push(`identity.grants.${cfg.grants.keyFile !== undefined ? 'keyFile' : 'keyEnv'}: ${(err as Error).message}`);
      }
      try {
        await store.check();
      } catch (err) {
        problems.push(`identity.grants.file: ${(err as Error).message}`);
      }
      const broker = new TokenBroker(store, keys, providers, log);
      grants = { store, keys, broker, links: new Links(store, keys, providers, broker, log), devices: new DeviceLogins(store, log) };
    }
    if (problems.length > 0) throw new ConfigError(problems);
    return new Identity(cfg, providers, grants, log);
  }

  /** Problems with the grants store files' permissions (logged at start, printed by `popgate check`). */
  warnings(): string[] {
    const found = [this.grants?.store.permissionWarning(), this.grants?.keys.permissionWarning()];
    return found.filter((w): w is string => w !== undefined);
  }

  /**
   * The token source a tenant with this auth gets (AdapterDeps.tokens), or undefined for auth
   * modes that mint no tokens. The config schema already checked that the provider exists.
   */
  tokenSourceFor(auth: AdapterAuth): TokenSource | undefined {
    if (auth.kind === 'grant') {
      if (this.grants === undefined) throw new ConfigError(['identity.grants: required by tenants with auth: grant']);
      let source = this.grantTokens.get(auth.provider);
      if (source === undefined) this.grantTokens.set(auth.provider, (source = new GrantTokens(this.grants.broker, auth.provider)));
      return source;
    }
    if (auth.kind === 'app-only') {
      const client = this.providers.get(auth.provider);
      if (client === undefined) throw new ConfigError([`identity.providers.${auth.provider}: not configured`]);
      let source = this.appOnly.get(auth.provider);
      if (source === undefined) this.appOnly.set(auth.provider, (source = new AppOnlyTokens(client, this.logger)));
      return source;
    }
    return undefined;
  }
}
