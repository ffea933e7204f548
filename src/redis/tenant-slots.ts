/**
 * Tenant session counts in Redis, for `maxConnections` across every gateway process: one sorted
 * set per tenant, `<keyPrefix>sessions:<tenant>`, a random member per logged-in session scored by
 * its expiry. Members are renewed with the locks; those of a process that died expire after the
 * lock TTL, so its sessions stop counting without anyone cleaning up.
 */
import { randomBytes } from 'node:crypto';
import type { ChainableCommander } from 'ioredis';
import type { Lease } from '../locks/maildrop-locks.js';
import type { TenantSlots } from '../locks/tenant-sessions.js';
import type { RedisConnection } from './connection.js';
import type { LeaseRenewer, Renewable } from './lease-renewer.js';

export class RedisTenantSlots implements TenantSlots {
  constructor(
    private readonly redis: RedisConnection,
    private readonly renewer: LeaseRenewer,
    private readonly ttlMs: number,
  ) {}

  async tryEnter(tenant: string, max: number | undefined): Promise<Lease | null> {
    const key = `${this.redis.keyPrefix}sessions:${tenant}`;
    const member = randomBytes(12).toString('base64url');
    let reply: unknown;
    try {
      [reply] = await this.redis.run((p) => p.popgateSlotEnter(key, member, this.ttlMs, max ?? -1));
    } catch (err) {
      // An entry that timed out may still be made on a hung server: it would count for a TTL.
      void this.redis.cleanUp((p) => p.zrem(key, member));
      throw err;
    }
    if (reply !== 1) return null;
    const slot = new RedisSlot(this.redis, this.renewer, key, member, this.ttlMs);
    this.renewer.add(slot);
    return slot;
  }
}

class RedisSlot implements Lease, Renewable {
  private released = false;

  constructor(
    private readonly redis: RedisConnection,
    private readonly renewer: LeaseRenewer,
    private readonly key: string,
    private readonly member: string,
    private readonly ttlMs: number,
  ) {}

  renew(pipeline: ChainableCommander): void {
    pipeline.popgateSlotRenew(this.key, this.member, this.ttlMs);
  }

  renewed(): void {}

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    this.renewer.delete(this);
    // Not removed (Redis down): it expires with the TTL.
    await this.redis.cleanUp((p) => p.zrem(this.key, this.member));
  }
}
