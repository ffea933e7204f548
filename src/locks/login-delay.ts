/** RFC 2449 LOGIN-DELAY: remembers when each maildrop last logged in, and refuses logins too soon. */
import { LRUCache } from 'lru-cache';

export class LoginDelayTracker {
  /** Each entry lives as long as its own tenant's delay (tenants may differ). */
  private readonly last = new LRUCache<string, number>({ max: 100_000, ttl: 1000 });

  /** True when the maildrop may log in now. */
  allows(key: string, delaySeconds: number, now = Date.now()): boolean {
    if (delaySeconds <= 0) return true;
    const previous = this.last.get(key);
    return previous === undefined || now - previous >= delaySeconds * 1000;
  }

  /** Records a successful login (failed ones do not start the delay). */
  record(key: string, delaySeconds: number, now = Date.now()): void {
    if (delaySeconds > 0) this.last.set(key, now, { ttl: delaySeconds * 1000 });
  }
}
