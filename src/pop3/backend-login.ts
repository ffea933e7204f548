/**
 * Proven credentials -> who the backend opens. Users-file tenants check the secret here (and
 * `mapped` ones swap in the account's stored backend credentials); passthrough tenants hand the
 * password or bearer token on, since only the backend can check it.
 */
import type { BackendLogin } from '../../adapters/contract.js';
import type { Credentials } from '../auth/credentials.js';
import { HashBusy } from '../auth/hash-gate.js';
import { verifyLocal } from '../auth/local-verifier.js';
import { ErrorReplies, type Pop3Error } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Tenant } from '../tenants.js';

export interface RoutedNames {
  readonly local: string;
  readonly domain: string | undefined;
}

/** The backend login, or the reply that refuses this one. */
export async function backendLoginFor(tenant: Tenant, user: string, routed: RoutedNames, creds: Credentials, log: Logger): Promise<BackendLogin | Pop3Error> {
  const names = { local: routed.local, ...(routed.domain !== undefined && { domain: routed.domain }) };
  if (tenant.auth.kind === 'passthrough') {
    // Challenge-response methods cannot be passed on: the backend needs the secret itself.
    if (creds.kind === 'password' && tenant.auth.passwords) return { user, ...names, password: creds.password };
    if (creds.kind === 'bearer' && tenant.auth.tokens) return { user, ...names, accessToken: creds.token };
    return ErrorReplies.authFailed;
  }
  if (creds.kind === 'bearer') return ErrorReplies.authFailed;
  try {
    if (!(await verifyLocal(tenant.auth.users, user, creds))) return ErrorReplies.authFailed;
  } catch (err) {
    if (err instanceof HashBusy) return ErrorReplies.loginsBusy;
    log.error({ err: (err as Error).message }, 'users file unreadable');
    return ErrorReplies.temporary;
  }
  if (!tenant.auth.mapped) return { user, ...names };
  const backend = tenant.auth.users.get(user)?.backend;
  if (backend === undefined) {
    log.error({ tenant: tenant.name }, 'account has no backend credentials (auth: mapped)');
    return ErrorReplies.permanent;
  }
  return { user: backend.user, password: backend.password };
}
