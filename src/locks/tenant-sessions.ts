/** Per-tenant cap on logged-in sessions (a tenant's `maxConnections`). Survives config reloads. */
import type { Lease, MaildropLease } from './maildrop-locks.js';

export interface TenantSlots {
  /**
   * A slot, or null when the tenant already has `max` sessions.
   * @throws SharedStateUnavailable when the shared count cannot be used (the login is refused).
   */
  tryEnter(tenant: string, max: number | undefined): Promise<Lease | null>;
}

/** One gateway process's counts. */
export class TenantSessions implements TenantSlots {
  private readonly counts = new Map<string, number>();

  async tryEnter(tenant: string, max: number | undefined): Promise<Lease | null> {
    const now = this.counts.get(tenant) ?? 0;
    if (max !== undefined && now >= max) return null;
    this.counts.set(tenant, now + 1);
    let released = false;
    return {
      release: async () => {
        if (released) return;
        released = true;
        const left = (this.counts.get(tenant) ?? 1) - 1;
        if (left <= 0) this.counts.delete(tenant);
        else this.counts.set(tenant, left);
      },
    };
  }

  count(tenant: string): number {
    return this.counts.get(tenant) ?? 0;
  }
}

/** The maildrop lock and the leases that go with it (a tenant slot), released together. */
export function combinedLease(lock: MaildropLease, ...others: readonly Lease[]): MaildropLease {
  return {
    confirm: () => lock.confirm(),
    release: async () => void (await Promise.all([lock, ...others].map((l) => l.release()))),
  };
}
