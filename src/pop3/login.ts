/**
 * AUTHORIZATION -> TRANSACTION: route the login name, verify, lock, snapshot.
 * Every failure before the lock looks the same to the client (same text, same delay), so a
 * stranger cannot tell an unknown user or tenant from a wrong password.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { BackendLogin } from '../../adapters/contract.js';
import { needsSharedSecret, type Credentials } from '../auth/credentials.js';
import { verifyLocal } from '../auth/local-verifier.js';
import { Pop3Error, Replies, StoreError, replyForStoreError } from '../errors.js';
import type { Connection } from './connection.js';
import { Transaction } from './transaction.js';

export async function login(conn: Connection, creds: Credentials): Promise<void> {
  const started = Date.now();
  const log = conn.log.child({ login: creds.login, method: creds.kind });
  const route = conn.ctx.tenants.route(creds.login);
  let ok = false;
  let failure: Pop3Error = Replies.authFailed;
  if (route !== undefined) {
    try {
      ok = await verifyLocal(route.tenant.users, route.user, creds);
    } catch (err) {
      log.error({ err: (err as Error).message }, 'users file unreadable');
      failure = Replies.temporary;
    }
  } else if (!needsSharedSecret(creds)) {
    // Same scrypt cost as a real user, so timing does not reveal unknown tenants.
    await verifyLocal(conn.ctx.tenants.all()[0]!.users, '\0no-such-user', creds).catch(() => false);
  }
  if (!ok || route === undefined) {
    await failDelay(conn);
    log.info({ outcome: 'auth-failed', ms: Date.now() - started }, 'login failed');
    throw failure;
  }

  const { tenant, user } = route;
  const backendLogin: BackendLogin = { user };
  let lockKey: string;
  try {
    lockKey = `${tenant.name}/${tenant.store.lockKey(backendLogin)}`;
  } catch (err) {
    await failDelay(conn);
    throw err instanceof StoreError ? replyForStoreError(err) : err;
  }
  if (!conn.ctx.loginDelay.allows(lockKey)) {
    log.info({ outcome: 'login-delay' }, 'login refused: LOGIN-DELAY');
    throw Replies.loginDelay;
  }
  const lease = await conn.ctx.locks.acquire(lockKey);
  if (lease === null) {
    log.info({ outcome: 'in-use' }, 'login refused: maildrop locked');
    throw Replies.inUse;
  }
  try {
    const drop = await tenant.store.open(backendLogin, {
      sessionId: conn.id,
      remoteAddress: conn.remoteAddress,
      tenant: tenant.name,
      signal: conn.signal,
    });
    const tx = new Transaction(drop, lease);
    if (conn.isClosed) {
      await tx.end();
      return;
    }
    conn.ctx.loginDelay.record(lockKey);
    conn.enterTransaction(tx, creds.login);
    log.info({ outcome: 'ok', tenant: tenant.name, messages: drop.messages.length, ms: Date.now() - started }, 'login');
  } catch (err) {
    await lease.release();
    if (err instanceof StoreError) {
      log.warn({ outcome: 'backend-error', code: err.code, err: err.message }, 'opening the maildrop failed');
      if (err.code === 'AUTH_FAILED') await failDelay(conn);
      throw replyForStoreError(err);
    }
    throw err;
  }
}

async function failDelay(conn: Connection): Promise<void> {
  const ms = conn.ctx.config.limits.authFailureDelayMs;
  if (ms > 0) await sleep(ms, undefined, { signal: conn.signal }).catch(() => undefined);
}
