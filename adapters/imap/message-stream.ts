/**
 * A message as a stream of partial fetches (`UID FETCH n BODY.PEEK[]<offset.length>`), so a
 * 25 MB message is never held whole: at most one chunk is in memory. The first chunk is read
 * before the stream is returned, so a message expunged by another client is an error for that
 * message only, before any reply line is sent. Reading stops when the consumer stops (TOP).
 */
import { Readable } from 'node:stream';
import type { ImapFlow } from 'imapflow';
import { StoreError } from '../../src/errors.js';
import { withTimeout } from './connect.js';

export interface ChunkPlan {
  /** Size of the first request (small for TOP, where only the header may be needed). */
  readonly first: number;
  readonly rest: number;
}

async function readChunk(client: ImapFlow, uid: number, start: number, length: number, timeoutMs: number): Promise<Buffer | undefined> {
  const msg = await withTimeout(client, timeoutMs, 'fetching a message', () =>
    client.fetchOne(String(uid), { uid: true, source: { start, maxLength: length } }, { uid: true }),
  );
  // imapflow answers "nothing" both for a UID that is gone and for a connection that is gone.
  if (!client.usable) throw new StoreError('TEMPORARY', 'imap: the connection was lost');
  return msg === false || msg === undefined ? undefined : msg.source ?? Buffer.alloc(0);
}

export async function openMessageStream(client: ImapFlow, uid: number, plan: ChunkPlan, timeoutMs: number): Promise<Readable> {
  const head = await readChunk(client, uid, 0, plan.first, timeoutMs);
  if (head === undefined) throw new StoreError('NOT_FOUND', `imap: UID ${uid} is gone`);
  const first: Buffer = head;
  async function* chunks(): AsyncGenerator<Buffer> {
    let offset = first.length;
    let last = first.length;
    let want = plan.first;
    yield first;
    while (last === want) {
      want = plan.rest;
      const chunk = await readChunk(client, uid, offset, want, timeoutMs);
      // Expunged mid-message: the consumer must see a failure, not a short message.
      if (chunk === undefined) throw new StoreError('TEMPORARY', `imap: UID ${uid} vanished while streaming`);
      if (chunk.length === 0) return;
      offset += chunk.length;
      last = chunk.length;
      yield chunk;
    }
  }
  return Readable.from(chunks(), { objectMode: false });
}
