/**
 * Exact sizes in an append-only file under a store's `stateDir`, for a gateway without a shared
 * size book: one line per size, `[key, octets]` in JSON. A torn last line (a crash mid-write) is
 * skipped; the file is rewritten whole (through a temporary file and a rename) only when the
 * owner finds it holds far more lines than the sizes it keeps.
 */
import { appendFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface SizeFileContents {
  /** Oldest first: a size learned again later comes later. */
  readonly entries: readonly (readonly [string, number])[];
  readonly lines: number;
}

export class SizeFile {
  constructor(readonly path: string) {}

  /** What the file holds; nothing when it does not exist yet (its folder is created then). */
  async load(): Promise<SizeFileContents> {
    await mkdir(dirname(this.path), { recursive: true });
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { entries: [], lines: 0 };
      throw err;
    }
    const entries: [string, number][] = [];
    let lines = 0;
    for (const line of text.split('\n')) {
      if (line === '') continue;
      lines++;
      try {
        const [key, size] = JSON.parse(line) as [unknown, unknown];
        if (typeof key === 'string' && isSize(size)) entries.push([key, size]);
      } catch {
        // A line cut short by a crash: that size is measured again.
      }
    }
    // Ends the torn line, so the next append starts a line of its own.
    if (text !== '' && !text.endsWith('\n')) await appendFile(this.path, '\n');
    return { entries, lines };
  }

  async append(entries: readonly (readonly [string, number])[]): Promise<void> {
    await appendFile(this.path, lines(entries), { mode: 0o600 });
  }

  /** Replaces the file with these sizes (oldest first). */
  async rewrite(entries: Iterable<readonly [string, number]>): Promise<void> {
    const tmp = `${this.path}.tmp`;
    await writeFile(tmp, lines([...entries]), { mode: 0o600 });
    await rename(tmp, this.path);
  }
}

/** A CRLF size as stored anywhere outside memory: a non-negative safe integer. */
export function isSize(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function lines(entries: readonly (readonly [string, number])[]): string {
  return entries.map((e) => JSON.stringify(e) + '\n').join('');
}
