/**
 * A store's exact message sizes, learned once and kept for good: an LRU in memory in front of
 * where they outlive the process. That is the gateway's size book (Redis, shared by its
 * instances) when it hands one over, else a file under the store's `stateDir`, else nowhere.
 * Neither can fail a login: a book or file that cannot be read reads as "not known" (the size is
 * measured), one that cannot be written is logged once per outage and the size stays in memory.
 * Writes are batched, one book call or file append at a time, and never make the caller wait.
 */
import { join } from 'node:path';
import { LRUCache } from 'lru-cache';
import type { AdapterDeps, DurableSizes } from '../contract.js';
import { OutageLog } from './outage-log.js';
import { isSize, SizeFile } from './size-file.js';

/** How much memory the LRU may hold: a count of entries, or octets (each entry's key plus `entryOverhead`). */
export type SizeMemory = { readonly maxEntries: number } | { readonly maxOctets: number; readonly entryOverhead: number };

export interface KnownSizesOptions {
  /** The adapter's kind: the book's namespace, and the file's name (`<kind>-sizes.jsonl`). */
  readonly kind: string;
  /** Where the file goes when the gateway has no size book; undefined: memory only. */
  readonly stateDir: string | undefined;
  readonly memory: SizeMemory;
}

export class KnownSizes {
  private readonly lru: LRUCache<string, number>;
  private readonly book: DurableSizes | undefined;
  private readonly file: SizeFile | undefined;
  private readonly fileLog: OutageLog | undefined;
  private loading: Promise<void> | undefined;
  /** Sizes not yet handed to the book or the file; taken together by the next write. */
  private queued: [string, number][] = [];
  private writing: Promise<void> = Promise.resolve();

  constructor(opts: KnownSizesOptions, deps: Pick<AdapterDeps, 'logger' | 'sizeBook'>) {
    const m = opts.memory;
    this.lru = new LRUCache<string, number>(
      'maxEntries' in m ? { max: m.maxEntries } : { maxSize: m.maxOctets, sizeCalculation: (_, key) => stringOctets(key) + m.entryOverhead },
    );
    this.book = deps.sizeBook?.(opts.kind);
    if (this.book === undefined && opts.stateDir !== undefined) {
      this.file = new SizeFile(join(opts.stateDir, `${opts.kind}-sizes.jsonl`));
      this.fileLog = new OutageLog(
        deps.logger,
        `${opts.kind}: cannot read or write the size file: sizes are measured again after a restart; check stateDir`,
        `${opts.kind}: the size file is written again`,
      );
    }
  }

  /** The file's path, when sizes go to a file. */
  get filePath(): string | undefined {
    return this.file?.path;
  }

  /** The size held in memory (no I/O); `known()` has looked further by the time a session asks. */
  cached(key: string): number | undefined {
    return this.lru.get(key);
  }

  /** Sizes of these keys, in their order: from memory, else from the book (then held in memory too). */
  async known(keys: readonly string[]): Promise<(number | undefined)[]> {
    await this.ready();
    const out = keys.map((k) => this.lru.get(k));
    if (this.book === undefined) return out;
    const missing: number[] = [];
    out.forEach((size, i) => {
      if (size === undefined) missing.push(i);
    });
    if (missing.length === 0) return out;
    // A book never rejects (its outages read as "not known"); were one to, the sizes are measured.
    const found = await this.book.get(missing.map((i) => keys[i] as string)).catch(() => []);
    missing.forEach((i, j) => {
      const size = found[j];
      if (!isSize(size)) return;
      out[i] = size;
      this.lru.set(keys[i] as string, size);
    });
    return out;
  }

  /**
   * Keeps a size. `durable: false` keeps it in memory only: a value that is not an exact size
   * (the S3 adapter's negated guesses), which must never reach another process.
   */
  remember(key: string, size: number, durable = true): void {
    if (this.lru.get(key) === size) return;
    this.lru.set(key, size);
    if (!durable || (this.book === undefined && this.file === undefined)) return;
    this.queued.push([key, size]);
    if (this.queued.length === 1) this.writing = this.writing.then(() => this.write());
  }

  /** Resolves once every size remembered so far has been handed over (written, or given up on and logged). */
  async flush(): Promise<void> {
    await this.writing;
  }

  /** Reads the file once (later calls wait for the same read). */
  private ready(): Promise<void> {
    this.loading ??= this.load();
    return this.loading;
  }

  private async load(): Promise<void> {
    if (this.file === undefined) return;
    try {
      const { entries, lines } = await this.file.load();
      for (const [key, size] of entries) this.lru.set(key, size);
      // Sizes learned again after an eviction pile up: keep the file near what memory holds.
      if (lines > 2 * this.lru.size + 1000) await this.file.rewrite([...this.lru.rentries()] as [string, number][]);
      this.fileLog?.working();
    } catch (err) {
      this.fileLog?.failed(err, { file: this.file.path });
    }
  }

  private async write(): Promise<void> {
    await this.ready();
    const batch = this.queued;
    this.queued = [];
    // The book logs its own failures; a rejection must not stop the writes queued after it.
    if (this.book !== undefined) return this.book.set(batch).catch(() => undefined);
    const file = this.file as SizeFile;
    try {
      await file.append(batch);
      this.fileLog?.working();
    } catch (err) {
      this.fileLog?.failed(err, { file: file.path });
    }
  }
}

/** Octets a string holds in V8: one per character, two when any is outside Latin-1. */
function stringOctets(s: string): number {
  // eslint-disable-next-line no-control-regex -- the Latin-1 range starts at NUL
  return /[^\x00-\xff]/.test(s) ? 2 * s.length : s.length;
}
