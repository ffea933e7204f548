/**
 * CRLF sizes by key + ETag (an object version never changes), bounded by the memory it holds,
 * not by a count: keys may be 1,000 octets long, and 200,000 of those would hold 300 MB.
 * One cache per tenant store, so the tenant's bucket is implied.
 *
 * A size taken from a probe (`sizes: probe`) is kept as a guess: it saves the next session the
 * probe, but is never announced as exact at login, and RETR (or a whole TOP) replaces it.
 */
import { LRUCache } from 'lru-cache';
import { S3_SIZE_CACHE_BYTES, S3_SIZE_CACHE_ENTRY_OVERHEAD } from './limits.js';
import type { S3Object } from './objects.js';

export interface CachedSize {
  readonly size: number;
  readonly exact: boolean;
}

/** Octets a string holds in V8: one per character, two when any is outside Latin-1. */
function stringOctets(s: string): number {
  // eslint-disable-next-line no-control-regex -- the Latin-1 range starts at NUL
  return /[^\x00-\xff]/.test(s) ? 2 * s.length : s.length;
}

export class SizeCache {
  // Guesses are stored negated (a listed message is never empty, so 0 is never a size): one
  // number per entry rather than an object.
  private readonly lru = new LRUCache<string, number>({
    maxSize: S3_SIZE_CACHE_BYTES,
    sizeCalculation: (_, key) => stringOctets(key) + S3_SIZE_CACHE_ENTRY_OVERHEAD,
  });

  get(obj: S3Object): CachedSize | undefined {
    if (obj.etag === undefined) return undefined;
    const v = this.lru.get(cacheKey(obj));
    return v === undefined ? undefined : v > 0 ? { size: v, exact: true } : { size: -v, exact: false };
  }

  set(obj: S3Object, size: number, exact: boolean): void {
    // Without an ETag there is no way to tell a replaced object from the one measured.
    if (obj.etag !== undefined && size > 0) this.lru.set(cacheKey(obj), exact ? size : -size);
  }

  /** Estimated octets held (for tests and figures). */
  get heldOctets(): number {
    return this.lru.calculatedSize;
  }
}

function cacheKey(obj: S3Object): string {
  return `${obj.key}\0${obj.etag ?? ''}`;
}
