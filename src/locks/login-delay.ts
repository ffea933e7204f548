/** RFC 2449 LOGIN-DELAY: remembers when each maildrop last logged in, and refuses logins too soon. */
import { LRUCache } from 'lru-cache';

export class LoginDelayTracker {
  private readonly last: LRUCache<string, number>;

  constructor(private readonly delaySeconds: number) {
    this.last = new LRUCache({ max: 100_000, ttl: Math.max(1, delaySeconds) * 1000 });
  }

  /** True (and records the login) when the maildrop may log in now. */
  admit(key: string, now = Date.now()): boolean {
    if (this.delaySeconds <= 0) return true;
    const previous = this.last.get(key);
    if (previous !== undefined && now - previous < this.delaySeconds * 1000) return false;
    this.last.set(key, now);
    return true;
  }
}
