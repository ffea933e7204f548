/**
 * Exact sizes of messages that never change (Gmail messages, content-addressed objects), kept
 * for good: an LRU in memory, and optionally an append-only file so a restart does not measure
 * a large mailbox again. One line per size, `[key, octets]` in JSON; a torn last line (a crash
 * mid-write) is skipped. When the file holds far more lines than live entries (sizes learned
 * again after an eviction), loading rewrites it through a temporary file and a rename.
 */
import { appendFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { LRUCache } from 'lru-cache';

export class SizeStore {
  private readonly lru: LRUCache<string, number>;
  private loading: Promise<void> | undefined;
  /** Lines not yet appended; written together, one append at a time. */
  private queued: string[] = [];
  private writing: Promise<void> = Promise.resolve();

  constructor(
    /** The file; undefined: memory only. */
    private readonly file: string | undefined,
    maxEntries: number,
    private readonly onWriteError: (err: Error) => void,
  ) {
    this.lru = new LRUCache({ max: maxEntries });
  }

  /** Reads the file once (later calls wait for the same read). */
  ready(): Promise<void> {
    this.loading ??= this.load();
    return this.loading;
  }

  get(key: string): number | undefined {
    return this.lru.get(key);
  }

  set(key: string, size: number): void {
    if (this.lru.get(key) === size) return;
    this.lru.set(key, size);
    if (this.file === undefined) return;
    this.queued.push(JSON.stringify([key, size]) + '\n');
    if (this.queued.length === 1) this.writing = this.writing.then(() => this.append());
  }

  /** Resolves once every size set so far is in the file. */
  async flush(): Promise<void> {
    await this.writing;
  }

  get entries(): number {
    return this.lru.size;
  }

  private async append(): Promise<void> {
    const lines = this.queued.join('');
    this.queued = [];
    try {
      await appendFile(this.file as string, lines, { mode: 0o600 });
    } catch (err) {
      this.onWriteError(err as Error);
    }
  }

  private async load(): Promise<void> {
    if (this.file === undefined) return;
    await mkdir(dirname(this.file), { recursive: true });
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    let lines = 0;
    for (const line of text.split('\n')) {
      if (line === '') continue;
      lines++;
      try {
        const [key, size] = JSON.parse(line) as [unknown, unknown];
        if (typeof key === 'string' && typeof size === 'number' && Number.isSafeInteger(size) && size >= 0) this.lru.set(key, size);
      } catch {
        // A line cut short by a crash: that size is measured again.
      }
    }
    if (lines > 2 * this.lru.size + 1000) {
      const tmp = `${this.file}.tmp`;
      await writeFile(tmp, [...this.lru.entries()].map(([k, v]) => JSON.stringify([k, v]) + '\n').join(''), { mode: 0o600 });
      await rename(tmp, this.file);
    }
  }
}
