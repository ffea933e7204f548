/**
 * Bounds the password hashing that strangers can cause. scrypt runs on libuv's thread pool
 * (4 threads), which file reads of logged-in sessions share: a flood of wrong passwords must
 * neither take every thread nor queue without end. At most HASH_CONCURRENCY checks run at once
 * (the other pool threads stay free for I/O), HASH_QUEUE more may wait, and beyond that a
 * login fails at once with [SYS/TEMP] instead of piling up.
 */
import { HASH_CONCURRENCY, HASH_QUEUE } from '../limits.js';

export class HashBusy extends Error {
  override readonly name = 'HashBusy';
}

export class HashGate {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly concurrency: number,
    private readonly queue: number,
  ) {}

  /** Runs `work` when a slot is free; throws HashBusy at once when too many already wait. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) {
      if (this.waiting.length >= this.queue) throw new HashBusy('too many password checks waiting');
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await work();
    } finally {
      // The slot passes straight to the next waiter, so `running` stays counted for it.
      const next = this.waiting.shift();
      if (next !== undefined) next();
      else this.running--;
    }
  }
}

export const loginHashGate = new HashGate(HASH_CONCURRENCY, HASH_QUEUE);
