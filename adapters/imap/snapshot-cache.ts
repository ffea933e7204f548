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
import { LRUCache } from 'lru-cache';
import { StoreError, type MessageInfo } from '../contract.js';
import type { ImapChannel } from './wire/channel.js';
import { MAX_UID_SET_CHARS, uidSets } from './wire/command-args.js';
import { uidSearch } from './wire/search.js';

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

interface Mailbox {
  readonly uidValidity: bigint;
  readonly highestModseq?: bigint | undefined;
  readonly exists: number;
}

export class SnapshotCache {
  private readonly cache: LRUCache<string, CachedSnapshot>;

  constructor(maxMessages: number) {
    this.cache = new LRUCache({ maxSize: maxMessages, sizeCalculation: (s) => Math.max(1, s.messages.length) });
  }

  forget(mailboxKey: string): void {
    this.cache.delete(mailboxKey);
  }

  async snapshot(channel: ImapChannel, mailboxKey: string, mailbox: Mailbox, describe: Describe): Promise<{ messages: MessageInfo[]; source: SnapshotSource }> {
    if (mailbox.exists === 0) {
      this.remember(mailboxKey, mailbox, []);
      return { messages: [], source: 'full' };
    }
    const cached = this.cache.get(mailboxKey);
    if (cached !== undefined && cached.uidValidity === mailbox.uidValidity) {
      const unchanged = mailbox.highestModseq !== undefined && cached.highestModseq === mailbox.highestModseq && cached.exists === mailbox.exists;
      if (unchanged) return { messages: [...cached.messages], source: 'cache' };
      const messages = await this.delta(channel, cached, mailbox, describe).catch((err: unknown) => {
        // A refused or unreadable SEARCH: the full listing still works while the connection does.
        if (!channel.usable) throw err;
        return undefined;
      });
      if (messages !== undefined) {
        this.remember(mailboxKey, mailbox, messages);
        return { messages, source: 'delta' };
      }
    }
    const messages = [...(await listing(channel, ['1:*'], false, describe)).values()];
    this.remember(mailboxKey, mailbox, messages);
    return { messages, source: 'full' };
  }

  /** The list rebuilt from the cache plus the new UIDs; undefined if the server's answers do not add up. */
  private async delta(channel: ImapChannel, cached: CachedSnapshot, mailbox: Mailbox, describe: Describe): Promise<MessageInfo[] | undefined> {
    const present = (await uidSearch(channel, 'UNDELETED', 'listing')).list(mailbox.exists + 1);
    if (present === undefined) return undefined;
    const known = new Map(cached.messages.map((m) => [Number(m.id), m]));
    const fresh = present.filter((uid) => !known.has(uid));
    const fetched = fresh.length === 0 ? new Map<number, MessageInfo>() : await listing(channel, uidSets(fresh, MAX_UID_SET_CHARS), true, describe);
    const messages: MessageInfo[] = [];
    for (const uid of present) {
      const info = known.get(uid) ?? fetched.get(uid);
      // Expunged between the SEARCH and the FETCH: take a full snapshot instead.
      if (info === undefined) return undefined;
      messages.push(info);
    }
    return messages;
  }

  private remember(key: string, mailbox: Mailbox, messages: readonly MessageInfo[]): void {
    this.cache.set(key, { uidValidity: mailbox.uidValidity, highestModseq: mailbox.highestModseq, exists: mailbox.exists, messages });
  }
}

/**
 * UID, RFC822.SIZE and FLAGS (and the server's stable id, where it has one) of these messages,
 * by UID in ascending order, without those flagged \\Deleted. Unasked FETCH responses (another
 * client changing flags meanwhile) carry no size and are ignored.
 */
async function listing(channel: ImapChannel, sets: readonly string[], byUid: boolean, describe: Describe): Promise<Map<number, MessageInfo>> {
  const caps = channel.facts.capabilities;
  const id = caps.has('OBJECTID') ? ' EMAILID' : caps.has('X-GM-EXT-1') ? ' X-GM-MSGID' : '';
  const found = new Map<number, MessageInfo>();
  for (const set of sets) {
    const done = await channel.run(`${byUid ? 'UID ' : ''}FETCH ${set} (UID RFC822.SIZE FLAGS${id})`, {
      fetched: (r) => {
        // Only answers to this FETCH carry RFC822.SIZE (NIL counts: the message is listed, size unknown).
        if (r.uid === undefined || r.size === undefined) return;
        if (r.flags.some((f) => f.toLowerCase() === '\\deleted')) found.delete(r.uid);
        else found.set(r.uid, describe(r.uid, r.size ?? undefined, r.emailId));
      },
    });
    if (done.status !== 'OK') throw new StoreError('TEMPORARY', `imap: listing the folder: ${done.status} ${done.text}`);
  }
  return new Map([...found].sort((a, b) => a[0] - b[0]));
}
