/** Fixed caps of the S3 adapter, with their unit and their reason. */

/**
 * The first bytes read of an object whose CRLF size is not known yet. An object this small
 * (most mail) is read whole in this one request and its size counted exactly. A larger one is
 * streamed once and counted (`sizes: exact`), or, with `sizes: probe`, taken to be CRLF
 * throughout when these first bytes have no bare LF (see README "S3").
 */
export const S3_SIZE_PROBE = 64 * 1024;
/**
 * Memory for cached CRLF sizes per tenant, estimated per entry as its key (object key and ETag)
 * plus the overhead below, which is what lru-cache keeps per entry rounded up (measured: see
 * bench/README.md "Figures behind code choices"). About 290,000 objects with 100-character
 * keys, 55,000 with 1,000-character keys; ~64 MiB held either way.
 */
export const S3_SIZE_CACHE_BYTES = 64 * 1024 * 1024;
export const S3_SIZE_CACHE_ENTRY_OVERHEAD = 128;
/** The first ranged read for TOP; most headers fit, so `TOP n 0` costs one small request. */
export const S3_TOP_FIRST_RANGE = 32 * 1024;
/** Keys per DeleteObjects request (the API's maximum). */
export const S3_DELETE_BATCH = 1000;
/**
 * A key that DeleteObjects reports as SlowDown or InternalError is sent again this many times,
 * after waits of 250-500 ms, then 500-1000 ms (half fixed, half random), before it is reported
 * as not deleted.
 */
export const S3_DELETE_KEY_RETRIES = 2;
export const S3_DELETE_KEY_RETRY_BASE_MS = 500;
/** CopyObject requests in flight for `deleteMode: move:...`. */
export const S3_COPY_CONCURRENCY = 16;
/** GetObject requests in flight for one session's read-ahead. */
export const S3_READ_AHEAD_CONCURRENCY = 8;
