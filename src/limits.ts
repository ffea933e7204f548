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

/** The core sends a message held in memory in pieces of the size adapters read files in. */
export { MESSAGE_READ_CHUNK } from '../adapters/shared/limits.js';

/** Successful password verifications remembered, so repeated logins skip scrypt (ms each). */
export const AUTH_CACHE_ENTRIES = 10_000;
export const AUTH_CACHE_TTL_MS = 5 * 60_000;
