/**
 * The last snapshot of each mailbox, so a login to a big unchanged mailbox costs what Dovecot's
 * own POP3 login costs instead of a FETCH of every message's size.
 * - Same UIDVALIDITY and HIGHESTMODSEQ (CONDSTORE) and count: reuse the list as it is.
 * - Same UIDVALIDITY, something changed: `UID SEARCH ALL` gives the UIDs now present; only the
 *   UIDs not seen before are fetched (sizes of IMAP messages never change).
 * - Otherwise: a full FETCH.
 * Messages flagged \\Deleted (by another client, or by `deleteMode: flag`) are on their way out
 * and are never listed.
 * Bounded by the number of cached message entries across all mailboxes (LRU).
 */
import type { ImapFlow } from 'imapflow';
import { LRUCache } from 'lru-cache';
import type { MessageInfo } from '../contract.js';

export interface CachedSnapshot {
  readonly uidValidity: bigint;
  readonly highestModseq: bigint | undefined;
  /** EXISTS when the snapshot was taken (it counts \\Deleted messages, which are left out). */
  readonly exists: number;
  readonly messages: readonly MessageInfo[];
}

export type SnapshotSource = 'cache' | 'delta' | 'full';

/** Turns a FETCH result into the snapshot entry for it (UIDL, corrected size). */
export type Describe = (uid: number, size: number | undefined, emailId: string | undefined) => MessageInfo;

export class SnapshotCache {
  private readonly cache: LRUCache<string, CachedSnapshot>;

  constructor(maxMessages: number) {
    this.cache = new LRUCache({ maxSize: maxMessages, sizeCalculation: (s) => Math.max(1, s.messages.length) });
  }

  forget(mailboxKey: string): void {
    this.cache.delete(mailboxKey);
  }

  async snapshot(
    client: ImapFlow,
    mailboxKey: string,
    mailbox: { uidValidity: bigint; highestModseq?: bigint | undefined; exists: number },
    describe: Describe,
  ): Promise<{ messages: MessageInfo[]; source: SnapshotSource }> {
    if (mailbox.exists === 0) {
      this.remember(mailboxKey, mailbox, []);
      return { messages: [], source: 'full' };
    }
    const cached = this.cache.get(mailboxKey);
    if (cached !== undefined && cached.uidValidity === mailbox.uidValidity) {
      const unchanged =
        mailbox.highestModseq !== undefined && cached.highestModseq === mailbox.highestModseq && cached.exists === mailbox.exists;
      if (unchanged) return { messages: [...cached.messages], source: 'cache' };
      const messages = await this.delta(client, cached, describe);
      if (messages !== undefined) {
        this.remember(mailboxKey, mailbox, messages);
        return { messages, source: 'delta' };
      }
    }
    const messages: MessageInfo[] = [];
    for await (const m of client.fetch('1:*', { uid: true, size: true, flags: true })) {
      if (!m.flags?.has('\\Deleted')) messages.push(describe(m.uid, m.size, m.emailId));
    }
    this.remember(mailboxKey, mailbox, messages);
    return { messages, source: 'full' };
  }

  /** The list rebuilt from the cache plus the new UIDs; undefined if the server's answers do not add up. */
  private async delta(client: ImapFlow, cached: CachedSnapshot, describe: Describe): Promise<MessageInfo[] | undefined> {
    const found = await client.search({ deleted: false }, { uid: true });
    if (!Array.isArray(found)) return undefined;
    const present = found;
    const known = new Map(cached.messages.map((m) => [Number(m.id), m]));
    const fresh = present.filter((uid) => !known.has(uid));
    const fetched = new Map<number, MessageInfo>();
    if (fresh.length > 0) {
      for await (const m of client.fetch(fresh.join(','), { uid: true, size: true }, { uid: true })) fetched.set(m.uid, describe(m.uid, m.size, m.emailId));
    }
    const messages: MessageInfo[] = [];
    for (const uid of [...present].sort((a, b) => a - b)) {
      const info = known.get(uid) ?? fetched.get(uid);
      // Expunged between the SEARCH and the FETCH: take a full snapshot instead.
      if (info === undefined) return undefined;
      messages.push(info);
    }
    return messages;
  }

  private remember(key: string, mailbox: { uidValidity: bigint; highestModseq?: bigint | undefined; exists: number }, messages: readonly MessageInfo[]): void {
    this.cache.set(key, { uidValidity: mailbox.uidValidity, highestModseq: mailbox.highestModseq, exists: mailbox.exists, messages });
  }
}
