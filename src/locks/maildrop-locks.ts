/**
 * The maildrop lock: one POP3 session per mailbox at a time (RFC 1939 section 8), held from
 * login until the session ends however it ends. This in-process implementation serves a single
 * gateway process; the shared one (src/redis/maildrop-locks.ts) plugs in behind the same
 * interface when several processes serve the same mailboxes.
 */

export interface Lease {
  /** Idempotent; never rejects (a shared lease that cannot be released expires). */
  release(): Promise<void>;
}

export interface MaildropLease extends Lease {
  /**
   * The fence before deleting: true only when this session is known to hold the lock now (a
   * shared lock is checked against its store and extended for the commit). False when the lock
   * was lost or its store cannot say; then nothing may be deleted. Never rejects.
   */
  confirm(): Promise<boolean>;
}

export interface MaildropLocks {
  /**
   * A lease, or null when another session holds the maildrop.
   * @throws SharedStateUnavailable when the lock's store cannot be reached (the login is refused).
   */
  acquire(key: string): Promise<MaildropLease | null>;
}

export class InProcessLocks implements MaildropLocks {
  private readonly held = new Set<string>();

  async acquire(key: string): Promise<MaildropLease | null> {
    if (this.held.has(key)) return null;
    this.held.add(key);
    let released = false;
    return {
      confirm: async () => !released,
      release: async () => {
        if (released) return;
        released = true;
        this.held.delete(key);
      },
    };
  }

  get size(): number {
    return this.held.size;
  }
}
