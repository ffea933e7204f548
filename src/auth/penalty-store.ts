/**
 * Where failed-login counts live, behind a small interface so a shared store (Redis) can take
 * the in-memory one's place. A count decays exponentially with time (halved every `halfLifeMs`),
 * so a key that stops failing is forgiven gradually and then forgotten.
 */
import { LRUCache } from 'lru-cache';
import { PENALTY_ENTRIES, PENALTY_MAX_FAILURES } from '../limits.js';

/** Failures as of `at` (ms since the epoch). */
export interface PenaltyRecord {
  readonly failures: number;
  readonly at: number;
}

export interface PenaltyStore {
  /** The decayed failure count of each key at `now` (0 when unknown), in the keys' order. */
  failures(keys: readonly string[], now: number, halfLifeMs: number): Promise<number[]>;
  /** Adds one failure to each key at `now`. */
  addFailure(keys: readonly string[], now: number, halfLifeMs: number): Promise<void>;
  /** Forgets a key (a proven login from that address). */
  forget(key: string): Promise<void>;
  /** Records held, where the store can tell (for metrics). */
  readonly size: number | undefined;
}

/** A record's failure count at `now`: halved every `halfLifeMs` since it was written. */
export function decayedFailures(record: PenaltyRecord | undefined, now: number, halfLifeMs: number): number {
  if (record === undefined) return 0;
  const elapsed = Math.max(0, now - record.at);
  return record.failures * 2 ** (-elapsed / halfLifeMs);
}

/** How long until `failures` decays below one half (it then rounds to no penalty): the record is worthless after that. */
export function lifetimeMs(failures: number, halfLifeMs: number): number {
  return Math.max(1, Math.ceil(halfLifeMs * Math.log2(2 * failures)) + 1);
}

export class InMemoryPenaltyStore implements PenaltyStore {
  // Each record lives until its count has decayed below one (set per record).
  private readonly records = new LRUCache<string, PenaltyRecord>({ max: PENALTY_ENTRIES });

  async failures(keys: readonly string[], now: number, halfLifeMs: number): Promise<number[]> {
    return keys.map((key) => decayedFailures(this.records.get(key), now, halfLifeMs));
  }

  async addFailure(keys: readonly string[], now: number, halfLifeMs: number): Promise<void> {
    for (const key of keys) {
      const failures = Math.min(PENALTY_MAX_FAILURES, decayedFailures(this.records.get(key), now, halfLifeMs) + 1);
      this.records.set(key, { failures, at: now }, { ttl: lifetimeMs(failures, halfLifeMs) });
    }
  }

  async forget(key: string): Promise<void> {
    this.records.delete(key);
  }

  get size(): number {
    return this.records.size;
  }
}
