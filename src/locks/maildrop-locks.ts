/**
 * The maildrop lock: one POP3 session per mailbox at a time (RFC 1939 section 8), held from
 * login until the session ends however it ends. This in-process implementation serves a single
 * gateway; a shared implementation (Redis) plugs in behind the same interface.
 */

export interface Lease {
  /** Idempotent. */
  release(): Promise<void>;
}

export interface MaildropLocks {
  /** A lease, or null when another session holds the maildrop. */
  acquire(key: string): Promise<Lease | null>;
}

export class InProcessLocks implements MaildropLocks {
  private readonly held = new Set<string>();

  async acquire(key: string): Promise<Lease | null> {
    if (this.held.has(key)) return null;
    this.held.add(key);
    let released = false;
    return {
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
