/** RFC 2449 LOGIN-DELAY: remembers when each maildrop last logged in, and refuses logins too soon. */
import { LRUCache } from 'lru-cache';

export class LoginDelayTracker {
  private readonly last: LRUCache<string, number>;

  constructor(private readonly delaySeconds: number) {
    this.last = new LRUCache({ max: 100_000, ttl: Math.max(1, delaySeconds) * 1000 });
  }

  /** True when the maildrop may log in now. */
  allows(key: string, now = Date.now()): boolean {
    if (this.delaySeconds <= 0) return true;
    const previous = this.last.get(key);
    return previous === undefined || now - previous >= this.delaySeconds * 1000;
  }

  /** Records a successful login (failed ones do not start the delay). */
  record(key: string, now = Date.now()): void {
    if (this.delaySeconds > 0) this.last.set(key, now);
  }
}
