/**
 * Reads whole small message files for read-ahead.
 *
 * Each async fs call is a libuv thread-pool round trip whose cost to the event loop is large
 * (the three of open, read and close cost more than sending a 20 KB message), while the same
 * three syscalls done synchronously on a page-cache hit cost a small fraction of that (figures:
 * bench/README.md "Figures behind code choices"). So reads are synchronous while
 * they stay fast; when SLOW_READS of the last RECENT_READS were slow (over SLOW_READ_MS, plus a
 * little per KiB for large files: a cold cache, a network file system), the reader uses the
 * thread pool for ASYNC_FOR_MS, so a slow disk stalls the other sessions for a few reads at
 * most. One slow read is not enough: on a busy
 * machine the process is sometimes descheduled in the middle of a fast read, and each such
 * moment used to send a minute of reads through the thread pool, at a much higher CPU cost.
 */
import { close, closeSync, open, openSync, read, readSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const SLOW_READ_MS = 2;
/** A read may take this long per KiB on top (a 1.5 MiB read-ahead file is not a slow disk at 4 ms). */
const SLOW_READ_MS_PER_KIB = 1 / 256;
const RECENT_READS = 8;
const SLOW_READS = 3;
const ASYNC_FOR_MS = 60_000;

export class SmallFileReader {
  private asyncUntil = 0;
  /** One bit per recent synchronous read, newest lowest: 1 = slow. */
  private recentSlow = 0;

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Whether reads go through the thread pool now. */
  get inThreadPool(): boolean {
    return this.now() < this.asyncUntil;
  }

  /** The file's bytes, or null when it is larger than `maxBytes` (the caller then streams it). */
  read(path: string, maxBytes: number): Promise<Buffer | null> {
    if (this.inThreadPool) return readSmallFileAsync(path, maxBytes);
    const started = this.now();
    try {
      return Promise.resolve(readSmallFileSync(path, maxBytes));
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    } finally {
      const slow = this.now() - started > SLOW_READ_MS + (maxBytes / 1024) * SLOW_READ_MS_PER_KIB;
      this.recentSlow = ((this.recentSlow << 1) | (slow ? 1 : 0)) & ((1 << RECENT_READS) - 1);
      if (slow && bitCount(this.recentSlow) >= SLOW_READS) {
        this.asyncUntil = this.now() + ASYNC_FOR_MS;
        this.recentSlow = 0;
      }
    }
  }
}

function bitCount(bits: number): number {
  let n = 0;
  for (let b = bits; b !== 0; b &= b - 1) n++;
  return n;
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
