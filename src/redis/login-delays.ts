/**
 * LOGIN-DELAY across every gateway process: the last successful login of each maildrop,
 * `<keyPrefix>login:<maildrop>`, in the Redis server's milliseconds, kept for the delay.
 */
import type { LoginDelays } from '../locks/login-delay.js';
import type { RedisConnection } from './connection.js';

export class RedisLoginDelays implements LoginDelays {
  constructor(private readonly redis: RedisConnection) {}

  async allows(key: string, delaySeconds: number): Promise<boolean> {
    if (delaySeconds <= 0) return true;
    const [reply] = await this.redis.run((p) => p.popgateLoginAllowed(this.keyOf(key), delaySeconds * 1000));
    return reply === 1;
  }

  async record(key: string, delaySeconds: number): Promise<void> {
    // Not recorded (Redis failed since the lock was taken): this one login starts no delay.
    if (delaySeconds > 0) await this.redis.exec((p) => p.popgateLoginRecord(this.keyOf(key), delaySeconds * 1000));
  }

  private keyOf(key: string): string {
    return `${this.redis.keyPrefix}login:${key}`;
  }
}
