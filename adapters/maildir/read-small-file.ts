/**
 * Reads whole small message files for read-ahead.
 *
 * Each async fs call is a libuv thread-pool round trip that cost the event loop about 30 µs here
 * (open, read, close: ~90 µs per 20 KB message, more than sending it), while the same three
 * syscalls done synchronously on a page-cache hit take a few µs. So reads are synchronous while
 * they stay fast; one that takes longer than SLOW_READ_MS (cold cache, a network file system)
 * switches the reader to the thread pool for ASYNC_FOR_MS, so a slow disk never stalls the other
 * sessions for more than that one read.
 */
import { close, closeSync, open, openSync, read, readSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const SLOW_READ_MS = 2;
const ASYNC_FOR_MS = 60_000;

export class SmallFileReader {
  private asyncUntil = 0;

  /** The file's bytes, or null when it is larger than `maxBytes` (the caller then streams it). */
  read(path: string, maxBytes: number): Promise<Buffer | null> {
    if (performance.now() < this.asyncUntil) return readSmallFileAsync(path, maxBytes);
    const started = performance.now();
    try {
      return Promise.resolve(readSmallFileSync(path, maxBytes));
    } catch (err) {
      return Promise.reject(err as Error);
    } finally {
      const took = performance.now() - started;
      if (took > SLOW_READ_MS) this.asyncUntil = performance.now() + ASYNC_FOR_MS;
    }
  }
}

function readSmallFileSync(path: string, maxBytes: number): Buffer | null {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(maxBytes + 1);
    const n = readSync(fd, buf, 0, buf.length, 0);
    return n > maxBytes ? null : buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

/** Three libuv calls through the callback API: half the CPU of fs.promises.readFile. */
function readSmallFileAsync(path: string, maxBytes: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    open(path, 'r', (openErr, fd) => {
      if (openErr) return reject(openErr);
      const buf = Buffer.allocUnsafe(maxBytes + 1);
      read(fd, buf, 0, buf.length, 0, (readErr, n) => {
        close(fd, () => {
          if (readErr) reject(readErr);
          else resolve(n > maxBytes ? null : buf.subarray(0, n));
        });
      });
    });
  });
}
