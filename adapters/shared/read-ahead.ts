/**
 * Bounded read-ahead for sequential downloads: when message i is fetched, the next few small
 * messages are loaded in the background so their latency overlaps with sending message i.
 * Holds at most `budget` bytes; anything not used is dropped.
 */
import type { Readable } from 'node:stream';
import { InMemoryMessage, type MessageInfo } from '../contract.js';

export interface ReadAheadLimits {
  readonly messages: number;
  readonly maxMessage: number;
  readonly budget: number;
}

interface Entry {
  readonly reserved: number;
  readonly data: Promise<Buffer | null>;
}

export class ReadAhead {
  private readonly entries = new Map<string, Entry>();
  private readonly index = new Map<string, number>();
  private held = 0;

  constructor(
    private readonly messages: readonly MessageInfo[],
    private readonly limits: ReadAheadLimits,
    /**
     * Starts loading these whole messages (in one batch where the backend can, e.g. one IMAP
     * UID FETCH); each promise gives null when it cannot (the normal fetch then reports why).
     */
    private readonly load: (ids: readonly string[]) => ReadonlyMap<string, Promise<Buffer | null>>,
  ) {
    messages.forEach((m, i) => this.index.set(m.id, i));
  }

  /** The message if it was read ahead (as a one-chunk stream); schedules the next ones. */
  async take(id: string): Promise<Readable | undefined> {
    const entry = this.entries.get(id);
    if (entry !== undefined) this.entries.delete(id);
    this.schedule(id);
    if (entry === undefined) return undefined;
    const data = await entry.data;
    this.held -= entry.reserved;
    return data === null ? undefined : new InMemoryMessage(data);
  }

  private schedule(id: string): void {
    const at = this.index.get(id);
    if (at === undefined) return;
    // A client that skips around leaves entries behind: release them so the budget stays usable.
    for (const [key, entry] of this.entries) {
      const i = this.index.get(key) ?? -1;
      if (i <= at || i > at + this.limits.messages) {
        this.entries.delete(key);
        this.held -= entry.reserved;
      }
    }
    // Refill in batches (one backend round trip each), not one message per RETR.
    if (this.entries.size > this.limits.messages / 2) return;
    const batch: MessageInfo[] = [];
    for (let i = at + 1; i <= at + this.limits.messages && i < this.messages.length; i++) {
      const m = this.messages[i] as MessageInfo;
      if (this.entries.has(m.id)) continue;
      const size = m.size ?? Number.POSITIVE_INFINITY;
      if (size > this.limits.maxMessage || this.held + size > this.limits.budget) break;
      this.held += size;
      batch.push(m);
    }
    if (batch.length === 0) return;
    const loading = this.load(batch.map((m) => m.id));
    for (const m of batch) {
      const data = loading.get(m.id) ?? Promise.resolve(null);
      this.entries.set(m.id, { reserved: m.size as number, data: data.catch(() => null) });
    }
  }

  /** Forgets everything read ahead. */
  clear(): void {
    this.entries.clear();
    this.held = 0;
  }
}
