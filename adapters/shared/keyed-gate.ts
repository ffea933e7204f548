/**
 * At most `limit` holders per key (one backend user's requests in flight), waiting in order.
 * Keys with no holder and no waiter are forgotten, so the map holds only active users.
 */

interface Slot {
  held: number;
  readonly waiting: (() => void)[];
}

export class KeyedGate {
  private readonly slots = new Map<string, Slot>();

  constructor(private readonly limit: number) {}

  /** Resolves with a release function once the key has a free place; rejects when `signal` aborts first. */
  async acquire(key: string, signal: AbortSignal): Promise<() => void> {
    let slot = this.slots.get(key);
    if (slot === undefined) this.slots.set(key, (slot = { held: 0, waiting: [] }));
    if (slot.held >= this.limit) {
      const s = slot;
      await new Promise<void>((resolve, reject) => {
        const go = (): void => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        };
        const onAbort = (): void => {
          const i = s.waiting.indexOf(go);
          if (i >= 0) s.waiting.splice(i, 1);
          this.forgetIfIdle(key, s);
          reject(signal.reason as Error);
        };
        if (signal.aborted) return onAbort();
        s.waiting.push(go);
        signal.addEventListener('abort', onAbort, { once: true });
      });
    }
    slot.held++;
    let released = false;
    const s = slot;
    return () => {
      if (released) return;
      released = true;
      s.held--;
      s.waiting.shift()?.();
      this.forgetIfIdle(key, s);
    };
  }

  /** Holders of a key now (for tests and logs). */
  held(key: string): number {
    return this.slots.get(key)?.held ?? 0;
  }

  private forgetIfIdle(key: string, slot: Slot): void {
    if (slot.held === 0 && slot.waiting.length === 0 && this.slots.get(key) === slot) this.slots.delete(key);
  }
}
