/** How long to wait before sending a request again. */
import { REST_RETRY_AFTER_MAX_MS, REST_RETRY_BASE_MS, REST_RETRY_CAP_MS } from './limits.js';

/**
 * Retry-After as delay-seconds or an HTTP-date (RFC 9110 10.2.3), in ms; undefined when absent
 * or unreadable (the back-off applies then).
 */
export function retryAfterMs(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined) return undefined;
  const t = v.trim();
  if (/^\d+$/.test(t)) return Number(t) * 1000;
  const date = Date.parse(t);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Half fixed, half random, doubling per attempt up to a cap: retries of many sessions spread out. */
export function backOffMs(attempt: number): number {
  const d = Math.min(REST_RETRY_CAP_MS, REST_RETRY_BASE_MS * 2 ** attempt);
  return d / 2 + Math.random() * (d / 2);
}

/** The wait before the next attempt, or undefined when the store asks for longer than is worth holding a client. */
export function nextWaitMs(attempt: number, retryAfter: string | string[] | undefined): number | undefined {
  const asked = retryAfterMs(retryAfter);
  if (asked === undefined) return backOffMs(attempt);
  return asked > REST_RETRY_AFTER_MAX_MS ? undefined : asked;
}
