/**
 * Every fixed cap of the protocol core, with its unit and its reason. Caps an operator may
 * want to change live in the config schema instead (idle timeout, connection counts). Caps of
 * the backends live with the adapters (adapters/shared/limits.ts and each adapter's folder).
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

/** The core sends a message held in memory in pieces of the size adapters read files in. */
export { MESSAGE_READ_CHUNK } from '../adapters/shared/limits.js';

/**
 * Password hashes (scrypt, tens of ms each, on libuv's 4-thread pool) computed at once for logins;
 * the other two pool threads stay free for the file reads of logged-in sessions.
 */
export const HASH_CONCURRENCY = 2;
/**
 * Logins that may wait for a hash slot; more fail fast with [SYS/TEMP]. Each waits at most
 * until its login's deadline (limits.loginQueueWaitMs), which is the bound that matters; this
 * one only caps the memory of the queue.
 */
export const HASH_QUEUE = 256;

/** Successful password verifications remembered, so repeated logins skip scrypt. */
export const AUTH_CACHE_ENTRIES = 10_000;
export const AUTH_CACHE_TTL_MS = 5 * 60_000;

/**
 * PROXY protocol v1: the longest header the spec allows ("PROXY TCP6 " + two full IPv6
 * addresses + two ports + CRLF), so a longer line is malformed, not slow.
 */
export const PROXY_V1_MAX_HEADER = 107;
/**
 * PROXY protocol v2: octets of addresses and TLVs after the 16-octet fixed part. The format
 * allows 65,535; real senders use a few hundred (HAProxy's SSL and unique-id TLVs, cloud load
 * balancers' endpoint ids), so a larger length is refused before anything of it is buffered.
 */
export const PROXY_V2_MAX_PAYLOAD = 2048;

/**
 * Login penalty records (client addresses and login names) kept in memory; the least recently
 * used go first. ~150 octets each: 100,000 cost ~15 MB at most.
 */
export const PENALTY_ENTRIES = 100_000;
/** Failures counted per key at most: the delay is capped long before, and decay time stays bounded. */
export const PENALTY_MAX_FAILURES = 32;
/** IPv6 clients are penalised per /64: one subscriber usually has a whole /64 to pick addresses from. */
export const PENALTY_IPV6_PREFIX_GROUPS = 4;
