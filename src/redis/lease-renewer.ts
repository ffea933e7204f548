/**
 * Keeps this process's shared leases (maildrop locks, tenant session slots) alive in Redis: one
 * timer and one pipeline per round for all of them, rather than a timer and a round trip per
 * session. A round that fails (Redis down) renews nothing: each lease then lives out its TTL,
 * and QUIT's confirmation decides whether the session may still delete.
 */
import type { ChainableCommander } from 'ioredis';
import type { RedisConnection } from './connection.js';
import { REDIS_PIPELINE_KEYS } from './limits.js';

export interface Renewable {
  /** Adds this lease's renewal command to the round's pipeline (one command). */
  renew(pipeline: ChainableCommander): void;
  /** The reply to that command. */
  renewed(reply: unknown): void;
}

export class LeaseRenewer {
  private readonly leases = new Set<Renewable>();
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    private readonly redis: RedisConnection,
    private readonly intervalMs: number,
  ) {}

  add(lease: Renewable): void {
    this.leases.add(lease);
    if (this.timer === undefined) {
      this.timer = setInterval(() => void this.round(), this.intervalMs);
      this.timer.unref();
    }
  }

  delete(lease: Renewable): void {
    this.leases.delete(lease);
    if (this.leases.size === 0) this.stop();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private async round(): Promise<void> {
    // A round still waiting on a slow Redis is not joined by another.
    if (this.running) return;
    this.running = true;
    try {
      const all = [...this.leases];
      for (let from = 0; from < all.length; from += REDIS_PIPELINE_KEYS) {
        const batch = all.slice(from, from + REDIS_PIPELINE_KEYS);
        const replies = await this.redis.exec((p) => batch.forEach((lease) => lease.renew(p)));
        if (replies === undefined) return;
        batch.forEach((lease, i) => lease.renewed(replies[i]));
      }
    } finally {
      this.running = false;
    }
  }
}
