/**
 * Proven credentials -> who the backend opens. Users-file tenants check the secret here (and
 * `mapped` ones swap in the account's stored backend credentials, app-only ones add the app's
 * token); grant tenants check a device password and add the account's access token;
 * passthrough tenants hand the password or bearer token on, since only the backend can check it.
 */
import type { BackendLogin, TokenSource } from '../../adapters/contract.js';
import { loggableName } from '../../adapters/shared/log-text.js';
import type { Credentials } from '../auth/credentials.js';
import { HashBusy } from '../auth/hash-gate.js';
import { verifyLocal } from '../auth/local-verifier.js';
import { ErrorReplies, StoreError, type Pop3Error } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Tenant } from '../tenants.js';

export interface RoutedNames {
  readonly local: string;
  readonly domain: string | undefined;
}

/** The backend login, or the reply that refuses this one. */
export async function backendLoginFor(
  tenant: Tenant,
  user: string,
  routed: RoutedNames,
  creds: Credentials,
  log: Logger,
  signal: AbortSignal,
): Promise<BackendLogin | Pop3Error> {
  const names = { local: routed.local, ...(routed.domain !== undefined && { domain: routed.domain }) };
  const auth = tenant.auth;
  if (auth.kind === 'passthrough') {
    // Challenge-response methods cannot be passed on: the backend needs the secret itself.
    if (creds.kind === 'password' && auth.passwords) return { user, ...names, password: creds.password };
    if (creds.kind === 'bearer' && auth.tokens) return { user, ...names, accessToken: creds.token };
    return ErrorReplies.authFailed;
  }
  if (auth.kind === 'grant') {
    // Device passwords are typed like passwords; challenge-response needs a stored secret they do not have.
    if (creds.kind !== 'password') return ErrorReplies.authFailed;
    let device;
    try {
      device = await auth.devices.verify(user, creds.password, auth.provider, log);
    } catch (err) {
      if (err instanceof HashBusy) return ErrorReplies.loginsBusy;
      log.error({ err: (err as Error).message }, 'grants store unreadable');
      return ErrorReplies.temporary;
    }
    if (device === undefined) return ErrorReplies.authFailed;
    return withToken(auth.tokens, { user: device.address, ...names, account: user }, log, signal);
  }
  if (creds.kind === 'bearer') return ErrorReplies.authFailed;
  try {
    if (!(await verifyLocal(auth.users, user, creds))) return ErrorReplies.authFailed;
  } catch (err) {
    if (err instanceof HashBusy) return ErrorReplies.loginsBusy;
    log.error({ err: (err as Error).message }, 'users file unreadable');
    return ErrorReplies.temporary;
  }
  if (auth.appTokens !== undefined) return withToken(auth.appTokens, { user, ...names }, log, signal);
  if (!auth.mapped) return { user, ...names };
  const backend = auth.users.get(user)?.backend;
  if (backend === undefined) {
    log.error({ tenant: tenant.name }, 'account has no backend credentials (auth: mapped)');
    return ErrorReplies.permanent;
  }
  return { user: backend.user, password: backend.password };
}

/**
 * The login with an access token from `tokens`, got now, before the maildrop lock: a grant the
 * provider refuses answers [AUTH] (the broker marked it "needs re-consent"), an outage [SYS/TEMP].
 */
async function withToken(tokens: TokenSource, login: BackendLogin, log: Logger, signal: AbortSignal): Promise<BackendLogin | Pop3Error> {
  try {
    return { ...login, accessToken: await tokens.accessToken(login, signal) };
  } catch (err) {
    if (!(err instanceof StoreError)) {
      if (signal.aborted) return ErrorReplies.temporary;
      throw err;
    }
    log.info({ user: loggableName(login.user), code: err.code, err: err.message }, 'no access token for this login');
    if (err.code === 'AUTH_FAILED') return ErrorReplies.authFailed;
    return err.code === 'PERMANENT' ? ErrorReplies.permanent : ErrorReplies.temporary;
  }
}
