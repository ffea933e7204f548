/** UIDLs for IMAP messages (see the tenant setting `uidlFormat`). */
import { uidlFromHandle } from '../shared/uidl.js';

export type ImapUidlFormat = 'auto' | 'uid' | 'dovecot';

/** Dovecot 2.3 expands %X in pop3_uidl_format to lower-case hex (checked against its POP3 server). */
const hex8 = (n: bigint | number): string => n.toString(16).padStart(8, '0');

/**
 * - `dovecot`: Dovecot's default pop3_uidl_format `%08Xu%08Xv` (UID then UIDVALIDITY, 8 hex digits
 *   each), so users moving from Dovecot's POP3 server do not download everything again.
 * - `uid`: `<UIDVALIDITY>.<UID>` in decimal; stable while UIDVALIDITY holds.
 * - `auto`: the server's stable message id (EMAILID, RFC 8474, or Gmail's X-GM-MSGID), which
 *   survives a UIDVALIDITY reset; `uid` when the server has none.
 */
export function imapUidl(format: ImapUidlFormat, uidValidity: bigint, uid: number, emailId: string | undefined): string {
  switch (format) {
    case 'dovecot':
      return hex8(uid) + hex8(uidValidity);
    case 'uid':
      return `${uidValidity}.${uid}`;
    case 'auto':
      return emailId !== undefined && emailId !== '' ? uidlFromHandle(emailId) : `${uidValidity}.${uid}`;
  }
}
