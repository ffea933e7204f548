/**
 * The session state every gateway process on one Redis shares: maildrop locks, LOGIN-DELAY
 * times and tenant session counts. Locks and counts are renewed together, every third of the
 * lock TTL.
 */
import type { LoginDelays } from '../locks/login-delay.js';
import type { MaildropLocks } from '../locks/maildrop-locks.js';
import type { TenantSlots } from '../locks/tenant-sessions.js';
import type { RedisConnection } from './connection.js';
import { LeaseRenewer } from './lease-renewer.js';
import { RedisLoginDelays } from './login-delays.js';
import { RedisMaildropLocks } from './maildrop-locks.js';
import { RedisTenantSlots } from './tenant-slots.js';

export interface SharedSessionState {
  readonly locks: MaildropLocks;
  readonly loginDelay: LoginDelays;
  readonly tenantSessions: TenantSlots;
  /** Stops renewing (at shutdown, once the sessions have ended). */
  stop(): void;
}

export function redisSessionState(redis: RedisConnection, lockTtlSeconds: number): SharedSessionState {
  const ttlMs = lockTtlSeconds * 1000;
  const renewer = new LeaseRenewer(redis, Math.floor(ttlMs / 3));
  // Connect now: the first login should not wait for it.
  redis.start();
  return {
    locks: new RedisMaildropLocks(redis, renewer, ttlMs),
    loginDelay: new RedisLoginDelays(redis),
    tenantSessions: new RedisTenantSlots(redis, renewer, ttlMs),
    stop: () => renewer.stop(),
  };
}
