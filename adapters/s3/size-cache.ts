/**
 * CRLF sizes by key + ETag (an object version never changes), bounded by the memory it holds,
 * not by a count: keys may be 1,000 octets long, and 200,000 of those would hold 300 MB.
 * One cache per tenant store, so the tenant's bucket is implied. Exact sizes also go to the
 * gateway's size book (Redis) or, without one, with `stateDir`, to a file.
 *
 * A size taken from a probe (`sizes: probe`) is kept as a guess: it saves the next session the
 * probe, but is never announced as exact at login, never leaves the process, and RETR (or a
 * whole TOP) replaces it.
 */
import type { KnownSizes } from '../shared/known-sizes.js';
import type { S3Object } from './objects.js';

export interface CachedSize {
  readonly size: number;
  readonly exact: boolean;
}

export class SizeCache {
  constructor(private readonly sizes: KnownSizes) {}

  get(obj: S3Object): CachedSize | undefined {
    if (obj.etag === undefined) return undefined;
    return decoded(this.sizes.cached(cacheKey(obj)));
  }

  /** Exact sizes known for these objects (memory, then the book), in their order. */
  async exact(objects: readonly S3Object[]): Promise<(number | undefined)[]> {
    const tagged = objects.flatMap((o, i) => (o.etag === undefined ? [] : [i]));
    const found = await this.sizes.known(tagged.map((i) => cacheKey(objects[i] as S3Object)));
    const out = new Array<number | undefined>(objects.length);
    tagged.forEach((i, j) => {
      const c = decoded(found[j]);
      if (c?.exact === true) out[i] = c.size;
    });
    return out;
  }

  set(obj: S3Object, size: number, exact: boolean): void {
    // Without an ETag there is no way to tell a replaced object from the one measured. Guesses
    // are stored negated (a listed message is never empty, so 0 is never a size): one number
    // per entry rather than an object.
    if (obj.etag !== undefined && size > 0) this.sizes.remember(cacheKey(obj), exact ? size : -size, exact);
  }

  flush(): Promise<void> {
    return this.sizes.flush();
  }
}

function decoded(v: number | undefined): CachedSize | undefined {
  return v === undefined ? undefined : v > 0 ? { size: v, exact: true } : { size: -v, exact: false };
}

function cacheKey(obj: S3Object): string {
  return `${obj.key}\0${obj.etag ?? ''}`;
}
