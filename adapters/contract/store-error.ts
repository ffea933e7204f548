/**
 * How a backend says why it failed. The code, not the message, decides the client's reply (the
 * core maps it in src/errors.ts): the message is for the log and may hold backend detail.
 */

export type StoreErrorCode =
  /** The backend refused the credentials. */
  | 'AUTH_FAILED'
  /** The mailbox is held by another session. */
  | 'IN_USE'
  /** Retry later: backend unreachable, timed out, throttled. */
  | 'TEMPORARY'
  /** Will not get better by retrying: misconfiguration, permission denied, bad mailbox. */
  | 'PERMANENT'
  /** One message vanished since the snapshot (deleted by another client). */
  | 'NOT_FOUND';

export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isStoreError(err: unknown): err is StoreError {
  return err instanceof StoreError;
}
