/** RFC 2449 LOGIN-DELAY: remembers when each maildrop last logged in, and refuses logins too soon. */
import { LRUCache } from 'lru-cache';

export interface LoginDelays {
  /**
   * True when the maildrop may log in now.
   * @throws SharedStateUnavailable when the shared record cannot be read (the login is refused).
   */
  allows(key: string, delaySeconds: number): Promise<boolean>;
  /** Records a successful login (failed ones do not start the delay). Never rejects. */
  record(key: string, delaySeconds: number): Promise<void>;
}

/** One gateway process's records. */
export class LoginDelayTracker implements LoginDelays {
  /** Each entry lives as long as its own tenant's delay (tenants may differ). */
  private readonly last = new LRUCache<string, number>({ max: 100_000, ttl: 1000 });

  async allows(key: string, delaySeconds: number): Promise<boolean> {
    if (delaySeconds <= 0) return true;
    const previous = this.last.get(key);
    return previous === undefined || Date.now() - previous >= delaySeconds * 1000;
  }

  async record(key: string, delaySeconds: number): Promise<void> {
    if (delaySeconds > 0) this.last.set(key, Date.now(), { ttl: delaySeconds * 1000 });
  }
}
