/**
 * When to try an HTTP request again, and after how long: capped exponential back-off with full
 * jitter (many sessions throttled at once must not retry in step), or the server's Retry-After
 * when it gives one. A wait longer than the cap is not worth holding a POP3 client for: the
 * request fails as temporary instead.
 */

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  readonly attempts: number;
  /** The first back-off's upper bound; doubled per attempt. */
  readonly baseMs: number;
  /** No single wait is longer than this. */
  readonly capMs: number;
}

export const DEFAULT_RETRY_BASE_MS = 250;
export const DEFAULT_RETRY_CAP_MS = 8_000;

/** Retry-After as milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v.trim() === '') return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * How long to wait before attempt `attempt + 1` (attempt counts from 1), or undefined when no
 * attempt is left or the server asks for more than the cap.
 */
export function retryDelayMs(policy: RetryPolicy, attempt: number, retryAfterMs?: number, random: () => number = Math.random): number | undefined {
  if (attempt >= policy.attempts) return undefined;
  if (retryAfterMs !== undefined) return retryAfterMs > policy.capMs ? undefined : retryAfterMs;
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** Waits `ms`, or rejects with the signal's reason when it aborts first. */
export function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
