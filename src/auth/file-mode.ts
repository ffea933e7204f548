/** A file's permission bits, for the warnings about secrets files others can read. */
import { statSync } from 'node:fs';

/** The permission bits (`mode & 0o777`) of `path`, or undefined when it does not exist. */
export function permissionBits(path: string): number | undefined {
  try {
    return statSync(path).mode & 0o777;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
