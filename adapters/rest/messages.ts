/**
 * Reading one message: `GET /mailboxes/{mailbox}/messages/{id}`, streamed from the response
 * (never buffered unless the caller asks for a small piece, and never more than that piece),
 * with `If-Match` on the listed ETag (a message replaced since the listing is "gone", not
 * silently different) and an optional `Range` from an offset.
 */
import { Readable } from 'node:stream';
import { classifyRestError } from './errors.js';
import type { RestClient } from './http.js';
import type { SessionAuth } from './secret.js';

/** What a session needs to address one message of its mailbox. */
export interface MessageRef {
  readonly restId: string;
  readonly etag: string | undefined;
}

/** Drops the first `skip` octets of a stream (a store that ignored Range sent them anyway). */
function skipped(whole: Readable, skip: number): Readable {
  async function* rest(): AsyncGenerator<Buffer> {
    let left = skip;
    for await (const chunk of whole as AsyncIterable<Buffer>) {
      if (left >= chunk.length) {
        left -= chunk.length;
        continue;
      }
      yield left === 0 ? chunk : chunk.subarray(left);
      left = 0;
    }
  }
  return Readable.from(rest(), { objectMode: false });
}

export class MessageReader {
  constructor(
    private readonly client: RestClient,
    private readonly mailbox: string,
    private readonly auth: SessionAuth,
  ) {}

  /**
   * The message from octet `from` (0: all of it), as a stream; `end` (inclusive) asks for a
   * range that a store may ignore (the caller must then stop reading itself).
   * @throws StoreError NOT_FOUND when it is gone or was replaced
   */
  async open(msg: MessageRef, signal: AbortSignal | undefined, from = 0, end?: number): Promise<{ body: Readable; partial: boolean }> {
    const headers: Record<string, string> = { accept: 'message/rfc822' };
    if (msg.etag !== undefined) headers['if-match'] = msg.etag;
    if (from > 0 || end !== undefined) headers.range = `bytes=${from}-${end ?? ''}`;
    try {
      const res = await this.client.send({
        method: 'GET',
        path: this.path(msg),
        headers,
        auth: this.auth,
        ...(signal !== undefined && { signal }),
        ok: [200, 206, 416],
      });
      if (res.status === 416) {
        // Asked from exactly its end (a head that ended where the message does): nothing is left.
        res.body.destroy();
        return { body: Readable.from([]), partial: true };
      }
      if (res.status === 206 || from === 0) return { body: res.body, partial: res.status === 206 };
      return { body: skipped(res.body, from), partial: false };
    } catch (err) {
      throw classifyRestError(err, 'reading a message', 'message');
    }
  }

  /**
   * At most `max` octets from the start (the whole message when it is shorter). Without a
   * signal the request runs to its end or its timeouts (read-ahead: bounded, nothing waits on it).
   */
  async head(msg: MessageRef, signal: AbortSignal | undefined, max: number): Promise<{ bytes: Buffer; whole: boolean }> {
    const { body } = await this.open(msg, signal, 0, max - 1);
    try {
      return await readUpTo(body, max);
    } catch (err) {
      throw classifyRestError(err, 'reading a message', 'message');
    }
  }

  /**
   * The whole message when it has at most `max` octets (else `whole` is false), asked for without
   * a Range: a message expected whole (read-ahead, sized from the listing) costs the store a
   * plain 200, and one larger than listed is cut off here all the same.
   */
  async whole(msg: MessageRef, signal: AbortSignal | undefined, max: number): Promise<{ bytes: Buffer; whole: boolean }> {
    const { body } = await this.open(msg, signal);
    try {
      return await readUpTo(body, max);
    } catch (err) {
      throw classifyRestError(err, 'reading a message', 'message');
    }
  }

  private path(msg: MessageRef): string {
    return `/mailboxes/${this.mailbox}/messages/${encodeURIComponent(msg.restId)}`;
  }
}

/** The first `max` octets of `body` (whole: it ended first); leaving the loop destroys the response. */
async function readUpTo(body: Readable, max: number): Promise<{ bytes: Buffer; whole: boolean }> {
  const chunks: Buffer[] = [];
  let held = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    if (held + chunk.length >= max) {
      chunks.push(chunk.subarray(0, max - held));
      held = max;
      return { bytes: Buffer.concat(chunks, held), whole: false };
    }
    chunks.push(chunk);
    held += chunk.length;
  }
  return { bytes: Buffer.concat(chunks, held), whole: true };
}
