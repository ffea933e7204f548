/**
 * The size book in Redis: exact message sizes shared by every gateway instance on the same
 * Redis. One string key per size, `<keyPrefix>size:<tenant>:<adapter>:<message key>`, read with
 * GETEX (which renews its expiry) and written with SET EX, in pipelines. A value that is not a
 * size reads as unknown; so does anything while Redis cannot be used (the store measures).
 */
import type { DurableSizes, SizeBookFactory } from '../../adapters/contract.js';
import { REDIS_PIPELINE_KEYS, REDIS_SIZE_TTL_SECONDS } from './limits.js';
import type { RedisConnection } from './connection.js';

/** The book for one tenant's stores; each adapter gets its own namespace in it. */
export function redisSizeBook(redis: RedisConnection, tenant: string): SizeBookFactory {
  return (namespace) => {
    if (!/^[a-z0-9-]+$/.test(namespace)) throw new Error(`size book namespace "${namespace}": use lower-case letters, digits and dashes`);
    redis.start();
    return new RedisSizes(redis, `${redis.keyPrefix}size:${tenant}:${namespace}:`);
  };
}

class RedisSizes implements DurableSizes {
  constructor(
    private readonly redis: RedisConnection,
    private readonly prefix: string,
  ) {}

  async get(keys: readonly string[]): Promise<(number | undefined)[]> {
    const out = new Array<number | undefined>(keys.length);
    for (let from = 0; from < keys.length; from += REDIS_PIPELINE_KEYS) {
      const chunk = keys.slice(from, from + REDIS_PIPELINE_KEYS);
      const replies = await this.redis.exec((p) => {
        for (const key of chunk) p.getex(this.prefix + key, 'EX', REDIS_SIZE_TTL_SECONDS);
      });
      // Redis failed: the rest stay unknown too (measured), rather than waiting on it again.
      if (replies === undefined) break;
      replies.forEach((value, i) => (out[from + i] = parsed(value)));
    }
    return out;
  }

  async set(entries: readonly (readonly [string, number])[]): Promise<void> {
    for (let from = 0; from < entries.length; from += REDIS_PIPELINE_KEYS) {
      const chunk = entries.slice(from, from + REDIS_PIPELINE_KEYS);
      const replies = await this.redis.exec((p) => {
        for (const [key, size] of chunk) p.set(this.prefix + key, String(size), 'EX', REDIS_SIZE_TTL_SECONDS);
      });
      if (replies === undefined) return;
    }
  }
}

function parsed(value: unknown): number | undefined {
  if (typeof value !== 'string' || !/^\d{1,15}$/.test(value)) return undefined;
  return Number(value);
}
