/** Fixed caps of the gateway's Redis connection, with their unit and their reason. */

/**
 * A command (or a pipeline's slowest) unanswered this long fails: a hung server costs a login
 * this much once, then the pause below, instead of holding every login.
 */
export const REDIS_COMMAND_TIMEOUT_MS = 2000;
/** TCP (and TLS) set-up to Redis. */
export const REDIS_CONNECT_TIMEOUT_MS = 5000;
/**
 * How long a caller waits for a connection that is being made and not yet known to fail (the
 * first one after start-up, or a reconnection after the server closed an idle client).
 */
export const REDIS_CONNECT_WAIT_MS = 1000;
/** After a failed command, Redis is not asked again for this long (unless it reconnects first). */
export const REDIS_PAUSE_AFTER_FAILURE_MS = 5000;
/** Reconnection attempts: 100 ms, 200 ms, 400 ms ... then every 2 s for as long as the outage lasts. */
export const REDIS_RECONNECT_BASE_MS = 100;
export const REDIS_RECONNECT_MAX_MS = 2000;
/** Keys per pipeline: a large mailbox's lookup goes in several round trips, each well inside the timeout. */
export const REDIS_PIPELINE_KEYS = 1000;
/**
 * Lifetime of a stored size, renewed whenever an instance reads it (GETEX). A size never goes
 * wrong, but POP3 clients delete what they download: without an expiry the sizes of deleted
 * messages would pile up in Redis for ever. A message still in a mailbox whose size nobody read
 * from Redis for this long (every instance had it in memory) is measured once more.
 */
export const REDIS_SIZE_TTL_SECONDS = 90 * 24 * 3600;
