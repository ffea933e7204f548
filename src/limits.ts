/**
 * Every fixed cap of the protocol core, with its unit and its reason. Caps an operator may
 * want to change live in the config schema instead (idle timeout, connection counts).
 */

/** Octets of a command line, CRLF included. RFC 2449 section 4: 255 octets. */
export const MAX_COMMAND_LINE = 255;

/**
 * Octets of one SASL continuation line or AUTH initial response. OAuth 2 bearer tokens from
 * large identity providers reach 4-8 KB before base64; 64 KiB leaves room for them and still
 * bounds what one client can make us buffer.
 */
export const MAX_AUTH_LINE = 65_536;

/**
 * Octets of received but not yet executed pipelined input before we stop reading the socket
 * (TCP back-pressure reaches the client). A burst of RETRs is a few hundred octets.
 */
export const MAX_PENDING_INPUT = 64 * 1024;

/**
 * Queued output before a streaming reply waits for the socket to drain. Dovecot pauses at
 * 4 KiB; a larger queue costs memory per session but fewer wake-ups for fast clients.
 */
export const OUTPUT_HIGH_WATER_MARK = 256 * 1024;

/**
 * Queued output before login after which no further pipelined command is read until the
 * client has taken it: a client that sends commands and never reads its replies costs at most
 * this (plus MAX_PENDING_INPUT) until the login deadline. A CAPA reply is ~200 octets.
 */
export const PRELOGIN_OUTPUT_CAP = 16 * 1024;

/**
 * Commands a connection may send before it logs in (a real client needs a handful: CAPA, STLS,
 * CAPA, AUTH or USER/PASS, a few retries within maxBadCommands). Output the kernel buffers is
 * out of our sight, so a client that pipelines CAPA and never reads could otherwise make us
 * compute megabytes of replies per connection.
 */
export const MAX_COMMANDS_BEFORE_LOGIN = 50;

/**
 * Pipelined commands one connection runs before it lets the event loop serve the others: a
 * burst of thousands must not delay every other client's reply by its whole length.
 */
export const COMMANDS_PER_TURN = 32;

/** Read size for message files: one read for typical mail, bounded memory for huge mail. */
export const MESSAGE_READ_CHUNK = 64 * 1024;

/** Sizes computed at login at most this many at a time (file descriptors, backend requests). */
export const SIZE_RESOLVE_CONCURRENCY = 16;

/** Cached computed sizes (entries). One entry is ~100 bytes; 200k covers many large mailboxes. */
export const SIZE_CACHE_ENTRIES = 200_000;

/** RFC 1939: a unique-id is 1 to 70 characters in the range 0x21 to 0x7E. */
export const MAX_UIDL_LENGTH = 70;

/**
 * Password hashes (scrypt, ~65 ms each on libuv's 4-thread pool) computed at once for logins;
 * the other two pool threads stay free for the file reads of logged-in sessions.
 */
export const HASH_CONCURRENCY = 2;
/** Logins that may wait for a hash slot (about a second's worth); more fail fast with [SYS/TEMP]. */
export const HASH_QUEUE = 32;

/** Successful password verifications remembered, so repeated logins skip scrypt (ms each). */
export const AUTH_CACHE_ENTRIES = 10_000;
export const AUTH_CACHE_TTL_MS = 5 * 60_000;

/**
 * Read-ahead while a client downloads in order (pipelined RETRs, or poplib's one at a time):
 * the next messages are read while the current one is sent, which hides the file-system (or
 * backend) latency that otherwise dominates small messages. Bounded per session in count,
 * per-message size and total bytes held.
 */
export const READ_AHEAD_MESSAGES = 32;
/** Up to ~1 MB messages are read ahead too (one at a time in the budget), hiding a backend round trip each. */
export const READ_AHEAD_MAX_MESSAGE = 1536 * 1024;
export const READ_AHEAD_BUDGET = 2 * 1024 * 1024;

/** The first partial fetch for TOP: most headers fit, so TOP n 0 costs one small round trip. */
export const IMAP_TOP_FIRST_CHUNK = 32 * 1024;
/** Further TOP fetches: small, since TOP usually needs only a few lines past the header. */
export const IMAP_TOP_NEXT_CHUNK = 256 * 1024;
/** How long QUIT waits for the IMAP LOGOUT answer before closing the socket anyway. */
export const IMAP_LOGOUT_TIMEOUT_MS = 2000;

/** Message entries kept across all cached IMAP mailbox snapshots (~150 bytes each). */
export const SNAPSHOT_CACHE_MESSAGES = 1_000_000;

/**
 * S3: the first bytes read of an object whose CRLF size is not known yet. An object this small
 * (most mail) is read whole in this one request and its size counted exactly. A larger one is
 * streamed once and counted (`sizes: exact`), or, with `sizes: probe`, taken to be CRLF
 * throughout when these first bytes have no bare LF (see README "S3").
 */
export const S3_SIZE_PROBE = 64 * 1024;
/**
 * S3: memory for cached CRLF sizes per tenant, estimated per entry as its key (object key and
 * ETag) plus the overhead below (measured: ~110 octets with lru-cache 11). About 290,000
 * objects with 100-character keys, 55,000 with 1,000-character keys; ~64 MiB held either way.
 */
export const S3_SIZE_CACHE_BYTES = 64 * 1024 * 1024;
export const S3_SIZE_CACHE_ENTRY_OVERHEAD = 128;
/** S3: the first ranged read for TOP; most headers fit, so `TOP n 0` costs one small request. */
export const S3_TOP_FIRST_RANGE = 32 * 1024;
/** S3: keys per DeleteObjects request (the API's maximum). */
export const S3_DELETE_BATCH = 1000;
/**
 * S3: a key that DeleteObjects reports as SlowDown or InternalError is sent again this many
 * times, after waits of 250-500 ms, then 500-1000 ms (half fixed, half random), before it is
 * reported as not deleted.
 */
export const S3_DELETE_KEY_RETRIES = 2;
export const S3_DELETE_KEY_RETRY_BASE_MS = 500;
/** S3: CopyObject requests in flight for `deleteMode: move:...`. */
export const S3_COPY_CONCURRENCY = 16;
/** S3: GetObject requests in flight for one session's read-ahead. */
export const S3_READ_AHEAD_CONCURRENCY = 8;
