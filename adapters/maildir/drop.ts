/** One POP3 session's view of a Maildir: streaming, read-ahead, and the UPDATE state. */
import { open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { LRUCache } from 'lru-cache';
import { MESSAGE_READ_CHUNK, READ_AHEAD_BUDGET, READ_AHEAD_MAX_MESSAGE, READ_AHEAD_MESSAGES, SIZE_RESOLVE_CONCURRENCY } from '../shared/limits.js';
import { StoreError, type CommitResult, type Maildrop, type MessageInfo } from '../contract.js';
import { mapLimit } from '../shared/map-limit.js';
import { ReadAhead } from '../shared/read-ahead.js';
import { ensureMaildir, regularFiles, storeErrorFromFs, SUBDIRS, type Located, type MaildirStoreOptions } from './common.js';
import { parseMaildirName } from './names.js';
import type { SmallFileReader } from './read-small-file.js';

export class MaildirDrop implements Maildrop {
  private readonly readAhead: ReadAhead;
  private readonly sizes: ReadonlyMap<string, number | null>;

  constructor(
    private readonly root: string,
    readonly messages: readonly MessageInfo[],
    private readonly located: Map<string, Located>,
    private readonly options: MaildirStoreOptions,
    private readonly caches: { readonly sizeCache: LRUCache<string, number>; readonly forgetListing: () => void; readonly reader: SmallFileReader },
  ) {
    const limits = { messages: READ_AHEAD_MESSAGES, maxMessage: READ_AHEAD_MAX_MESSAGE, budget: READ_AHEAD_BUDGET };
    this.sizes = new Map(messages.map((m) => [m.id, m.size]));
    const sizeOf = this.sizes;
    const loadOne = async (id: string): Promise<Buffer | null> => {
      const loc = this.located.get(id);
      // The CRLF size bounds the file size (LF files are smaller on disk).
      return loc === undefined ? null : this.caches.reader.read(join(this.root, loc.sub, loc.file), sizeOf.get(id) ?? 0);
    };
    this.readAhead = new ReadAhead(messages, limits, (ids) => new Map(ids.map((id) => [id, loadOne(id)])));
  }

  async fetch(id: string, signal: AbortSignal): Promise<Readable> {
    const early = await this.readAhead.take(id);
    if (early !== undefined) return early;
    const handle = await this.openMessage(id);
    return handle.createReadStream({ highWaterMark: MESSAGE_READ_CHUNK, signal });
  }

  retrieved(id: string, size: number): void {
    const listed = this.sizes.get(id);
    if (listed === size) return;
    this.options.logger.warn({ id, listed, streamed: size }, 'maildir: listed size was wrong; cached the streamed size');
    this.caches.sizeCache.set(join(this.root, id), size);
    this.caches.forgetListing();
  }

  async commit(change: { readonly deleted: readonly string[] }): Promise<CommitResult> {
    const mode = this.options.deleteMode;
    if (mode === 'keep') return { removed: 0, failed: [] };
    const trash = mode.startsWith('move:') ? mode.slice('move:'.length) : undefined;
    const trashCur = trash === undefined ? undefined : join(this.root, trash, 'cur');
    if (trash !== undefined) await ensureMaildir(join(this.root, trash));
    const failed: { id: string; reason: string }[] = [];
    let removed = 0;
    await mapLimit(change.deleted, SIZE_RESOLVE_CONCURRENCY, async (id) => {
      try {
        // A message that had already vanished counts as removed: nothing of it is left.
        await this.removeOne(id, trashCur);
        removed++;
      } catch (err) {
        failed.push({ id, reason: (err as NodeJS.ErrnoException).code ?? String(err) });
      }
    });
    return { removed, failed };
  }

  async close(): Promise<void> {
    this.readAhead.clear();
  }

  /** Unlinks (or moves to trash) one message; a message that is already gone is fine. */
  private async removeOne(id: string, trashCur: string | undefined): Promise<void> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const loc = attempt === 0 ? this.located.get(id) : await this.relocate(id);
      if (loc === undefined) return;
      const path = join(this.root, loc.sub, loc.file);
      try {
        if (trashCur === undefined) await unlink(path);
        else await rename(path, join(trashCur, loc.file));
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
  }

  private async openMessage(id: string) {
    for (let attempt = 0; attempt < 2; attempt++) {
      const loc = attempt === 0 ? this.located.get(id) : await this.relocate(id);
      if (loc === undefined) break;
      try {
        return await open(join(this.root, loc.sub, loc.file), 'r');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw storeErrorFromFs(err, 'opening a message');
      }
    }
    throw new StoreError('NOT_FOUND', 'message file is gone');
  }

  /** Another client may have moved the file from new/ to cur/ or changed its flags. */
  private async relocate(id: string): Promise<Located | undefined> {
    for (const sub of SUBDIRS) {
      const files = await regularFiles(join(this.root, sub)).catch(() => [] as string[]);
      const file = files.find((f) => parseMaildirName(f).base === id);
      if (file !== undefined) {
        const loc = { sub, file };
        this.located.set(id, loc);
        return loc;
      }
    }
    return undefined;
  }
}
