/**
 * When to start a worker again after it died: at once-ish the first time, then doubling while
 * it keeps dying young (a crash at start-up, a config file edited into an error), so a broken
 * worker costs a start every RESTART_MAX_MS rather than a busy loop. A worker that ran for
 * RESTART_STABLE_MS counts as healthy again.
 */
export const RESTART_BASE_MS = 250;
export const RESTART_MAX_MS = 30_000;
export const RESTART_STABLE_MS = 60_000;

export class RestartBackoff {
  private failures = 0;

  /** The delay before the next start of a worker that started at `startedAt` and died at `now`. */
  next(startedAt: number, now = Date.now()): number {
    if (now - startedAt >= RESTART_STABLE_MS) this.failures = 0;
    this.failures++;
    return Math.min(RESTART_BASE_MS * 2 ** (this.failures - 1), RESTART_MAX_MS);
  }
}
