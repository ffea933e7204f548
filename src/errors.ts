/**
 * Every error the gateway raises on purpose, and the one place where each becomes a POP3 reply.
 * Clients see the fixed text below, never a backend's message (it may hold user data or hints).
 */

import type { StoreError } from '../adapters/contract.js';

export { StoreError, isStoreError, type StoreErrorCode } from '../adapters/contract.js';
/** Start-up configuration problems: printed as `config error: <path>: <problem>`, exit code 2. */
export { ConfigError } from '../adapters/contract.js';

/** RFC 2449 / RFC 3206 extended response codes. */
export type ResponseCode = 'AUTH' | 'IN-USE' | 'LOGIN-DELAY' | 'SYS/TEMP' | 'SYS/PERM';

/** An -ERR answer with an optional response code; thrown by command handlers. */
export class Pop3Error extends Error {
  override readonly name = 'Pop3Error';
  /** Counts toward the bad-command limit that ends the connection. */
  readonly isBadCommand: boolean;

  constructor(
    readonly text: string,
    readonly code?: ResponseCode,
    options: { readonly badCommand?: boolean } = {},
  ) {
    super(text);
    this.isBadCommand = options.badCommand ?? false;
  }

  /** A syntax error, an unknown command or a failed login: counts toward `maxBadCommands`. */
  static badCommand(text: string, code?: ResponseCode): Pop3Error {
    return new Pop3Error(text, code, { badCommand: true });
  }
}

/** The fixed -ERR replies, so wording stays consistent and nothing leaks. */
export const ErrorReplies = {
  /** Counts toward the bad-command limit, so password guessing ends the connection. */
  authFailed: Pop3Error.badCommand('Authentication failed.', 'AUTH'),
  plaintextDisallowed: new Pop3Error('Plaintext authentication disallowed on non-secure (SSL/TLS) connections.', 'AUTH'),
  inUse: new Pop3Error('Mailbox is locked by another POP3 session.', 'IN-USE'),
  loginDelay: new Pop3Error('Logged in too recently; try again later.', 'LOGIN-DELAY'),
  temporary: new Pop3Error('Temporary backend failure, try again later.', 'SYS/TEMP'),
  /** Too many password checks at once (a flood of logins): shed fast instead of queueing. */
  loginsBusy: Pop3Error.badCommand('Too many logins at once; try again later.', 'SYS/TEMP'),
  tenantBusy: new Pop3Error('Too many sessions for this domain; try again later.', 'SYS/TEMP'),
  /** The shared lock store (Redis) cannot be reached: no session may open without its lock. */
  sharedStateUnavailable: new Pop3Error('Cannot lock the mailbox now; try again later.', 'SYS/TEMP'),
  permanent: new Pop3Error('Mailbox unavailable.', 'SYS/PERM'),
  noSuchMessage: new Pop3Error('There is no such message.'),
  messageDeleted: new Pop3Error('Message is deleted.'),
  messageGone: new Pop3Error('Message was removed by another client.'),
  /** One message the backend refuses to give (an archived or unreadable object); the rest are fine. */
  messageUnreadable: new Pop3Error('Message cannot be read.', 'SYS/PERM'),
} as const;

/** Maps a backend failure to the client's reply. */
export function replyForStoreError(err: StoreError): Pop3Error {
  switch (err.code) {
    case 'AUTH_FAILED':
      return ErrorReplies.authFailed;
    case 'IN_USE':
      return ErrorReplies.inUse;
    case 'TEMPORARY':
      return ErrorReplies.temporary;
    case 'PERMANENT':
      return ErrorReplies.permanent;
    case 'NOT_FOUND':
      return ErrorReplies.messageGone;
  }
}
