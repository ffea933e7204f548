/** The embedded default backend: one Maildir per user, named by a path template. */
import { mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import { StoreError } from '../../src/errors.js';
import {
  MESSAGE_READ_CHUNK,
  READ_AHEAD_BUDGET,
  READ_AHEAD_MAX_MESSAGE,
  READ_AHEAD_MESSAGES,
  SIZE_CACHE_ENTRIES,
  SIZE_RESOLVE_CONCURRENCY,
  SNAPSHOT_CACHE_MESSAGES,
} from '../../src/limits.js';
import type { BackendLogin, CommitResult, MailStore, Maildrop, MessageInfo, SessionContext } from '../contract.js';
import { crlfSizeOfFile } from '../shared/crlf-size.js';
import { mapLimit } from '../shared/map-limit.js';
import { ReadAhead } from '../shared/read-ahead.js';
import { uidlFromHandle } from '../shared/uidl.js';
import { isMessageFileName, parseMaildirName } from './names.js';
import { readSmallFile } from './read-small-file.js';

export interface MaildirStoreOptions {
  /** Path template with `{user}`. */
  readonly path: string;
  /** Maildir++ folder that receives deleted mail instead of unlink, e.g. `.Trash`. */
  readonly trash?: string;
  readonly logger: Logger;
}

/** User names that cannot escape the path template or name a hidden folder. */
const SAFE_USER = /^[A-Za-z0-9_@+=-][A-Za-z0-9._@+=-]{0,254}$/;
const SUBDIRS = ['new', 'cur'] as const;

interface Located {
  readonly sub: (typeof SUBDIRS)[number];
  readonly file: string;
}

interface Listing {
  readonly messages: readonly MessageInfo[];
  readonly located: ReadonlyMap<string, Located>;
}

/** How long new/ and cur/ must be unchanged before their listing is cached (see open()). */
const LISTING_SETTLE_MS = 2000;

export class MaildirStore implements MailStore {
  readonly kind = 'maildir';
  /** Computed CRLF sizes of files without ",W=", by absolute base path. Files never change. */
  private readonly sizeCache = new LRUCache<string, number>({ max: SIZE_CACHE_ENTRIES });
  /** The last listing of each Maildir, valid while its folders' mtimes (the stamp) are unchanged. */
  private readonly listings = new LRUCache<string, Listing & { stamp: string }>({
    maxSize: SNAPSHOT_CACHE_MESSAGES,
    sizeCalculation: (l) => Math.max(1, l.messages.length),
  });

  constructor(private readonly options: MaildirStoreOptions) {}

  maildirOf(user: string): string {
    if (!SAFE_USER.test(user) || user.includes('..')) {
      throw new StoreError('AUTH_FAILED', 'user name not usable as a Maildir path');
    }
    return this.options.path.replaceAll('{user}', user);
  }

  lockKey(login: BackendLogin): string {
    return `maildir:${this.maildirOf(login.user)}`;
  }

  async open(login: BackendLogin, ctx: SessionContext): Promise<Maildrop> {
    const root = this.maildirOf(login.user);
    await ensureMaildir(root);
    const stamp = await this.directoryStamp(root);
    const cached = this.listings.get(root);
    const listing = cached !== undefined && cached.stamp === stamp ? cached : await this.scan(root);
    ctx.signal.throwIfAborted();
    this.options.logger.debug({ session: ctx.sessionId, source: listing === cached ? 'cache' : 'scan', messages: listing.messages.length }, 'maildir: listing');
    // Only a listing whose folders have not changed for a while can be trusted next time: a
    // delivery in the same clock tick as the scan would leave the folder's mtime unchanged.
    if (listing !== cached && stamp !== undefined && Date.now() - stampTimeMs(stamp) > LISTING_SETTLE_MS) {
      this.listings.set(root, { ...listing, stamp });
    }
    return new MaildirDrop(root, listing.messages, new Map(listing.located), this.options, {
      sizeCache: this.sizeCache,
      forgetListing: () => this.listings.delete(root),
    });
  }

  /** The modification times of new/ and cur/: any delivery, flag change or removal changes one. */
  private async directoryStamp(root: string): Promise<string | undefined> {
    try {
      const [n, c] = await Promise.all(SUBDIRS.map((sub) => stat(join(root, sub), { bigint: true })));
      return `${n!.mtimeNs}/${c!.mtimeNs}`;
    } catch {
      return undefined;
    }
  }

  private async scan(root: string): Promise<Listing> {
    const located = new Map<string, Located>();
    const entries: { name: ReturnType<typeof parseMaildirName>; loc: Located }[] = [];
    for (const sub of SUBDIRS) {
      let files: string[];
      try {
        files = await readdir(join(root, sub));
      } catch (err) {
        throw storeErrorFromFs(err, `reading ${sub}/`);
      }
      for (const file of files) {
        if (!isMessageFileName(file)) continue;
        const name = parseMaildirName(file);
        if (located.has(name.base)) continue;
        const loc = { sub, file };
        located.set(name.base, loc);
        entries.push({ name, loc });
      }
    }
    entries.sort((a, b) => a.name.time - b.name.time || (a.name.base < b.name.base ? -1 : a.name.base > b.name.base ? 1 : 0));
    // A corrected size (see retrieved()) wins over a wrong ",W=" in the name.
    const known = entries.map(({ name }) => this.sizeCache.get(join(root, name.base)) ?? name.crlfSize);
    const unknown = entries.flatMap((e, i) => (known[i] === null ? [i] : []));
    await mapLimit(unknown, SIZE_RESOLVE_CONCURRENCY, async (i) => {
      const { name, loc } = entries[i] as (typeof entries)[number];
      try {
        const size = await crlfSizeOfFile(join(root, loc.sub, loc.file));
        this.sizeCache.set(join(root, name.base), size);
        known[i] = size;
      } catch {
        // Removed while we listed: keep it in the snapshot; RETR will say it is gone.
        known[i] = 0;
      }
    });
    const messages: MessageInfo[] = entries.map(({ name }, i) => ({
      id: name.base,
      uidl: uidlFromHandle(name.stableBase),
      size: known[i] as number,
    }));
    return { messages, located };
  }
}

function stampTimeMs(stamp: string): number {
  return Math.max(...stamp.split('/').map((ns) => Number(BigInt(ns) / 1_000_000n)));
}

class MaildirDrop implements Maildrop {
  private readonly readAhead: ReadAhead;
  private readonly sizes: ReadonlyMap<string, number | null>;

  constructor(
    private readonly root: string,
    readonly messages: readonly MessageInfo[],
    private readonly located: Map<string, Located>,
    private readonly options: MaildirStoreOptions,
    private readonly caches: { readonly sizeCache: LRUCache<string, number>; readonly forgetListing: () => void },
  ) {
    const limits = { messages: READ_AHEAD_MESSAGES, maxMessage: READ_AHEAD_MAX_MESSAGE, budget: READ_AHEAD_BUDGET };
    this.sizes = new Map(messages.map((m) => [m.id, m.size]));
    const sizeOf = this.sizes;
    const loadOne = async (id: string): Promise<Buffer | null> => {
      const loc = this.located.get(id);
      // The CRLF size bounds the file size (LF files are smaller on disk).
      return loc === undefined ? null : readSmallFile(join(this.root, loc.sub, loc.file), sizeOf.get(id) ?? 0);
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
    const trashCur = this.options.trash === undefined ? undefined : join(this.root, this.options.trash, 'cur');
    if (trashCur !== undefined) await ensureMaildir(join(this.root, this.options.trash as string));
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
      const files = await readdir(join(this.root, sub)).catch(() => [] as string[]);
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

async function ensureMaildir(root: string): Promise<void> {
  try {
    for (const sub of ['cur', 'new', 'tmp']) await mkdir(join(root, sub), { recursive: true, mode: 0o700 });
  } catch (err) {
    throw storeErrorFromFs(err, 'creating the Maildir');
  }
}

function storeErrorFromFs(err: unknown, doing: string): StoreError {
  const code = (err as NodeJS.ErrnoException).code ?? 'unknown';
  const temporary = code === 'EMFILE' || code === 'ENFILE' || code === 'EAGAIN' || code === 'EIO' || code === 'ENOSPC';
  return new StoreError(temporary ? 'TEMPORARY' : 'PERMANENT', `maildir: ${doing}: ${code}`, { cause: err });
}
