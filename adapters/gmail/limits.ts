/** Fixed caps of the Gmail adapter, with their unit and their reason. */

/** messages.list page size (the API's maximum). */
export const GMAIL_LIST_PAGE = 500;
/** Ids per batchModify / batchDelete request (the API's maximum). */
export const GMAIL_CHANGE_BATCH = 1000;
/** Quota units per method (Gmail's quota table). */
export const GMAIL_UNITS = { list: 5, get: 5, modify: 5, delete: 10, batchModify: 50, batchDelete: 50 } as const;
/** Octets of an error answer read for its reason; the rest is dropped. */
export const GMAIL_ERROR_BODY_MAX = 64 * 1024;
/** Cached exact sizes per tenant (one entry ~100 bytes: user, id and a number). */
export const GMAIL_SIZE_CACHE_ENTRIES = 500_000;
/** messages.get requests in flight for one session's read-ahead (within the per-user limit). */
export const GMAIL_READ_AHEAD_CONCURRENCY = 4;
/** Idle keep-alive connections are closed after this long (Google's front ends close at ~4 min). */
export const GMAIL_KEEP_ALIVE_MS = 60_000;
