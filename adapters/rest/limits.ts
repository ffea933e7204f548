/** Fixed caps of the REST adapter, with their unit and their reason. */

/** The first ranged read for TOP; most headers fit, so `TOP n 0` costs one small request. */
export const REST_TOP_FIRST_RANGE = 32 * 1024;
/** Ids per `:delete` or `:move` request (the maximum the contract lets a store insist on). */
export const REST_COMMIT_BATCH = 1000;
/** Retry waits without a Retry-After: random in [d/2, d], d = base x 2^attempt, capped. */
export const REST_RETRY_BASE_MS = 200;
export const REST_RETRY_CAP_MS = 5000;
/**
 * The longest Retry-After honoured: a store asking for more is answered with [SYS/TEMP] at once
 * rather than holding a POP3 client that will itself time out.
 */
export const REST_RETRY_AFTER_MAX_MS = 30_000;
/** Requests in flight for one session's read-ahead. */
export const REST_READ_AHEAD_CONCURRENCY = 8;
/**
 * Memory for cached CRLF sizes per tenant (mailboxes, ids and ETags), as in the S3 adapter: the
 * estimate per entry is its key plus this overhead.
 */
export const REST_SIZE_CACHE_BYTES = 32 * 1024 * 1024;
export const REST_SIZE_CACHE_ENTRY_OVERHEAD = 128;
/** An error body is read (for the log) up to this many octets. */
export const REST_ERROR_BODY_MAX = 4096;
/** Keep-alive of idle connections to the store. */
export const REST_KEEP_ALIVE_MS = 30_000;
