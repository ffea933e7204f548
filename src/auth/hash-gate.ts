/**
 * Bounds the password hashing that strangers can cause. scrypt runs on libuv's thread pool
 * (4 threads), which file reads of logged-in sessions share: a flood of wrong passwords must
 * neither take every thread nor queue without end. At most HASH_CONCURRENCY checks run at once
 * (the other pool threads stay free for I/O), HASH_QUEUE more may wait, each no longer than its
 * login's deadline (see withHashDeadline), and beyond that a login fails at once with
 * [SYS/TEMP] instead of piling up.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { HASH_CONCURRENCY, HASH_QUEUE } from '../limits.js';
import { DeadlineSemaphore } from '../locks/deadline-semaphore.js';

export class HashBusy extends Error {
  override readonly name = 'HashBusy';
}

/**
 * The time (ms since the epoch) by which the password checks of the login running in this async
 * context must have started. Carried by the async context rather than passed down: the check
 * sits several calls below the login (backend login, users-file or device-password verifier,
 * hash), and every one of them would otherwise take a deadline it only hands on.
 */
const deadlines = new AsyncLocalStorage<number>();

/** Runs `work`; any password check it makes that cannot start by `deadline` throws HashBusy. */
export function withHashDeadline<T>(deadline: number, work: () => Promise<T>): Promise<T> {
  return deadlines.run(deadline, work);
}

export class HashGate {
  private readonly slots: DeadlineSemaphore;

  constructor(
    concurrency: number,
    private readonly queue: number,
  ) {
    this.slots = new DeadlineSemaphore(concurrency);
  }

  /** Runs `work` when a slot is free; throws HashBusy when too many already wait, or when none frees in time. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.slots.waiting >= this.queue) throw new HashBusy('too many password checks waiting');
    const deadline = deadlines.getStore();
    const waitMs = deadline === undefined ? Number.POSITIVE_INFINITY : deadline - Date.now();
    if (!(await this.slots.acquire(waitMs))) throw new HashBusy('no password check could start in time');
    try {
      return await work();
    } finally {
      this.slots.release();
    }
  }
}

export const loginHashGate = new HashGate(HASH_CONCURRENCY, HASH_QUEUE);
