/**
 * An in-memory MailStore: each user's messages are given in the config (raw text, base64, or a
 * folder of .eml files) and read once when the store is made. Deletions at QUIT remove them from
 * memory for the life of the process (a restart or a reload that changes the tenant brings them
 * back). For demos, tests and fixtures: no disk, no server.
 *
 * UIDL: the configured `id`, else `m` + base64url SHA-256 of the position in the configured list
 * and the content (the same in every session and after restarts while the config is unchanged;
 * two identical messages at different positions differ).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CrlfSizeCounter } from '../shared/crlf-size.js';
import {
  InMemoryMessage,
  StoreError,
  type BackendLogin,
  type CommitResult,
  type Maildrop,
  type MailStore,
  type MessageInfo,
  type SessionContext,
} from '../contract.js';
import type { MemoryMailboxConfig, MemoryMessageConfig, MemoryStoreConfig } from './config.js';

interface StoredMessage extends MessageInfo {
  readonly bytes: Buffer;
}

/** The UIDL of a message without a configured id: position and content, hashed (42 characters). */
export function memoryUidl(content: Buffer, position: number): string {
  return 'm' + createHash('sha256').update(`${position}\0`).update(content).digest('base64url').slice(0, 41);
}

function bytesOf(m: MemoryMessageConfig): { bytes: Buffer; id: string | undefined } {
  if (typeof m === 'string') return { bytes: Buffer.from(m, 'utf8'), id: undefined };
  if ('raw' in m) return { bytes: Buffer.from(m.raw, 'utf8'), id: m.id };
  return { bytes: Buffer.from(m.base64, 'base64'), id: m.id };
}

function load(box: MemoryMailboxConfig): { bytes: Buffer; id: string | undefined }[] {
  if ('messages' in box) return box.messages.map(bytesOf);
  const names = readdirSync(box.folder)
    .filter((n) => n.endsWith('.eml'))
    .sort();
  return names.map((n) => ({ bytes: readFileSync(join(box.folder, n)), id: undefined }));
}

function crlfSize(bytes: Buffer): number {
  const c = new CrlfSizeCounter();
  c.push(bytes);
  return c.octets;
}

export class MemoryStore implements MailStore {
  readonly kind = 'memory';
  private readonly boxes = new Map<string, StoredMessage[]>();
  /** The messages' arrival, for `recent:` logins: when the store read them. */
  private readonly loadedAt = new Date();
  private readonly keep: boolean;

  /** @throws Error when a folder cannot be read or two messages of a mailbox share an id. */
  constructor(config: MemoryStoreConfig) {
    this.keep = config.deleteMode === 'keep';
    for (const [user, box] of Object.entries(config.mailboxes)) {
      const seen = new Set<string>();
      const messages = load(box).map(({ bytes, id }, position): StoredMessage => {
        const uidl = id ?? memoryUidl(bytes, position);
        if (seen.has(uidl)) throw new Error(`mailboxes.${user}: two messages have the id ${uidl}`);
        seen.add(uidl);
        return { id: uidl, uidl, size: crlfSize(bytes), bytes };
      });
      this.boxes.set(user, messages);
    }
  }

  lockKey(login: BackendLogin): string {
    return `memory:${login.user}`;
  }

  async open(login: BackendLogin, ctx: SessionContext): Promise<Maildrop> {
    const recentOnly = ctx.listSince !== undefined && ctx.listSince > this.loadedAt;
    return new MemoryMaildrop(this.boxes, login.user, this.keep, recentOnly ? [] : [...(this.boxes.get(login.user) ?? [])]);
  }
}

class MemoryMaildrop implements Maildrop {
  constructor(
    private readonly boxes: Map<string, StoredMessage[]>,
    private readonly user: string,
    private readonly keep: boolean,
    readonly messages: readonly StoredMessage[],
  ) {}

  async fetch(id: string): Promise<InMemoryMessage> {
    const m = (this.boxes.get(this.user) ?? []).find((x) => x.id === id);
    if (m === undefined) throw new StoreError('NOT_FOUND', 'message removed');
    return new InMemoryMessage(m.bytes);
  }

  async commit(change: { readonly deleted: readonly string[] }): Promise<CommitResult> {
    if (this.keep) return { removed: 0, failed: [] };
    const gone = new Set(change.deleted);
    const box = this.boxes.get(this.user) ?? [];
    const kept = box.filter((m) => !gone.has(m.id));
    this.boxes.set(this.user, kept);
    return { removed: box.length - kept.length, failed: [] };
  }

  async close(): Promise<void> {
    // Nothing held: the messages belong to the store.
  }
}
