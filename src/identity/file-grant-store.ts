/**
 * Grant records in one JSON file, mode 0600, replaced atomically on every change (an exclusively
 * created temporary file, then rename). A gateway and the CLI may change it at the same time:
 * each change holds a lock file beside it (created exclusively, removed after; one left behind by
 * a crash is taken over once it is old), re-reads the file and writes it whole. Reads re-load the
 * file when its modification time changed, so a change made by another process is seen at once.
 */
import { closeSync, constants, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { writeFileAtomically } from '../auth/atomic-write.js';
import { permissionBits } from '../auth/file-mode.js';
import { grantRecordSchema, type GrantRecord } from './grant-record.js';
import type { GrantChange, GrantStore } from './grant-store.js';

const fileSchema = z.strictObject({
  version: z.literal(1),
  grants: z.record(z.string(), grantRecordSchema),
});

/** A lock older than this was left by a process that died holding it. */
const STALE_LOCK_MS = 30_000;
/** How long a change waits for another process's lock before it fails. */
const LOCK_WAIT_MS = 10_000;
const LOCK_POLL_MS = 10;

export class FileGrantStore implements GrantStore {
  private records = new Map<string, GrantRecord>();
  private loadedMtimeMs = -1;
  /** Changes of this process, one at a time (the lock file orders them against other processes). */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly path: string) {}

  async get(account: string): Promise<GrantRecord | undefined> {
    this.refresh();
    return this.records.get(account);
  }

  async all(): Promise<GrantRecord[]> {
    this.refresh();
    return [...this.records.values()].sort((a, b) => (a.account < b.account ? -1 : a.account > b.account ? 1 : 0));
  }

  update(account: string, change: GrantChange): Promise<GrantRecord | undefined> {
    return this.serialised(() =>
      this.locked(() => {
        this.loadedMtimeMs = -1;
        this.refresh();
        const current = this.records.get(account);
        const next = change(current);
        if (next === current) return current;
        const records = new Map(this.records);
        if (next === undefined) records.delete(account);
        else records.set(account, grantRecordSchema.parse({ ...next, account }));
        this.write(records);
        return records.get(account);
      }),
    );
  }

  updateAll(change: (record: GrantRecord) => GrantRecord): Promise<number> {
    return this.serialised(() =>
      this.locked(() => {
        this.loadedMtimeMs = -1;
        this.refresh();
        const records = new Map<string, GrantRecord>();
        let changed = 0;
        for (const [account, record] of this.records) {
          const next = change(record);
          if (next !== record) changed++;
          records.set(account, next === record ? record : grantRecordSchema.parse({ ...next, account }));
        }
        if (changed > 0) this.write(records);
        return changed;
      }),
    );
  }

  async check(): Promise<void> {
    const mode = permissionBits(this.path);
    if (mode !== undefined && (mode & 0o022) !== 0) {
      throw new Error(`grants file ${this.path} is writable by others (mode 0${mode.toString(8)}): chmod 600 it`);
    }
    this.loadedMtimeMs = -1;
    this.refresh();
  }

  permissionWarning(): string | undefined {
    const mode = permissionBits(this.path);
    if (mode === undefined || (mode & 0o044) === 0) return undefined;
    return `grants file ${this.path} has mode 0${mode.toString(8)}: others can read the sealed tokens and device password hashes; chmod 600 it`;
  }

  private refresh(): void {
    let mtimeMs: number;
    try {
      mtimeMs = statSync(this.path).mtimeMs;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      this.records = new Map();
      this.loadedMtimeMs = 0;
      return;
    }
    if (mtimeMs === this.loadedMtimeMs) return;
    let data: unknown;
    try {
      data = JSON.parse(readFileSync(this.path, 'utf8'));
    } catch (err) {
      throw new Error(`grants file ${this.path}: not JSON: ${(err as Error).message}`, { cause: err });
    }
    const parsed = fileSchema.safeParse(data);
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      throw new Error(`grants file ${this.path}: ${first?.path.map(String).join('.') ?? ''}: ${first?.message ?? 'invalid'}`);
    }
    this.records = new Map(Object.entries(parsed.data.grants));
    this.loadedMtimeMs = mtimeMs;
  }

  private write(records: Map<string, GrantRecord>): void {
    const sorted = Object.fromEntries([...records.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    writeFileAtomically(this.path, `${JSON.stringify({ version: 1, grants: sorted }, null, 2)}\n`);
    this.loadedMtimeMs = -1;
  }

  private serialised<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Runs `work` holding the lock file (waiting for another process's lock, taking over a stale one). */
  private async locked<T>(work: () => T): Promise<T> {
    const lockPath = `${this.path}.lock`;
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (;;) {
      let fd: number;
      try {
        fd = openSync(lockPath, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        if (lockAgeMs(lockPath) > STALE_LOCK_MS) {
          unlinkQuietly(lockPath);
          continue;
        }
        if (Date.now() > deadline)
          throw new Error(`grants file ${this.path}: another process holds ${lockPath} (remove it if no popgate is running)`, {
            cause: err,
          });
        await sleep(LOCK_POLL_MS);
        continue;
      }
      try {
        try {
          writeSync(fd, `${process.pid}\n`);
        } finally {
          closeSync(fd);
        }
        return work();
      } finally {
        unlinkQuietly(lockPath);
      }
    }
  }
}

function lockAgeMs(path: string): number {
  try {
    return Date.now() - statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone.
  }
}
