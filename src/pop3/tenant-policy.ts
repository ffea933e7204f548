/**
 * A tenant's own login rules and capability values, falling back to the global config. Before
 * login the tenant is unknown (unless SNI named it), so CAPA shows what any tenant may allow.
 */
import type { BackendLogin } from '../../adapters/contract.js';
import type { Config } from '../config/schema.js';
import type { Tenant } from '../tenants.js';

type Expire = number | 'never';

export function mechanismsOf(config: Config, tenant: Tenant): readonly string[] {
  return tenant.config.mechanisms ?? config.auth.mechanisms;
}

/** Mechanisms at least one of these tenants allows, in the global config's order first. */
export function mechanismsOfAny(config: Config, tenants: readonly Tenant[]): string[] {
  const allowed = new Set(tenants.flatMap((t) => mechanismsOf(config, t)));
  const order = [...config.auth.mechanisms, ...allowed];
  return [...new Set(order)].filter((m) => allowed.has(m));
}

export function loginDelayOf(config: Config, tenant: Tenant): number {
  return tenant.config.loginDelaySeconds ?? config.capabilities.loginDelaySeconds;
}

export function caseInsensitiveUsersOf(tenant: Tenant): boolean {
  return tenant.config.caseInsensitiveUsers ?? tenant.config.adapter === 'imap';
}

/**
 * The key of the maildrop lock and of LOGIN-DELAY. Where the backend folds user names, the
 * whole store key is folded: within one tenant its other parts (host, folder, path) are fixed,
 * so only the user part can differ, and case variants of one user then share the key.
 */
export function maildropKeyOf(tenant: Tenant, login: BackendLogin): string {
  const key = tenant.store.lockKey(login);
  return `${tenant.name}/${caseInsensitiveUsersOf(tenant) ? key.toLowerCase() : key}`;
}

export function expireOf(config: Config, tenant: Tenant): Expire | undefined {
  return tenant.config.expire ?? config.capabilities.expire;
}

/**
 * RFC 2449: before login, a value that varies by user is the smallest one followed by `USER`,
 * and the client asks CAPA again after login.
 */
export function loginDelayCapability(values: readonly number[]): string | undefined {
  const min = Math.min(...values);
  const varies = values.some((v) => v !== min);
  if (!varies) return min > 0 ? `LOGIN-DELAY ${min}` : undefined;
  return `LOGIN-DELAY ${min} USER`;
}

export function expireCapability(values: readonly (Expire | undefined)[]): string | undefined {
  const known = values.filter((v): v is Expire => v !== undefined);
  if (known.length === 0) return undefined;
  const numbers = known.filter((v): v is number => v !== 'never');
  const shown = numbers.length > 0 ? String(Math.min(...numbers)) : 'NEVER';
  const varies = known.length < values.length || known.some((v) => v !== known[0]);
  return varies ? `EXPIRE ${shown} USER` : `EXPIRE ${shown}`;
}
