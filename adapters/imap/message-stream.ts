/**
 * Message bodies over the session's IMAP channel: a whole message streamed from one
 * `UID FETCH n BODY.PEEK[]` with back-pressure (RETR), partial fetches for TOP, and whole small
 * messages for read-ahead. A reply line is only sent once the body has begun to arrive, so a
 * message expunged by another client is an error for that message alone.
 */
import { Readable } from 'node:stream';
import { StoreError } from '../contract.js';
import type { Completion, ImapChannel } from './wire/channel.js';
import { uidSet } from './wire/command-args.js';
import type { BodySink, FetchResponse } from './wire/fetch-response.js';

/** A FETCH that brought no body: the message is gone (OK, or NO [EXPUNGEISSUED]), or the server refused. */
function noBody(uid: number, done: Completion): StoreError {
  const gone = done.status === 'OK' || done.code === 'EXPUNGEISSUED';
  return new StoreError(gone ? 'NOT_FOUND' : 'TEMPORARY', `imap: UID ${uid}: no body (${done.status} ${done.text})`);
}

/** Gathers a body of a known size into one buffer (at most `limit` octets, else dropped). */
class CollectingSink implements BodySink {
  private readonly bytes: Buffer | undefined;
  private filled = 0;
  body: Buffer | undefined;

  constructor(size: number, limit: number) {
    this.bytes = size <= limit ? Buffer.allocUnsafe(size) : undefined;
  }

  data(chunk: Buffer): void {
    if (this.bytes === undefined) return;
    this.filled += chunk.copy(this.bytes, this.filled);
  }

  end(): void {
    if (this.bytes !== undefined && this.filled === this.bytes.length) this.body = this.bytes;
  }
}

/** RETR: the whole message as a stream that holds the IMAP connection while its reader is behind. */
class BodyStream extends Readable implements BodySink {
  private finished = false;

  constructor(private readonly channel: ImapChannel) {
    super({ highWaterMark: 256 * 1024 });
  }

  data(chunk: Buffer): void {
    if (this.destroyed) return;
    if (!this.push(chunk)) this.channel.hold();
  }

  end(): void {
    this.finished = true;
    if (!this.destroyed) this.push(null);
  }

  override _read(): void {
    this.channel.release();
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    // The rest of the literal still has to be read off the connection (and dropped).
    this.channel.release();
    callback(err);
  }

  /** The command ended or failed before the body was complete: the reader must see an error. */
  cut(err: StoreError): void {
    if (!this.finished) this.destroy(err);
  }
}

export function streamMessage(channel: ImapChannel, uid: number): Promise<Readable> {
  return new Promise((resolve, reject) => {
    let stream: BodyStream | undefined;
    channel
      .run(`UID FETCH ${uid} (UID BODY.PEEK[])`, {
        openBody: () => {
          if (stream !== undefined) return undefined;
          stream = new BodyStream(channel);
          resolve(stream);
          return stream;
        },
      })
      .then(
        (done) => {
          if (stream === undefined) reject(noBody(uid, done));
          else stream.cut(new StoreError('TEMPORARY', `imap: UID ${uid} ended early`));
        },
        (err: StoreError) => {
          if (stream === undefined) reject(err);
          else stream.cut(err);
        },
      );
  });
}

/** `length` octets of a message from `start` (fewer at its end); undefined if the message is gone. */
export async function readPart(channel: ImapChannel, uid: number, start: number, length: number): Promise<Buffer | undefined> {
  let sink: CollectingSink | undefined;
  const done = await channel.run(`UID FETCH ${uid} (UID BODY.PEEK[]<${start}.${length}>)`, {
    openBody: (_, size) => (sink === undefined ? (sink = new CollectingSink(size, length)) : undefined),
  });
  if (sink === undefined) {
    const err = noBody(uid, done);
    if (err.code !== 'NOT_FOUND') throw err;
    return undefined;
  }
  if (sink.body === undefined) throw new StoreError('TEMPORARY', `imap: UID ${uid}: the server sent more than the ${length} octets asked for`);
  return sink.body;
}

export interface TopPlan {
  /** Size of the first request (small: often only the header is needed). */
  readonly first: number;
  readonly rest: number;
}

/** TOP: the message in partial fetches, so that stopping after the header reads little more. */
export async function streamTop(channel: ImapChannel, uid: number, plan: TopPlan): Promise<Readable> {
  const head = await readPart(channel, uid, 0, plan.first);
  if (head === undefined) throw new StoreError('NOT_FOUND', `imap: UID ${uid} is gone`);
  const first: Buffer = head;
  async function* chunks(): AsyncGenerator<Buffer> {
    let offset = first.length;
    let last = first.length;
    let want = plan.first;
    yield first;
    while (last === want) {
      want = plan.rest;
      const chunk = await readPart(channel, uid, offset, want);
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

/**
 * Read-ahead: one `UID FETCH a,b,c (UID BODY.PEEK[])`. Each promise gives the body, or null when
 * it did not come whole (gone, over the limits, or the connection failed); the normal fetch
 * then reports why.
 */
export function fetchBodies(
  channel: ImapChannel,
  uids: readonly number[],
  limits: { readonly message: number; readonly total: number },
): ReadonlyMap<string, Promise<Buffer | null>> {
  let room = limits.total;
  const waiting = new Map<number, (body: Buffer | null) => void>();
  const promises = new Map<string, Promise<Buffer | null>>();
  for (const uid of uids) promises.set(String(uid), new Promise((resolve) => waiting.set(uid, resolve)));
  const sinks = new Map<FetchResponse, CollectingSink>();
  const settle = (uid: number | undefined, body: Buffer | null): void => {
    if (uid === undefined) return;
    waiting.get(uid)?.(body);
    waiting.delete(uid);
  };
  channel
    .run(`UID FETCH ${uidSet(uids)} (UID BODY.PEEK[])`, {
      openBody: (response, size) => {
        const sink = new CollectingSink(size, Math.min(limits.message, room));
        if (size <= limits.message && size <= room) room -= size;
        sinks.set(response, sink);
        return sink;
      },
      fetched: (response) => {
        const sink = sinks.get(response);
        sinks.delete(response);
        if (sink !== undefined) settle(response.uid, sink.body ?? null);
      },
    })
    .catch(() => undefined)
    .finally(() => {
      for (const resolve of waiting.values()) resolve(null);
    });
  return promises;
}
