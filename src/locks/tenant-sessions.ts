/** Per-tenant cap on logged-in sessions (a tenant's `maxConnections`). Survives config reloads. */
import type { Lease } from './maildrop-locks.js';

export class TenantSessions {
  private readonly counts = new Map<string, number>();

  /** A slot, or null when the tenant already has `max` sessions. */
  tryEnter(tenant: string, max: number | undefined): Lease | null {
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

/** One lease made of several, released together (maildrop lock + tenant slot). */
export function combinedLease(...leases: readonly Lease[]): Lease {
  return { release: async () => void (await Promise.all(leases.map((l) => l.release()))) };
}
