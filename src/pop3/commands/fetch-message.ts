/** Opens a message stream, turning backend errors into replies for this message only. */
import type { Readable } from 'node:stream';
import { ErrorReplies, StoreError, replyForStoreError } from '../../errors.js';
import type { Transaction } from '../transaction.js';

export async function fetchMessage(
  tx: Transaction,
  id: string,
  signal: AbortSignal,
  open: (signal: AbortSignal) => Promise<Readable> = (s) => tx.drop.fetch(id, s),
): Promise<Readable> {
  try {
    return await open(signal);
  } catch (err) {
    // PERMANENT here is about this message, not the mailbox (which is open and listed).
    if (err instanceof StoreError) throw err.code === 'PERMANENT' ? ErrorReplies.messageUnreadable : replyForStoreError(err);
    throw err;
  }
}
