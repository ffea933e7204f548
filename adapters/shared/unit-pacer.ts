/**
 * A per-key token bucket for quota units (Gmail: 250 units per user per second, a moving
 * average that allows short bursts). Spending ahead of the quota only earns 429s and back-off;
 * pacing on our side keeps a cold mailbox's size scan at the quota's pace instead.
 */
import { sleepUnlessAborted } from './retry-policy.js';

interface Bucket {
  units: number;
  at: number;
}

/** Buckets of keys idle this long are full again and can be forgotten. */
const FORGET_AFTER_MS = 60_000;

export class UnitPacer {
  private readonly buckets = new Map<string, Bucket>();
  private sweptAt = Date.now();

  constructor(
    private readonly perSecond: number,
    /** Units that may be spent at once after a quiet spell. */
    private readonly burst: number = perSecond,
  ) {}

  /** Waits until `units` may be spent for `key`, then spends them. */
  async take(key: string, units: number, signal: AbortSignal): Promise<void> {
    const now = Date.now();
    this.sweep(now);
    let b = this.buckets.get(key);
    if (b === undefined) this.buckets.set(key, (b = { units: this.burst, at: now }));
    b.units = Math.min(this.burst, b.units + ((now - b.at) * this.perSecond) / 1000);
    b.at = now;
    // Spend now (possibly going negative): callers queue behind each other by the debt they leave.
    b.units -= units;
    if (b.units < 0) await sleepUnlessAborted(Math.ceil((-b.units * 1000) / this.perSecond), signal);
  }

  private sweep(now: number): void {
    if (now - this.sweptAt < FORGET_AFTER_MS) return;
    this.sweptAt = now;
    for (const [k, b] of this.buckets) if (now - b.at > FORGET_AFTER_MS) this.buckets.delete(k);
  }
}
