/** The live tenants: each config entry with its store, users file and certificate, and routing. */
import { createStore } from '../adapters/index.js';
import type { MailStore } from '../adapters/contract.js';
import { UsersFile } from './auth/users-file.js';
import type { Config, TenantConfig } from './config/schema.js';
import { ConfigError } from './errors.js';
import type { Logger } from './logger.js';
import { loadTlsContexts, type TlsContexts } from './pop3/tls-contexts.js';
import { Router, certificateNames, type RouteResult } from './routing/router.js';

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
    case 's3':
      // The bucket has no per-user passwords: the gateway's users file is the check.
      return { kind: 'local', users: new UsersFile(tc.users), mapped: false };
    case 'memory':
      return { kind: 'local', users: new UsersFile(tc.users), mapped: false };
  }
}

export interface Tenant {
  readonly name: string;
  readonly config: TenantConfig;
  readonly store: MailStore;
  readonly auth: AuthMode;
  /** The tenant's own certificate, served to SNI names that pick it. */
  readonly tls: TlsContexts | undefined;
}

export interface Route {
  readonly tenant: Tenant;
  /** The user name the backend and the users file see. */
  readonly user: string;
  readonly local: string;
  readonly domain: string | undefined;
  /** `recent:` login: list only the tenant's recent window. */
  readonly recent: boolean;
}

function createTenantStore(name: string, tc: TenantConfig, logger: Logger, sessionIdleMs: number): MailStore {
  try {
    return createStore(tc, { logger: logger.child({ tenant: name }), sessionIdleMs });
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(err.issues.map((i) => `tenants.${name}.${i}`));
    throw err;
  }
}

/** Same settings, same store: a reload keeps its connections, caches and users file. */
function sameSettings(a: TenantConfig, b: TenantConfig): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export class Tenants {
  private readonly byName = new Map<string, Tenant>();
  private readonly router: Router<Tenant>;
  /** Stores a newer generation took over: they must outlive this one. */
  private readonly handedOver = new Set<MailStore>();
  private reusedFrom: { readonly previous: Tenants; readonly stores: readonly MailStore[] } | undefined;

  /** `previous`: the generation being replaced by a reload; unchanged tenants are reused. */
  constructor(config: Config, logger: Logger, previous?: Tenants) {
    const idleMs = config.limits.idleTimeoutSeconds * 1000;
    const serverNames = new Map<string, readonly string[]>();
    const reused: MailStore[] = [];
    for (const [name, tc] of Object.entries(config.tenants)) {
      const old = previous?.byName.get(name);
      const tls = tc.certificate === undefined ? undefined : loadTlsContexts(tc.certificate, `tenants.${name}.certificate`);
      let tenant: Tenant;
      if (old !== undefined && sameSettings(old.config, tc)) {
        tenant = { ...old, tls };
        reused.push(old.store);
      } else {
        tenant = { name, config: tc, store: createTenantStore(name, tc, logger, idleMs), auth: authModeOf(tc), tls };
      }
      this.byName.set(name, tenant);
      serverNames.set(name, certificateNames(tc, () => tls?.dnsNames ?? []));
    }
    this.router = new Router({ tenants: this.all(), defaultTenant: config.defaultTenant, serverNames });
    this.reusedFrom = previous === undefined ? undefined : { previous, stores: reused };
  }

  /** A reload succeeded: the stores this generation reused now belong to it, not to `previous`. */
  takeOverReused(): void {
    if (this.reusedFrom === undefined) return;
    for (const store of this.reusedFrom.stores) this.reusedFrom.previous.handedOver.add(store);
    this.reusedFrom = undefined;
  }

  /** Some tenant passes OAuth bearer tokens on (so XOAUTH2/OAUTHBEARER can succeed). */
  acceptsTokens(): boolean {
    return this.all().some(acceptsTokens);
  }

  all(): Tenant[] {
    return [...this.byName.values()];
  }

  get(name: string): Tenant | undefined {
    return this.byName.get(name);
  }

  /** Undefined for every name that reaches no tenant; the reason is for `popgate route` and logs. */
  route(login: string, serverName?: string): Route | undefined {
    const r = this.explain(login, serverName);
    return r.ok ? { tenant: r.tenant, user: r.user, local: r.local, domain: r.domain, recent: r.recent } : undefined;
  }

  explain(login: string, serverName?: string): RouteResult<Tenant> {
    return this.router.route(login, serverName);
  }

  /** The tenant an SNI name picks (for its certificate, mechanisms and capabilities). */
  forServerName(serverName: string | undefined): Tenant | undefined {
    return this.router.tenantForServerName(serverName);
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

  /** Releases the stores this generation still owns (not those a reload took over). */
  async shutdown(): Promise<void> {
    await Promise.all(this.all().filter((t) => !this.handedOver.has(t.store)).map((t) => t.store.shutdown?.()));
  }
}

export function acceptsTokens(t: Tenant): boolean {
  return t.auth.kind === 'passthrough' && t.auth.tokens;
}
