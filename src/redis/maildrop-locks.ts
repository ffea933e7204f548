/**
 * Maildrop locks in Redis, shared by every gateway process on it: `SET <keyPrefix>lock:<maildrop>
 * <random token> PX <ttl> NX` takes one; the holder renews it while the session lives and
 * releases it with a compare-and-delete, so an expired holder can never free a lock another
 * session took since. A renewal that finds another token (or none: it expired, or a restarted
 * Redis lost it) marks the lease lost for good; QUIT's confirmation (compare-and-extend) is the
 * fence: a lease that is lost or cannot be confirmed deletes nothing.
 */
import { randomBytes } from 'node:crypto';
import type { ChainableCommander } from 'ioredis';
import type { MaildropLease, MaildropLocks } from '../locks/maildrop-locks.js';
import type { RedisConnection } from './connection.js';
import type { LeaseRenewer, Renewable } from './lease-renewer.js';

export class RedisMaildropLocks implements MaildropLocks {
  constructor(
    private readonly redis: RedisConnection,
    private readonly renewer: LeaseRenewer,
    private readonly ttlMs: number,
  ) {}

  async acquire(key: string): Promise<MaildropLease | null> {
    const redisKey = `${this.redis.keyPrefix}lock:${key}`;
    const token = randomBytes(16).toString('base64url');
    let reply: unknown;
    try {
      [reply] = await this.redis.run((p) => p.set(redisKey, token, 'PX', this.ttlMs, 'NX'));
    } catch (err) {
      // A SET that timed out may still run on a hung server: its lock would block the mailbox
      // for a whole TTL with nobody holding it.
      void this.redis.cleanUp((p) => p.popgateHolderRelease(redisKey, token));
      throw err;
    }
    if (reply !== 'OK') return null;
    const lease = new RedisLockLease(this.redis, this.renewer, redisKey, token, this.ttlMs);
    this.renewer.add(lease);
    return lease;
  }
}

class RedisLockLease implements MaildropLease, Renewable {
  private state: 'held' | 'lost' | 'released' = 'held';

  constructor(
    private readonly redis: RedisConnection,
    private readonly renewer: LeaseRenewer,
    private readonly key: string,
    private readonly token: string,
    private readonly ttlMs: number,
  ) {}

  renew(pipeline: ChainableCommander): void {
    pipeline.popgateHolderRenew(this.key, this.token, this.ttlMs);
  }

  renewed(reply: unknown): void {
    if (reply !== 1) this.lose();
  }

  async confirm(): Promise<boolean> {
    if (this.state !== 'held') return false;
    // Extended for a whole TTL: the commit that follows runs inside it (and renewals go on).
    const replies = await this.redis.exec((p) => p.popgateHolderRenew(this.key, this.token, this.ttlMs));
    if (replies === undefined) return false;
    if (replies[0] !== 1) this.lose();
    return this.state === 'held';
  }

  async release(): Promise<void> {
    if (this.state === 'released') return;
    const held = this.state === 'held';
    this.state = 'released';
    this.renewer.delete(this);
    // A lost lock is someone else's now (or nobody's); one that cannot be released here expires.
    if (held) await this.redis.cleanUp((p) => p.popgateHolderRelease(this.key, this.token));
  }

  private lose(): void {
    if (this.state !== 'held') return;
    this.state = 'lost';
    this.renewer.delete(this);
  }
}
