/** The live tenants: each config entry with its store and users file, and login routing. */
import { createStore } from '../adapters/index.js';
import type { MailStore } from '../adapters/contract.js';
import { UsersFile } from './auth/users-file.js';
import type { Config, TenantConfig } from './config/schema.js';
import { ConfigError } from './errors.js';
import type { Logger } from './logger.js';

/**
 * `local`: the gateway verifies the login against its users file, then opens the mailbox.
 * `passthrough`: the backend verifies the POP3 credentials itself (IMAP login); `tokens` says
 * whether bearer tokens are passed on, `passwords` whether passwords are.
 */
export type AuthMode =
  /** `mapped`: after the check, the account's stored backend credentials open the mailbox. */
  | { readonly kind: 'local'; readonly users: UsersFile; readonly mapped: boolean }
  | { readonly kind: 'passthrough'; readonly passwords: boolean; readonly tokens: boolean };

function authModeOf(tc: TenantConfig): AuthMode {
  switch (tc.adapter) {
    case 'maildir':
      return { kind: 'local', users: new UsersFile(tc.users), mapped: false };
    case 'imap':
      if (tc.auth === 'mapped') return { kind: 'local', users: new UsersFile(tc.users as string), mapped: true };
      return { kind: 'passthrough', passwords: tc.auth === 'passthrough', tokens: true };
  }
}

export interface Tenant {
  readonly name: string;
  readonly config: TenantConfig;
  readonly store: MailStore;
  readonly auth: AuthMode;
}

export interface Route {
  readonly tenant: Tenant;
  /** The user name the backend and the users file see. */
  readonly user: string;
}

function createTenantStore(name: string, tc: TenantConfig, logger: Logger, sessionIdleMs: number): MailStore {
  try {
    return createStore(tc, { logger: logger.child({ tenant: name }), sessionIdleMs });
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(err.issues.map((i) => `tenants.${name}.${i}`));
    throw err;
  }
}

export class Tenants {
  private readonly byName = new Map<string, Tenant>();
  private readonly byDomain = new Map<string, Tenant>();
  private readonly fallback: Tenant | undefined;

  constructor(config: Config, logger: Logger) {
    for (const [name, tc] of Object.entries(config.tenants)) {
      const tenant: Tenant = {
        name,
        config: tc,
        store: createTenantStore(name, tc, logger, config.limits.idleTimeoutSeconds * 1000),
        auth: authModeOf(tc),
      };
      this.byName.set(name, tenant);
      for (const d of tc.domains) this.byDomain.set(d.toLowerCase(), tenant);
    }
    const names = [...this.byName.keys()];
    const fallbackName = config.defaultTenant ?? (names.length === 1 ? names[0] : undefined);
    this.fallback = fallbackName === undefined ? undefined : this.byName.get(fallbackName);
  }

  /** Some tenant passes OAuth bearer tokens on (so XOAUTH2/OAUTHBEARER can succeed). */
  acceptsTokens(): boolean {
    return this.all().some((t) => t.auth.kind === 'passthrough' && t.auth.tokens);
  }

  all(): Tenant[] {
    return [...this.byName.values()];
  }

  /**
   * `user@domain` goes to the tenant listing the domain (the backend sees `user`, or the whole
   * login with `userName: full`); anything else goes, whole, to the default tenant.
   */
  route(login: string): Route | undefined {
    const at = login.lastIndexOf('@');
    if (at > 0 && at < login.length - 1) {
      const tenant = this.byDomain.get(login.slice(at + 1).toLowerCase());
      if (tenant !== undefined) return { tenant, user: tenant.config.userName === 'full' ? login : login.slice(0, at) };
    }
    return this.fallback === undefined ? undefined : { tenant: this.fallback, user: login };
  }

  /** Checks every users file now, so a broken one is a start-up error, not a login failure. */
  check(): string[] {
    const problems: string[] = [];
    for (const t of this.byName.values()) {
      try {
        if (t.auth.kind === 'local') t.auth.users.check();
      } catch (err) {
        problems.push(`tenants.${t.name}.users: ${(err as Error).message}`);
      }
    }
    return problems;
  }

  async shutdown(): Promise<void> {
    await Promise.all(this.all().map((t) => t.store.shutdown?.()));
  }
}
