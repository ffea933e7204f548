/** RFC 1939 unique-ids from backend handles. */
import { createHash } from 'node:crypto';
import { MAX_UIDL_LENGTH } from './limits.js';

const PRINTABLE = /^[\x21-\x7e]+$/;

/**
 * The handle itself when it is a valid unique-id (1-70 octets in 0x21-0x7E), otherwise a
 * stable hash of it. The hash is 44 characters ("~" + base64url SHA-256): "~" never starts a
 * Maildir name, an IMAP-derived id or a hex id, so hashed ids cannot collide with plain ones.
 */
export function uidlFromHandle(handle: string): string {
  if (handle.length <= MAX_UIDL_LENGTH && PRINTABLE.test(handle) && !handle.startsWith('~')) return handle;
  return '~' + createHash('sha256').update(handle, 'utf8').digest('base64url');
}
