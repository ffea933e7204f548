/**
 * Exact CRLF sizes of messages the store listed without one: each is streamed once (never held)
 * and counted, a few at a time, and cached by id + ETag for later sessions.
 */
import { setMaxListeners } from 'node:events';
import { StoreError } from '../contract.js';
import { CrlfSizeCounter } from '../shared/crlf-size.js';
import { SIZE_RESOLVE_CONCURRENCY } from '../shared/limits.js';
import { mapLimit } from '../shared/map-limit.js';
import { classifyRestError } from './errors.js';
import type { MessageReader, MessageRef } from './messages.js';
import type { MailboxSizes } from './size-cache.js';

/** A size, or why the message could not be measured (gone since the listing). */
export type Measured = { readonly size: number } | { readonly size: number; readonly gone: StoreError };

export async function measureSizes(reader: MessageReader, cache: MailboxSizes, msgs: readonly MessageRef[], signal: AbortSignal): Promise<Measured[]> {
  // Every request in flight listens on the signal: one of our own, allowed that many listeners,
  // which also stops the others when one fails the batch.
  const batch = new AbortController();
  setMaxListeners(SIZE_RESOLVE_CONCURRENCY * 2, batch.signal);
  const abort = (): void => batch.abort(signal.reason);
  signal.addEventListener('abort', abort, { once: true });
  try {
    return await mapLimit(msgs, SIZE_RESOLVE_CONCURRENCY, async (msg): Promise<Measured> => {
      const cached = cache.get(msg);
      if (cached !== undefined) return { size: cached };
      try {
        const size = await count(reader, msg, batch.signal);
        cache.set(msg, size);
        return { size };
      } catch (err) {
        // Removed since the listing: it stays in the snapshot (RETR will say it is gone), and
        // LIST and STAT still answer for the others.
        if (err instanceof StoreError && err.code === 'NOT_FOUND') return { size: 0, gone: err };
        throw err;
      }
    });
  } catch (err) {
    batch.abort(err);
    throw err;
  } finally {
    signal.removeEventListener('abort', abort);
  }
}

async function count(reader: MessageReader, msg: MessageRef, signal: AbortSignal): Promise<number> {
  const { body } = await reader.open(msg, signal);
  const counter = new CrlfSizeCounter();
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) counter.push(chunk);
  } catch (err) {
    throw classifyRestError(err, 'counting a message', 'message');
  }
  return counter.octets;
}
