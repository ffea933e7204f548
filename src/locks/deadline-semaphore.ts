/**
 * A counting semaphore whose waiters give up: each waits in turn (first come, first served) for
 * at most its own time, or until its signal fires, and is then told no. What bounds the logins
 * in flight without letting the ones that cannot start queue for ever.
 */

interface Waiter {
  readonly grant: (ok: boolean) => void;
}

export class DeadlineSemaphore {
  private active = 0;
  /** In arrival order (a Set keeps insertion order, and a waiter that gives up leaves in O(1)). */
  private readonly waiters = new Set<Waiter>();

  constructor(private max: number) {}

  get inUse(): number {
    return this.active;
  }

  get waiting(): number {
    return this.waiters.size;
  }

  /** A config reload may change the bound: a larger one lets waiters in at once. */
  setLimit(max: number): void {
    this.max = max;
    this.handOver();
  }

  /**
   * True with a slot held (give it back with release()); false when none came free within
   * `waitMs` (Infinity: wait as long as it takes).
   */
  acquire(waitMs: number, signal?: AbortSignal): Promise<boolean> {
    if (this.active < this.max && this.waiters.size === 0) {
      this.active++;
      return Promise.resolve(true);
    }
    if (waitMs <= 0 || signal?.aborted === true) return Promise.resolve(false);
    return new Promise((resolve) => {
      const giveUp = (): void => {
        if (this.waiters.delete(waiter)) resolve(false);
        cleanup();
      };
      const cleanup = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', giveUp);
      };
      const waiter: Waiter = {
        grant: (ok) => {
          cleanup();
          resolve(ok);
        },
      };
      const timer = Number.isFinite(waitMs) ? setTimeout(giveUp, waitMs) : undefined;
      signal?.addEventListener('abort', giveUp, { once: true });
      this.waiters.add(waiter);
    });
  }

  release(): void {
    this.active--;
    this.handOver();
  }

  private handOver(): void {
    for (const waiter of this.waiters) {
      if (this.active >= this.max) return;
      this.waiters.delete(waiter);
      this.active++;
      waiter.grant(true);
    }
  }
}
