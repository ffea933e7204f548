/**
 * AUTHORIZATION -> TRANSACTION: route the login name, verify, lock, snapshot.
 * Every failure before the lock looks the same to the client (same text, same delay), so a
 * stranger cannot tell an unknown user or tenant from a wrong password. [IN-USE] and
 * [LOGIN-DELAY] are only said once the credentials were proven.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Maildrop } from '../../adapters/contract.js';
import type { Credentials } from '../auth/credentials.js';
import { HashBusy, withHashDeadline } from '../auth/hash-gate.js';
import { spendVerifyCost } from '../auth/local-verifier.js';
import { Pop3Error, ErrorReplies, StoreError, replyForStoreError } from '../errors.js';
import { SharedStateUnavailable } from '../locks/shared-state-unavailable.js';
import { loggableName } from '../../adapters/shared/log-text.js';
import type { Logger } from '../logger.js';
import { mintedTokensOf } from '../tenant-auth.js';
import type { Config } from '../config/schema.js';
import { LoginShed, type AdmissionLimits } from '../locks/login-shedder.js';
import type { RouteResult } from '../routing/router.js';
import type { Tenant } from '../tenants.js';
import { ConnectionClosed } from './connection-closed.js';
import type { Session } from './session.js';
import { loginDelayOf, maildropKeyOf, mechanismsOf } from './tenant-policy.js';
import { backendLoginFor } from './backend-login.js';
import { openRenewingToken } from './token-renewal.js';
import { takeMaildrop } from './maildrop-lease.js';
import { Transaction } from './transaction.js';

/** Why a login was refused: login() answers it (after the failure delay, for [AUTH]). */
interface Refusal {
  readonly reply: Pop3Error;
  readonly outcome: string;
  readonly reason?: string;
}

/** `mechanism`: the SASL mechanism used, checked against the routed tenant's list. */
export async function login(conn: Session, creds: Credentials, mechanism?: string): Promise<void> {
  const started = Date.now();
  const startedPrecise = performance.now();
  const log = conn.log.child({ login: loggableName(creds.login), method: creds.kind });
  const { penalties, shedder, config } = conn.ctx;
  const { authPenalty, authFailureDelayMs } = config.limits;
  const standing = await penalties.standing(conn.remoteAddress, creds.login, authPenalty);
  if (standing.addressMs > 0) {
    // An address that failed recently waits before anything is checked: each of its guesses
    // costs it time, on every connection. It waits holding no login slot.
    penalties.held(standing.addressMs);
    await pause(standing.addressMs, conn.signal);
  }
  const routed = conn.ctx.tenants.explain(creds.login, conn.serverName);
  const tenant = routed.ok ? routed.tenant : undefined;
  // Load shedding: the password check and the backend's login must start by this deadline, or
  // the login is answered [SYS/TEMP] at once rather than queued.
  const deadline = Date.now() + config.limits.loginQueueWaitMs;
  const refusal = await withHashDeadline(deadline, () => attempt(conn, creds, mechanism, routed, log, { started, heldMs: standing.addressMs, deadline }));
  // A client that left while it waited was not shed: there is no one to answer.
  if (refusal?.reply === ErrorReplies.loginsBusy && conn.isClosed) throw new ConnectionClosed();
  if (refusal === undefined) {
    await penalties.recordSuccess(conn.remoteAddress, authPenalty);
    return;
  }
  const { reply, outcome, reason } = refusal;
  if (reply === ErrorReplies.loginsBusy) shedder.countShed(tenant?.name);
  // Every failure of the credentials is answered alike: the same text after the same delay.
  const penaltyMs = reply === ErrorReplies.authFailed ? Math.max(standing.addressMs, standing.loginMs) : 0;
  if (reply === ErrorReplies.authFailed) {
    await penalties.recordFailure(conn.remoteAddress, creds.login, authPenalty);
    // Timers count from the event loop's cached millisecond clock, which may lag the real one:
    // one millisecond more keeps the answer from coming a fraction before the promised delay.
    await pause(startedPrecise + authFailureDelayMs + penaltyMs - performance.now() + 1, conn.signal);
  }
  log.info({ outcome, ms: Date.now() - started, ...(penaltyMs > 0 && { penaltyMs }), ...(reason !== undefined && { reason }) }, 'login failed');
  throw reply;
}

function admissionLimits(config: Config, tenant: Tenant, deadline: number): AdmissionLimits {
  const { maxLoginsInFlight, maxLoginsInFlightPerTenant } = config.limits;
  return { process: maxLoginsInFlight, tenant: tenant.config.maxLoginsInFlight ?? maxLoginsInFlightPerTenant, waitMs: deadline - Date.now() };
}

/**
 * Verify, lock, open. Resolves undefined once the session is in TRANSACTION, or with the
 * refusal to answer; throws the replies that need no delay ([IN-USE], [LOGIN-DELAY], a
 * tenant's session cap). The dear parts are bounded: password checks by the hash gate, the
 * backend's login and first listing (`open`) by the process's and the tenant's login slots.
 */
async function attempt(
  conn: Session,
  creds: Credentials,
  mechanism: string | undefined,
  routed: RouteResult<Tenant>,
  log: Logger,
  timing: { readonly started: number; readonly heldMs: number; readonly deadline: number },
): Promise<Refusal | undefined> {
  if (!routed.ok) {
    // Same work and same answer as a wrong password: a stranger learns nothing about names.
    if (!(await spendVerifyCostUnlessBusy(creds))) return { reply: ErrorReplies.loginsBusy, outcome: 'logins-busy' };
    return { reply: ErrorReplies.authFailed, outcome: 'auth-failed', reason: `no route: ${routed.reason}` };
  }
  const { tenant, user } = routed;
  const { config } = conn.ctx;
  if (mechanism !== undefined && !mechanismsOf(config, tenant).includes(mechanism)) {
    if (!(await spendVerifyCostUnlessBusy(creds))) return { reply: ErrorReplies.loginsBusy, outcome: 'logins-busy' };
    return { reply: ErrorReplies.authFailed, outcome: 'auth-failed', reason: `mechanism ${mechanism} is not allowed for tenant ${tenant.name}` };
  }
  const checked = await backendLoginFor(tenant, user, { local: routed.local, domain: routed.domain }, creds, log, conn.signal);
  if (checked instanceof Pop3Error) return { reply: checked, outcome: outcomeOf(checked) };
  const backendLogin = checked;

  const listSince = routed.recent ? new Date(Date.now() - tenant.config.recent.days * 86_400_000) : undefined;
  const open = async (): Promise<Maildrop> => {
    const permit = await conn.ctx.shedder.admit(tenant.name, admissionLimits(config, tenant, timing.deadline), conn.signal);
    if (permit === undefined) throw new LoginShed();
    try {
      return await openRenewingToken(
        (login) =>
          tenant.store.open(login, {
            sessionId: conn.id,
            remoteAddress: conn.remoteAddress,
            ...(conn.remotePort !== undefined && { remotePort: conn.remotePort }),
            tenant: tenant.name,
            signal: conn.signal,
            ...(listSince !== undefined && { listSince }),
          }),
        backendLogin,
        mintedTokensOf(tenant.auth),
        conn.signal,
      );
    } finally {
      permit.release();
    }
  };
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
      return undefined;
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
        ms: Date.now() - timing.started,
        ...(timing.heldMs > 0 && { heldMs: timing.heldMs }),
      },
      'login',
    );
    return undefined;
  } catch (err) {
    if (err instanceof LoginShed) return { reply: ErrorReplies.loginsBusy, outcome: 'logins-busy', reason: 'no login slot came free in time' };
    if (err instanceof SharedStateUnavailable) {
      // Without its lock a session could delete what another one is reading: refused, retryable.
      await drop?.close().catch(() => undefined);
      return { reply: ErrorReplies.sharedStateUnavailable, outcome: 'shared-state-unavailable', reason: 'the shared session state (Redis) is unavailable' };
    }
    if (err instanceof StoreError) {
      // The gateway already verified the user: a backend refusing it now is the operator's
      // problem (stored credentials, a user name the backend cannot use), not a wrong password.
      if (err.code === 'AUTH_FAILED' && tenant.auth.kind === 'local') {
        const what = tenant.auth.mapped
          ? 'the stored backend credentials (auth: mapped)'
          : tenant.auth.appTokens !== undefined
            ? "the app-only token for a user the users file accepted (may the application open this mailbox? Exchange: Add-MailboxPermission for the app's service principal)"
            : 'a user the users file accepted';
        log.error({ tenant: tenant.name, err: err.message }, `the backend refused ${what}`);
        return { reply: ErrorReplies.permanent, outcome: 'backend-refused-verified-user' };
      }
      return { reply: replyForStoreError(err), outcome: storeOutcome(err, log, tenant) };
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
  return 'backend-credentials-unusable';
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

/** Waits `ms` (nothing when it is not positive), or until the connection ends. */
async function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (ms > 0) await sleep(ms, undefined, { signal }).catch(() => undefined);
}
