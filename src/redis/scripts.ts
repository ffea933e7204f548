/**
 * The Lua scripts of the shared session state, each one atomic on the Redis server. Times come
 * from the server's clock (TIME), so gateways on machines whose clocks differ still agree on
 * expiries. ioredis sends each with EVALSHA, and EVAL on a connection that has not loaded it
 * yet (a restarted Redis has no scripts).
 */
import type { ClientContext, Redis, Result } from 'ioredis';

declare module 'ioredis' {
  interface RedisCommander<Context extends ClientContext = { type: 'default' }> {
    /** 1 when KEYS[1] still holds this token (its expiry is then set to `ttlMs` from now), else 0. */
    popgateHolderRenew(key: string, token: string, ttlMs: number): Result<number, Context>;
    /** Deletes KEYS[1] only when it holds this token: 1, else 0. */
    popgateHolderRelease(key: string, token: string): Result<number, Context>;
    /** Adds `member` to the sessions set unless it has `max` live members (max < 0: no cap): 1, else 0. */
    popgateSlotEnter(key: string, member: string, ttlMs: number, max: number): Result<number, Context>;
    /** Sets `member`'s expiry `ttlMs` from now (adding it again after a Redis restart lost it). */
    popgateSlotRenew(key: string, member: string, ttlMs: number): Result<number, Context>;
    /** 1 when no login was recorded under KEYS[1] in the last `delayMs`, else 0. */
    popgateLoginAllowed(key: string, delayMs: number): Result<number, Context>;
    /** Records a login now under KEYS[1], kept for `delayMs`. */
    popgateLoginRecord(key: string, delayMs: number): Result<number, Context>;
  }
}

const NOW_MS = `local t = redis.call('TIME') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

const SCRIPTS = {
  popgateHolderRenew: `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`,
  popgateHolderRelease: `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`,
  // Members are scored by their expiry; the set itself expires with its latest member, so a
  // tenant whose every process died leaves nothing behind.
  popgateSlotEnter: `${NOW_MS}
    redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
    local max = tonumber(ARGV[3])
    if max >= 0 and redis.call('ZCARD', KEYS[1]) >= max then return 0 end
    redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return 1`,
  popgateSlotRenew: `${NOW_MS}
    redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return 1`,
  popgateLoginAllowed: `${NOW_MS}
    local last = tonumber(redis.call('GET', KEYS[1]))
    if last == nil or now - last >= tonumber(ARGV[1]) then return 1 else return 0 end`,
  popgateLoginRecord: `${NOW_MS}
    redis.call('SET', KEYS[1], now, 'PX', ARGV[1])
    return 1`,
} as const satisfies Record<string, string>;

/** Makes the scripts callable on this client (and its pipelines) by name. */
export function defineScripts(client: Redis): void {
  for (const [name, lua] of Object.entries(SCRIPTS)) client.defineCommand(name, { numberOfKeys: 1, lua });
}
