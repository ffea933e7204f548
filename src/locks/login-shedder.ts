/**
 * Load shedding of logins. The backend's own login and first listing (MailStore.open) run only
 * within a bound per process and per tenant, as password checks run only within the hash gate's
 * (src/auth/hash-gate.ts); a login whose dear part cannot start within `limits.loginQueueWaitMs`
 * is answered -ERR [SYS/TEMP] at once, so a flood of first logins (each ~50 ms of scrypt, ~30-40
 * a second on two cores) is answered fast, devices retry later, and logins that cost nothing
 * (a cached password, a cheap backend) do not queue behind the flood. Counts survive config
 * reloads (the admin API's metrics read stats()).
 */
import { DeadlineSemaphore } from './deadline-semaphore.js';

export interface AdmissionLimits {
  /** Logins in flight in this process. */
  readonly process: number;
  /** Logins in flight for this tenant (one slow backend cannot take every slot). */
  readonly tenant: number;
  /** How long a login may wait for a slot before it is shed. */
  readonly waitMs: number;
}

export interface LoginPermit {
  /** Idempotent. */
  release(): void;
}

export interface ShedderStats {
  readonly inFlight: number;
  readonly waiting: number;
  readonly admitted: number;
  /** Logins answered [SYS/TEMP] because their password check or backend login could not start in time. */
  readonly shed: number;
  /** The same by tenant (`-` for logins that routed to no tenant). */
  readonly shedByTenant: Readonly<Record<string, number>>;
}

const NO_TENANT = '-';

/** No login slot came free in time: answered [SYS/TEMP]. */
export class LoginShed extends Error {
  override readonly name = 'LoginShed';
}

export class LoginShedder {
  private readonly processSlots = new DeadlineSemaphore(Number.MAX_SAFE_INTEGER);
  private readonly tenantSlots = new Map<string, DeadlineSemaphore>();
  private admitted = 0;
  private readonly shedBy = new Map<string, number>();

  /**
   * A permit, or undefined when no slot came free in time (or the client left meanwhile).
   * `tenant`: undefined for a login that routes nowhere (it still costs a hash, so it still counts).
   */
  async admit(tenant: string | undefined, limits: AdmissionLimits, signal?: AbortSignal): Promise<LoginPermit | undefined> {
    const deadline = Date.now() + limits.waitMs;
    this.processSlots.setLimit(limits.process);
    let tenantSlots: DeadlineSemaphore | undefined;
    if (tenant !== undefined) {
      tenantSlots = this.tenantSlots.get(tenant);
      if (tenantSlots === undefined) this.tenantSlots.set(tenant, (tenantSlots = new DeadlineSemaphore(limits.tenant)));
      else tenantSlots.setLimit(limits.tenant);
      // The tenant's slot first: a login waiting on its own backend holds none of the process's.
      if (!(await tenantSlots.acquire(limits.waitMs, signal))) return undefined;
    }
    if (!(await this.processSlots.acquire(deadline - Date.now(), signal))) {
      tenantSlots?.release();
      return undefined;
    }
    this.admitted++;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.processSlots.release();
        tenantSlots?.release();
      },
    };
  }

  /** Counts a login answered [SYS/TEMP] for lack of capacity. */
  countShed(tenant: string | undefined): void {
    const key = tenant ?? NO_TENANT;
    this.shedBy.set(key, (this.shedBy.get(key) ?? 0) + 1);
  }

  stats(): ShedderStats {
    return {
      inFlight: this.processSlots.inUse,
      waiting: this.processSlots.waiting + [...this.tenantSlots.values()].reduce((n, s) => n + s.waiting, 0),
      admitted: this.admitted,
      shed: [...this.shedBy.values()].reduce((a, b) => a + b, 0),
      shedByTenant: Object.fromEntries(this.shedBy),
    };
  }
}
