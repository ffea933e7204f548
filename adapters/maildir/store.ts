/** The embedded default backend: one Maildir per user, named by a path template. */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LRUCache } from 'lru-cache';
import { StoreError, type BackendLogin, type MailStore, type Maildrop, type MessageInfo, type SessionContext } from '../contract.js';
import { crlfSizeOfFile } from '../shared/crlf-size.js';
import { SIZE_CACHE_ENTRIES, SIZE_RESOLVE_CONCURRENCY, SNAPSHOT_CACHE_MESSAGES } from '../shared/limits.js';
import { mapLimit } from '../shared/map-limit.js';
import { uidlFromHandle } from '../shared/uidl.js';
import { ensureMaildir, regularFiles, storeErrorFromFs, SUBDIRS, type Located, type MaildirStoreOptions } from './common.js';
import { MaildirDrop } from './drop.js';
import { isMessageFileName, parseMaildirName } from './names.js';
import { SmallFileReader } from './read-small-file.js';

export type { MaildirStoreOptions } from './common.js';

/** User name segments that cannot escape the path template or name a hidden folder. */
const SAFE_USER = /^[A-Za-z0-9_@+=-][A-Za-z0-9._@+=-]{0,254}$/;

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

  /** Shared by all sessions: one slow read moves every session to the thread pool. */
  private readonly reader = new SmallFileReader();

  constructor(private readonly options: MaildirStoreOptions) {}

  maildirOf(user: string): string {
    // `{domain}/{local}` user names give one folder per domain; no segment may be hidden or `..`.
    const segments = user.split('/');
    if (segments.length > 2 || !segments.every((seg) => SAFE_USER.test(seg)) || user.includes('..')) {
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
    const messages = ctx.listSince === undefined ? listing.messages : deliveredSince(listing.messages, ctx.listSince);
    return new MaildirDrop(root, messages, new Map(listing.located), this.options, {
      sizeCache: this.sizeCache,
      forgetListing: () => this.listings.delete(root),
      reader: this.reader,
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
        files = await regularFiles(join(root, sub));
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
    const unknown = known.flatMap((size, i) => (size === null ? [i] : []));
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

/** Recent mode: the delivery time is the leading "seconds." part of each Maildir name. */
function deliveredSince(messages: readonly MessageInfo[], since: Date): MessageInfo[] {
  const seconds = Math.floor(since.getTime() / 1000);
  return messages.filter((m) => parseMaildirName(m.id).time >= seconds);
}

function stampTimeMs(stamp: string): number {
  return Math.max(...stamp.split('/').map((ns) => Number(BigInt(ns) / 1_000_000n)));
}
