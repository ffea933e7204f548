/**
 * Replaces a file atomically without trusting its directory: the temporary file gets a random
 * name and is created exclusively (O_CREAT|O_EXCL|O_NOFOLLOW), so a symlink or file planted at
 * any name is never followed or reused; it is written, made 0600 and synced, then renamed over
 * the target.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, fchmodSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** A name taken by someone else is retried with a new one, this many times in all. */
const MAX_ATTEMPTS = 16;
const EXCLUSIVE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

export type RandomSuffix = () => string;

const randomSuffix: RandomSuffix = () => randomBytes(12).toString('hex');

/** `suffix` is replaceable so a test can predict the name and plant something there. */
export function writeFileAtomically(path: string, data: string, mode = 0o600, suffix: RandomSuffix = randomSuffix): void {
  const dir = dirname(path);
  for (let attempt = 1; ; attempt++) {
    const tmp = join(dir, `.${basename(path)}.tmp-${suffix()}`);
    let fd: number;
    try {
      fd = openSync(tmp, EXCLUSIVE, mode);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST' && attempt < MAX_ATTEMPTS) continue;
      throw err;
    }
    try {
      const bytes = Buffer.from(data, 'utf8');
      for (let off = 0; off < bytes.length;) off += writeSync(fd, bytes, off);
      // The umask may have taken bits away from `mode`; the file must end up exactly `mode`.
      fchmodSync(fd, mode);
      fsyncSync(fd);
    } catch (err) {
      closeSync(fd);
      unlinkSync(tmp);
      throw err;
    }
    closeSync(fd);
    try {
      renameSync(tmp, path);
    } catch (err) {
      unlinkSync(tmp);
      throw err;
    }
    return;
  }
}
