/** The live tenants: each config entry with its store, users file and certificate, and routing. */
import type { AdapterAuth, MailStore, SizeBookFactory } from '../adapters/contract.js';
import { adapterFor } from '../adapters/index.js';
import type { Config, TenantConfig } from './config/schema.js';
import { ConfigError } from './errors.js';
import type { Identity } from './identity/identity.js';
import type { Logger } from './logger.js';
import { loadTlsContexts, type TlsContexts } from './pop3/tls-contexts.js';
import { Router, certificateNames, type RouteResult } from './routing/router.js';
import { acceptsTokens, authModeFrom, type AuthMode } from './tenant-auth.js';

export { acceptsTokens, type AuthMode } from './tenant-auth.js';

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

/** What the gateway offers every store besides its settings, logger and timeouts. */
export interface StoreServices {
  /** The gateway's size book (Redis) for a tenant, when it has one. */
  readonly sizeBook?: (tenant: string) => SizeBookFactory;
}

async function createTenantStore(
  name: string,
  tc: TenantConfig,
  logger: Logger,
  sessionIdleMs: number,
  identity: Identity,
  services: StoreServices,
): Promise<MailStore> {
  const tokens = identity.tokenSourceFor(adapterFor(tc.adapter).auth(tc));
  try {
    const sizeBook = services.sizeBook?.(name);
    return await adapterFor(tc.adapter).create(tc, {
      logger: logger.child({ tenant: name }),
      sessionIdleMs,
      ...(sizeBook && { sizeBook }),
      ...(tokens !== undefined && { tokens }),
    });
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(err.issues.map((i) => `tenants.${name}.${i}`));
    throw err;
  }
}

function authModeOf(tc: TenantConfig, identity: Identity): AuthMode {
  const auth = adapterFor(tc.adapter).auth(tc);
  return authModeFrom(auth, tc.userName, { tokens: identity.tokenSourceFor(auth), devices: identity.grants?.devices });
}

/** Tenants whose store and logins use the identity side must be made anew when it was. */
function usesIdentity(auth: AdapterAuth): boolean {
  return auth.kind === 'grant' || auth.kind === 'app-only';
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

  private constructor(
    config: Config,
    tenants: readonly Tenant[],
    /** Stores this generation created (not those it reused): the only ones `discard()` releases. */
    private readonly created: readonly MailStore[],
    previous: Tenants | undefined,
    reused: readonly MailStore[],
    /** The identity side these tenants' stores and logins were made with. */
    readonly identity: Identity,
  ) {
    const serverNames = new Map<string, readonly string[]>();
    for (const tenant of tenants) {
      this.byName.set(tenant.name, tenant);
      serverNames.set(
        tenant.name,
        certificateNames(tenant.config, () => tenant.tls?.dnsNames ?? []),
      );
    }
    this.router = new Router({ tenants: this.all(), defaultTenant: config.defaultTenant, serverNames });
    this.reusedFrom = previous === undefined ? undefined : { previous, stores: reused };
  }

  /**
   * Creates the stores (each adapter loads its store module now, if no earlier tenant did).
   * `previous`: the generation being replaced by a reload; unchanged tenants are reused.
   * `services`: what the gateway offers the stores it creates (none for `popgate check`).
   * Throws ConfigError; the stores created before the failure are released.
   */
  static async load(config: Config, logger: Logger, identity: Identity, previous?: Tenants, services: StoreServices = {}): Promise<Tenants> {
    const idleMs = config.limits.idleTimeoutSeconds * 1000;
    const tenants: Tenant[] = [];
    const reused: MailStore[] = [];
    const created: MailStore[] = [];
    try {
      for (const [name, tc] of Object.entries(config.tenants)) {
        const old = previous?.byName.get(name);
        const tls = tc.certificate === undefined ? undefined : loadTlsContexts(tc.certificate, `tenants.${name}.certificate`);
        const identityKept = previous?.identity === identity || !usesIdentity(adapterFor(tc.adapter).auth(tc));
        if (old !== undefined && sameSettings(old.config, tc) && identityKept) {
          tenants.push({ ...old, tls });
          reused.push(old.store);
        } else {
          const store = await createTenantStore(name, tc, logger, idleMs, identity, services);
          created.push(store);
          tenants.push({ name, config: tc, store, auth: authModeOf(tc, identity), tls });
        }
      }
      return new Tenants(config, tenants, created, previous, reused, identity);
    } catch (err) {
      await releaseAll(created);
      throw err;
    }
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

  /** A generation that will not serve (its config was refused): releases only the stores it created. */
  async discard(): Promise<void> {
    await releaseAll(this.created);
  }

  /** Users files that others than their owner can read (each file once, however many tenants share it). */
  warnings(): string[] {
    const found = new Set<string>();
    for (const t of this.byName.values()) {
      const warning = t.auth.kind === 'local' ? t.auth.users.permissionWarning() : undefined;
      if (warning !== undefined) found.add(warning);
    }
    return [...found];
  }

  /** Releases the stores this generation still owns (not those a reload took over). */
  async shutdown(): Promise<void> {
    await Promise.all(
      this.all()
        .filter((t) => !this.handedOver.has(t.store))
        .map((t) => t.store.shutdown?.() ?? Promise.resolve()),
    );
  }
}

async function releaseAll(stores: readonly MailStore[]): Promise<void> {
  await Promise.allSettled(stores.map((s) => s.shutdown?.() ?? Promise.resolve()));
}
