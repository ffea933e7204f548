/**
 * Login name -> tenant and backend user name, with no I/O: the same code serves POP3 logins and
 * `popgate route`. Order: the `@` host part, then `%` and `+` host parts (each only for tenants
 * that turned that separator on), then the TLS SNI name (for names without a host part), then
 * `defaultTenant`, which gets the name whole.
 */
import type { TenantConfig } from '../config/schema.js';
import { ConfigError } from '../errors.js';
import { loggableName } from '../../adapters/shared/log-text.js';
import { normaliseDomain, parseDomainPattern, patternText } from './domain-name.js';
import { DomainTable } from './domain-table.js';
import { parseLoginName, splitAt, type Separator } from './login-name.js';
import { backendUserName, userNameProblems } from './user-name.js';

export interface RoutableTenant {
  readonly name: string;
  readonly config: TenantConfig;
}

export type RouteVia = 'domain' | 'server-name' | 'default';

export interface Resolution<T extends RoutableTenant> {
  readonly tenant: T;
  /** The name without the `recent:` prefix. */
  readonly login: string;
  readonly local: string;
  /** Lower-case A-label of the domain that picked the tenant, if one did. */
  readonly domain: string | undefined;
  /** What the backend and the users file see. */
  readonly user: string;
  readonly recent: boolean;
  readonly via: RouteVia;
  /** The config pattern (or SNI name) that matched, and the separator that split the name. */
  readonly matched?: string;
  readonly separator?: Separator;
}

export type RouteResult<T extends RoutableTenant> = ({ readonly ok: true } & Resolution<T>) | { readonly ok: false; readonly reason: string };

export interface RouterInput<T extends RoutableTenant> {
  readonly tenants: readonly T[];
  readonly defaultTenant: string | undefined;
  /** TLS server names per tenant name (its `certificate.serverNames` or its certificate's DNS names). */
  readonly serverNames?: ReadonlyMap<string, readonly string[]>;
}

/** The SNI names a tenant's certificate answers: its `serverNames`, else the certificate's DNS names. */
export function certificateNames(
  tc: TenantConfig,
  certificateDnsNames: (files: { readonly cert: string; readonly key: string }) => readonly string[],
): readonly string[] {
  return tc.certificate === undefined ? [] : (tc.certificate.serverNames ?? certificateDnsNames(tc.certificate));
}

export class Router<T extends RoutableTenant> {
  private readonly byDomain = new DomainTable<T>();
  private readonly byServerName = new DomainTable<T>();
  private readonly fallback: T | undefined;

  constructor(input: RouterInput<T>) {
    const problems: string[] = [];
    for (const tenant of input.tenants) {
      const path = `tenants.${tenant.name}`;
      tenant.config.domains.forEach((raw, i) => {
        const pattern = parseDomainPattern(raw);
        if (pattern === undefined) return problems.push(`${path}.domains.${i}: '${raw}' is not a domain name or *.domain pattern`);
        const held = this.byDomain.add(pattern, tenant);
        if (held !== undefined) problems.push(`${path}.domains.${i}: ${patternText(pattern)} is already a domain of tenant ${held.name}`);
        // A tenant's own domains are also SNI names that pick it (pop.example.com is not).
        this.byServerName.add(pattern, tenant);
        return undefined;
      });
      for (const p of userNameProblems(tenant.config.userName)) problems.push(`${path}.userName: ${p}`);
    }
    for (const tenant of input.tenants) {
      for (const raw of input.serverNames?.get(tenant.name) ?? []) {
        const pattern = parseDomainPattern(raw);
        if (pattern === undefined) {
          problems.push(`tenants.${tenant.name}.certificate.serverNames: '${raw}' is not a host name or *.domain pattern`);
          continue;
        }
        const held = this.byServerName.add(pattern, tenant);
        if (held !== undefined && held !== tenant)
          problems.push(`tenants.${tenant.name}.certificate: server name ${patternText(pattern)} also belongs to tenant ${held.name}`);
      }
    }
    const names = input.tenants.map((t) => t.name);
    const fallbackName = input.defaultTenant ?? (names.length === 1 ? names[0] : undefined);
    this.fallback = input.tenants.find((t) => t.name === fallbackName);
    if (problems.length > 0) throw new ConfigError(problems);
  }

  /** The tenant an SNI name picks, if any (for the certificate and pre-login capabilities). */
  tenantForServerName(serverName: string | undefined): T | undefined {
    if (serverName === undefined) return undefined;
    const host = normaliseDomain(serverName);
    return host === undefined ? undefined : this.byServerName.match(host)?.value;
  }

  route(rawLogin: string, serverName?: string): RouteResult<T> {
    const parsed = parseLoginName(rawLogin);
    if (parsed === undefined) return { ok: false, reason: 'not a usable login name (empty, over 320 characters, or control characters)' };
    const { name, recent } = parsed;
    const found = this.byHostPart(name) ?? this.bySni(name, serverName);
    if (found !== undefined && 'reason' in found) return { ok: false, reason: found.reason };
    const target = found ?? (this.fallback === undefined ? undefined : { tenant: this.fallback, local: name, domain: undefined, via: 'default' as const });
    if (target === undefined) return { ok: false, reason: 'no tenant matches and there is no defaultTenant' };
    const { tenant } = target;
    if (recent && !tenant.config.recent.enabled) return { ok: false, reason: `tenant ${tenant.name} does not accept recent: logins` };
    const user = backendUserName(tenant.config.userName, { login: name, local: target.local, domain: target.domain });
    if (user === undefined) return { ok: false, reason: `tenant ${tenant.name} userName '${tenant.config.userName}' needs a domain and the login has none` };
    return { ok: true, ...target, login: name, user, recent };
  }

  private byHostPart(name: string): Target<T> | { reason: string } | undefined {
    if (name.includes('@')) {
      if (name.indexOf('@') !== name.lastIndexOf('@')) return { reason: 'more than one @' };
      const split = splitAt(name, '@');
      if (split === undefined) return { reason: 'empty local part or domain around @' };
      const domain = normaliseDomain(split.host);
      if (domain === undefined) return { reason: `'${loggableName(split.host)}' is not a domain name` };
      const hit = this.byDomain.match(domain);
      if (hit !== undefined && hit.value.config.separators.includes('@')) {
        return { tenant: hit.value, local: split.local, domain, via: 'domain', matched: hit.pattern, separator: '@' };
      }
      // An address in a domain nobody serves goes whole to the default tenant.
      return undefined;
    }
    for (const sep of ['%', '+'] as const) {
      const split = splitAt(name, sep);
      const domain = split === undefined ? undefined : normaliseDomain(split.host);
      if (split === undefined || domain === undefined) continue;
      const hit = this.byDomain.match(domain);
      // Where the separator is off, `john+work` stays a user name of the default tenant.
      if (hit !== undefined && hit.value.config.separators.includes(sep)) {
        return { tenant: hit.value, local: split.local, domain, via: 'domain', matched: hit.pattern, separator: sep };
      }
    }
    return undefined;
  }

  private bySni(name: string, serverName: string | undefined): Target<T> | undefined {
    if (serverName === undefined || name.includes('@')) return undefined;
    const host = normaliseDomain(serverName);
    const hit = host === undefined ? undefined : this.byServerName.match(host);
    if (hit === undefined) return undefined;
    return { tenant: hit.value, local: name, domain: primaryDomain(hit.value), via: 'server-name', matched: host };
  }
}

interface Target<T extends RoutableTenant> {
  readonly tenant: T;
  readonly local: string;
  readonly domain: string | undefined;
  readonly via: RouteVia;
  readonly matched?: string;
  readonly separator?: Separator;
}

/** The domain a `{domain}` template gets when the tenant was picked by SNI: its first exact domain. */
function primaryDomain(tenant: RoutableTenant): string | undefined {
  for (const raw of tenant.config.domains) {
    const p = parseDomainPattern(raw);
    if (p?.kind === 'exact') return p.name;
  }
  return undefined;
}
