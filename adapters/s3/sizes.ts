/**
 * POP3 sizes (CRLF octets) of objects, computed once per object version and cached.
 *
 * - An object of at most S3_SIZE_PROBE octets is read whole in one request: its size is counted.
 * - `sizes: exact` (the default): a larger one is streamed once (never held) and counted, so a
 *   size announced by LIST or STAT is always what RETR sends.
 * - `sizes: probe`: a larger one is read by a ranged GET of its first S3_SIZE_PROBE octets. If
 *   they hold a bare LF the rest is streamed and counted. If they hold none, ContentLength is
 *   announced as a guess: wrong for an object with bare LFs only further on. RETR (or a TOP that
 *   sent the whole message) counts what it sent and replaces the guess for later sessions.
 *
 * An object that cannot be read (gone, or refused alone: Glacier, KMS) is announced with its
 * stored size, not cached: RETR and TOP of it fail, the other messages are unaffected.
 */
import { setMaxListeners } from 'node:events';
import { StoreError } from '../contract.js';
import { CrlfSizeCounter } from '../shared/crlf-size.js';
import { SIZE_RESOLVE_CONCURRENCY } from '../shared/limits.js';
import { mapLimit } from '../shared/map-limit.js';
import { UnreadableObjectError, classifyS3Error } from './errors.js';
import { S3_SIZE_PROBE } from './limits.js';
import type { ObjectReader, S3Object } from './objects.js';
import type { CachedSize, SizeCache } from './size-cache.js';

export type SizeMode = 'exact' | 'probe';

export interface Measured extends CachedSize {
  /** Set when the object could not be read: `size` is then its stored size. */
  readonly unreadable?: StoreError;
}

export class CrlfSizes {
  constructor(
    private readonly cache: SizeCache,
    private readonly reader: ObjectReader,
    private readonly mode: SizeMode,
  ) {}

  /** Sizes known exactly (for the login listing), in the objects' order; guesses are not. */
  exact(objects: readonly S3Object[]): Promise<(number | undefined)[]> {
    return this.cache.exact(objects);
  }

  flush(): Promise<void> {
    return this.cache.flush();
  }

  cached(obj: S3Object): CachedSize | undefined {
    return this.cache.get(obj);
  }

  /** Records a size counted from the whole object (RETR, a whole TOP): it replaces a guess. */
  remember(obj: S3Object, size: number): void {
    this.cache.set(obj, size, true);
  }

  /** Sizes of these objects, in their order: cached ones first, the others measured a few at a time. */
  async resolve(objects: readonly S3Object[], signal: AbortSignal): Promise<Measured[]> {
    const out = new Array<Measured>(objects.length);
    const todo: number[] = [];
    objects.forEach((o, i) => {
      const c = this.cache.get(o);
      if (c !== undefined) out[i] = c;
      else todo.push(i);
    });
    // Every request in flight listens on the signal: one of our own, allowed that many listeners.
    const batch = new AbortController();
    setMaxListeners(SIZE_RESOLVE_CONCURRENCY * 2, batch.signal);
    const abort = (): void => batch.abort(signal.reason);
    signal.addEventListener('abort', abort, { once: true });
    try {
      await mapLimit(todo, SIZE_RESOLVE_CONCURRENCY, async (i) => {
        batch.signal.throwIfAborted();
        const obj = objects[i] as S3Object;
        try {
          const m = await this.measure(obj, batch.signal);
          this.cache.set(obj, m.size, m.exact);
          out[i] = m;
        } catch (err) {
          // Removed since the listing, or refused for this object alone: it stays in the snapshot
          // (RETR will say why it cannot be had), and LIST and STAT still answer for the others.
          const alone = err instanceof UnreadableObjectError || (err instanceof StoreError && err.code === 'NOT_FOUND');
          if (!alone) throw err;
          out[i] = { size: obj.stored, exact: false, unreadable: err };
        }
      });
    } catch (err) {
      // Throttling, an outage or refused credentials fail the batch: stop the requests still running.
      batch.abort(err);
      throw err;
    } finally {
      signal.removeEventListener('abort', abort);
    }
    return out;
  }

  private async measure(obj: S3Object, signal: AbortSignal): Promise<CachedSize> {
    const counter = new CrlfSizeCounter();
    if (obj.stored <= S3_SIZE_PROBE) {
      counter.push(await this.reader.read(obj, signal));
      return { size: counter.octets, exact: true };
    }
    let from = 0;
    if (this.mode === 'probe') {
      const probe = await this.reader.read(obj, signal, { start: 0, end: S3_SIZE_PROBE - 1 });
      counter.push(probe);
      if (counter.octets === probe.length) return { size: obj.stored, exact: false };
      from = probe.length;
    }
    const rest = await this.reader.open(obj, signal, from === 0 ? undefined : { start: from });
    let octets = from;
    try {
      for await (const chunk of rest as AsyncIterable<Buffer>) {
        counter.push(chunk);
        octets += chunk.length;
      }
    } catch (err) {
      throw classifyS3Error(err, 'counting an object');
    }
    // Another length is another object (replaced, and the server ignored If-Match): not this size.
    if (octets !== obj.stored) throw new StoreError('NOT_FOUND', 's3: the object changed since the listing');
    return { size: counter.octets, exact: true };
  }
}
