/**
 * Fixed caps that several adapters share, with their unit and their reason. Caps of one backend
 * live in its own folder (imap/limits.ts, s3/limits.ts); the protocol core's in src/limits.ts.
 */

/** Read size for message files: one read for typical mail, bounded memory for huge mail. */
export const MESSAGE_READ_CHUNK = 64 * 1024;

/** Sizes computed at login at most this many at a time (file descriptors, backend requests). */
export const SIZE_RESOLVE_CONCURRENCY = 16;

/** Cached computed sizes (entries). One entry is ~100 bytes; 200k covers many large mailboxes. */
export const SIZE_CACHE_ENTRIES = 200_000;

/** RFC 1939: a unique-id is 1 to 70 characters in the range 0x21 to 0x7E. */
export const MAX_UIDL_LENGTH = 70;

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

/** Message entries kept across all cached mailbox snapshots and listings (~150 bytes each). */
export const SNAPSHOT_CACHE_MESSAGES = 1_000_000;
