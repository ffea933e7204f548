/** What the Maildir store and its per-session drop share: folder layout, file locations, errors. */
import type { Dirent } from 'node:fs';
import { lstat, mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { StoreError } from '../contract.js';

export interface MaildirStoreOptions {
  /** Path template with `{user}`. */
  readonly path: string;
  /** At QUIT: `expunge` unlinks, `keep` leaves everything, `move:.Trash` renames into that Maildir++ folder. */
  readonly deleteMode: string;
  readonly logger: Logger;
}

export const SUBDIRS = ['new', 'cur'] as const;

/** Where a message file is now (another client may rename it: flags, new/ -> cur/). */
export interface Located {
  readonly sub: (typeof SUBDIRS)[number];
  readonly file: string;
}

export async function ensureMaildir(root: string): Promise<void> {
  try {
    for (const sub of ['cur', 'new', 'tmp']) await mkdir(join(root, sub), { recursive: true, mode: 0o700 });
  } catch (err) {
    throw storeErrorFromFs(err, 'creating the Maildir');
  }
}

export function storeErrorFromFs(err: unknown, doing: string): StoreError {
  const code = (err as NodeJS.ErrnoException).code ?? 'unknown';
  const temporary = code === 'EMFILE' || code === 'ENFILE' || code === 'EAGAIN' || code === 'EIO' || code === 'ENOSPC';
  return new StoreError(temporary ? 'TEMPORARY' : 'PERMANENT', `maildir: ${doing}: ${code}`, { cause: err });
}

/**
 * The regular files of a folder: a directory (`alice/cur` made `cur/` a user's message), a
 * symlink, a FIFO or a socket in new/ or cur/ is not a message (reading one fails with EISDIR
 * mid-RETR, or hangs, or leaves the Maildir). Node resolves DT_UNKNOWN entries with lstat
 * itself; an entry that still has no type is checked here the same way.
 */
export async function regularFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names: string[] = [];
  for (const entry of entries) {
    if (entry.isFile()) names.push(entry.name);
    else if (
      hasNoType(entry) &&
      (await lstat(join(dir, entry.name)).then(
        (st) => st.isFile(),
        () => false,
      ))
    )
      names.push(entry.name);
  }
  return names;
}

function hasNoType(entry: Dirent): boolean {
  return !(
    entry.isFile() ||
    entry.isDirectory() ||
    entry.isSymbolicLink() ||
    entry.isFIFO() ||
    entry.isSocket() ||
    entry.isBlockDevice() ||
    entry.isCharacterDevice()
  );
}
