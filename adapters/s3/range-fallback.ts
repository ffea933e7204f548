/**
 * A server (or a cache in front of it) that ignores Range answers 200 with the whole object.
 * Reading that as if it were the range would be wrong from any start but 0 and would hold the
 * whole object where a few KiB were asked for, so the range is cut out of it as it streams:
 * the octets before `start` are dropped, and the response is closed once `end` has passed.
 */
import { Readable } from 'node:stream';

/** Inclusive start, inclusive end (`bytes=start-end`); no end means "to the end of the object". */
export interface ByteRange {
  readonly start: number;
  readonly end?: number;
}

export function sliceRange(whole: Readable, range: ByteRange): Readable {
  const stop = range.end === undefined ? Number.POSITIVE_INFINITY : range.end + 1;
  async function* slice(): AsyncGenerator<Buffer> {
    /** Offset in the object of the next chunk's first octet. */
    let at = 0;
    for await (const chunk of whole as AsyncIterable<Buffer>) {
      const from = Math.max(range.start - at, 0);
      const to = Math.min(stop - at, chunk.length);
      at += chunk.length;
      if (to > from) yield from === 0 && to === chunk.length ? chunk : chunk.subarray(from, to);
      // Leaving the loop destroys the response: nothing past the range is read.
      if (at >= stop) return;
    }
  }
  // Destroying the result (the core does once TOP has its lines) ends the generator, which
  // destroys the response too.
  return Readable.from(slice(), { objectMode: false });
}
