/**
 * AUTHORIZATION -> TRANSACTION: route the login name, verify, lock, snapshot.
 * Every failure before the lock looks the same to the client (same text, same delay), so a
 * stranger cannot tell an unknown user or tenant from a wrong password. [IN-USE] and
 * [LOGIN-DELAY] are only said once the credentials were proven.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Maildrop } from '../../adapters/contract.js';
import type { Credentials } from '../auth/credentials.js';
import { HashBusy } from '../auth/hash-gate.js';
import { spendVerifyCost } from '../auth/local-verifier.js';
import { Pop3Error, ErrorReplies, StoreError, replyForStoreError } from '../errors.js';
import { SharedStateUnavailable } from '../locks/shared-state-unavailable.js';
import { loggableName } from '../../adapters/shared/log-text.js';
import type { Logger } from '../logger.js';
import type { Tenant } from '../tenants.js';
import type { Session } from './session.js';
import { loginDelayOf, maildropKeyOf, mechanismsOf } from './tenant-policy.js';
import { backendLoginFor } from './backend-login.js';
import { takeMaildrop } from './maildrop-lease.js';
import { Transaction } from './transaction.js';

/** `mechanism`: the SASL mechanism used, checked against the routed tenant's list. */
export async function login(conn: Session, creds: Credentials, mechanism?: string): Promise<void> {
  const started = Date.now();
  const log = conn.log.child({ login: loggableName(creds.login), method: creds.kind });
  const fail = async (reply: Pop3Error, outcome: string, reason?: string): Promise<never> => {
    if (reply === ErrorReplies.authFailed) await failDelay(conn);
    log.info({ outcome, ms: Date.now() - started, ...(reason !== undefined && { reason }) }, 'login failed');
    throw reply;
  };

  const routed = conn.ctx.tenants.explain(creds.login, conn.serverName);
  if (!routed.ok) {
    // Same work and same answer as a wrong password: a stranger learns nothing about names.
    if (!(await spendVerifyCostUnlessBusy(creds))) return fail(ErrorReplies.loginsBusy, 'logins-busy');
    return fail(ErrorReplies.authFailed, 'auth-failed', `no route: ${routed.reason}`);
  }
  const { tenant, user } = routed;
  const { config } = conn.ctx;
  if (mechanism !== undefined && !mechanismsOf(config, tenant).includes(mechanism)) {
    if (!(await spendVerifyCostUnlessBusy(creds))) return fail(ErrorReplies.loginsBusy, 'logins-busy');
    return fail(ErrorReplies.authFailed, 'auth-failed', `mechanism ${mechanism} is not allowed for tenant ${tenant.name}`);
  }
  const checked = await backendLoginFor(tenant, user, { local: routed.local, domain: routed.domain }, creds, log);
  if (checked instanceof Pop3Error) return fail(checked, outcomeOf(checked));
  const backendLogin = checked;

  const listSince = routed.recent ? new Date(Date.now() - tenant.config.recent.days * 86_400_000) : undefined;
  const open = (): Promise<Maildrop> =>
    tenant.store.open(backendLogin, {
      sessionId: conn.id,
      remoteAddress: conn.remoteAddress,
      tenant: tenant.name,
      signal: conn.signal,
      ...(listSince !== undefined && { listSince }),
    });
  let drop: Maildrop | undefined;
  try {
    // Passthrough: opening is the credential check, so it must come before the lock.
    if (tenant.auth.kind === 'passthrough') drop = await open();
    const lockKey = maildropKeyOf(tenant, backendLogin);
    const delay = loginDelayOf(config, tenant);
    const taken = await takeMaildrop(conn.ctx, tenant, lockKey, delay);
    if ('refused' in taken) return await refuse(drop, log, taken.refused, taken.outcome);
    const { lease } = taken;
    try {
      drop ??= await open();
    } catch (err) {
      await lease.release();
      throw err;
    }
    const tx = new Transaction(drop, lease);
    if (conn.isClosed) {
      await tx.end();
      return;
    }
    await conn.ctx.loginDelay.record(lockKey, delay);
    // The connection keeps the name only for its log lines (quit, disconnect): the safe form.
    conn.enterTransaction(tx, loggableName(creds.login), tenant);
    log.info(
      {
        outcome: 'ok',
        tenant: tenant.name,
        adapter: tenant.store.kind,
        user: loggableName(user),
        recent: routed.recent,
        messages: drop.messages.length,
        ms: Date.now() - started,
      },
      'login',
    );
  } catch (err) {
    if (err instanceof SharedStateUnavailable) {
      // Without its lock a session could delete what another one is reading: refused, retryable.
      await drop?.close().catch(() => undefined);
      return fail(ErrorReplies.sharedStateUnavailable, 'shared-state-unavailable');
    }
    if (err instanceof StoreError) {
      // The gateway already verified the user: a backend refusing it now is the operator's
      // problem (stored credentials, a user name the backend cannot use), not a wrong password.
      if (err.code === 'AUTH_FAILED' && tenant.auth.kind === 'local') {
        const what = tenant.auth.mapped ? 'the stored backend credentials (auth: mapped)' : 'a user the users file accepted';
        log.error({ tenant: tenant.name, err: err.message }, `the backend refused ${what}`);
        return fail(ErrorReplies.permanent, 'backend-refused-verified-user');
      }
      return fail(replyForStoreError(err), storeOutcome(err, log, tenant));
    }
    throw err;
  }
}

/** False when the hash gate is full: then the login is shed like any other under a flood. */
async function spendVerifyCostUnlessBusy(creds: Credentials): Promise<boolean> {
  try {
    await spendVerifyCost(creds);
    return true;
  } catch (err) {
    if (err instanceof HashBusy) return false;
    throw err;
  }
}

/** Fixed outcome names for the log, by reply. */
function outcomeOf(reply: Pop3Error): string {
  if (reply === ErrorReplies.authFailed) return 'auth-failed';
  if (reply === ErrorReplies.loginsBusy) return 'logins-busy';
  if (reply === ErrorReplies.temporary) return 'users-file-error';
  return 'no-backend-credentials';
}

async function refuse(drop: Maildrop | undefined, log: Logger, reply: Pop3Error, outcome: string): Promise<never> {
  await drop?.close().catch(() => undefined);
  log.info({ outcome }, `login refused: ${outcome}`);
  throw reply;
}

function storeOutcome(err: StoreError, log: Logger, tenant: Tenant): string {
  if (err.code !== 'AUTH_FAILED') log.warn({ tenant: tenant.name, code: err.code, err: err.message }, 'opening the maildrop failed');
  return err.code === 'AUTH_FAILED' ? 'auth-failed' : 'backend-error';
}

async function failDelay(conn: Session): Promise<void> {
  const ms = conn.ctx.config.limits.authFailureDelayMs;
  if (ms > 0) await sleep(ms, undefined, { signal: conn.signal }).catch(() => undefined);
}
