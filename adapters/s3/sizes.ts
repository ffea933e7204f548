/**
 * Exact POP3 sizes (CRLF octets) of objects, computed once per object version and cached.
 *
 * - An object of at most S3_SIZE_PROBE octets is read whole in one request: its size is counted.
 * - A larger one is read by a ranged GET of its first S3_SIZE_PROBE octets. If they hold a bare
 *   LF the object is an LF object: the rest is streamed (from where the probe stopped) and
 *   counted. If they hold none, the object is taken to be CRLF throughout and ContentLength is
 *   its size; RETR checks that (see S3Drop.retrieved) and a wrong guess is corrected in the cache.
 *
 * The cache key is bucket + key + ETag, so a replaced object is measured again.
 */
import { setMaxListeners } from 'node:events';
import type { LRUCache } from 'lru-cache';
import { StoreError } from '../../src/errors.js';
import { S3_SIZE_PROBE, SIZE_RESOLVE_CONCURRENCY } from '../../src/limits.js';
import { CrlfSizeCounter } from '../shared/crlf-size.js';
import { mapLimit } from '../shared/map-limit.js';
import { classifyS3Error } from './errors.js';
import type { ObjectReader, S3Object } from './objects.js';

export interface Measured {
  readonly size: number;
  /** False when the size is ContentLength, taken from a CRLF-only probe of a large object. */
  readonly exact: boolean;
}

export class CrlfSizes {
  constructor(
    private readonly bucket: string,
    private readonly cache: LRUCache<string, number>,
    private readonly reader: ObjectReader,
  ) {}

  cached(obj: S3Object): number | undefined {
    return obj.etag === undefined ? undefined : this.cache.get(this.cacheKey(obj));
  }

  /** Records the size RETR really sent (it wins over a guess). */
  remember(obj: S3Object, size: number): void {
    if (obj.etag !== undefined) this.cache.set(this.cacheKey(obj), size);
  }

  /** Sizes of these objects, cached ones first, the others measured a few at a time. */
  async resolve(objects: readonly S3Object[], signal: AbortSignal): Promise<Map<string, Measured>> {
    const out = new Map<string, Measured>();
    const todo = objects.filter((o) => {
      const size = this.cached(o);
      if (size !== undefined) out.set(o.key, { size, exact: true });
      return size === undefined;
    });
    // Every request in flight listens on the signal: one of our own, allowed that many listeners.
    const batch = new AbortController();
    setMaxListeners(SIZE_RESOLVE_CONCURRENCY * 2, batch.signal);
    const abort = (): void => batch.abort(signal.reason);
    signal.addEventListener('abort', abort, { once: true });
    try {
      await mapLimit(todo, SIZE_RESOLVE_CONCURRENCY, async (obj) => {
        batch.signal.throwIfAborted();
        try {
          const m = await this.measure(obj, batch.signal);
          this.remember(obj, m.size);
          out.set(obj.key, m);
        } catch (err) {
          if (!(err instanceof StoreError && err.code === 'NOT_FOUND')) throw err;
          // Removed since the listing: it stays in the snapshot (RETR will say it is gone), and
          // LIST and STAT still answer for the others, with its stored size for it.
          out.set(obj.key, { size: obj.size, exact: false });
        }
      });
    } catch (err) {
      // One failure fails the batch: stop the requests still running.
      batch.abort(err);
      throw err;
    } finally {
      signal.removeEventListener('abort', abort);
    }
    return out;
  }

  private async measure(obj: S3Object, signal: AbortSignal): Promise<Measured> {
    const counter = new CrlfSizeCounter();
    if (obj.size <= S3_SIZE_PROBE) {
      counter.push(await this.reader.read(obj, signal));
      return { size: counter.octets, exact: true };
    }
    const probe = await this.reader.read(obj, signal, { start: 0, end: S3_SIZE_PROBE - 1 });
    counter.push(probe);
    // A server that ignores Range sends everything: then the count is complete.
    if (probe.length >= obj.size) return { size: counter.octets, exact: true };
    if (counter.octets === probe.length) return { size: obj.size, exact: false };
    const rest = await this.reader.open(obj, signal, { start: probe.length });
    try {
      for await (const chunk of rest) counter.push(chunk as Buffer);
    } catch (err) {
      throw classifyS3Error(err, 'counting an object');
    }
    return { size: counter.octets, exact: true };
  }

  private cacheKey(obj: S3Object): string {
    return `${this.bucket}\0${obj.key}\0${obj.etag ?? ''}`;
  }
}
