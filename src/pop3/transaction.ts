/**
 * TRANSACTION state: the login snapshot, the deletion marks and the message numbering.
 * Message n is `drop.messages[n - 1]` for the whole session; marks are only applied at QUIT.
 */
import { hasSizeResolver, type CommitResult, type Maildrop, type MessageInfo } from '../../adapters/contract.js';
import { Pop3Error, ErrorReplies, StoreError, replyForStoreError } from '../errors.js';
import type { MaildropLease } from '../locks/maildrop-locks.js';

/** QUIT could not confirm the maildrop lock: nothing was deleted. */
export class LockNotConfirmed extends Error {
  override readonly name = 'LockNotConfirmed';

  constructor() {
    super('the maildrop lock could not be confirmed');
  }
}

export interface NumberedMessage {
  readonly msn: number;
  readonly info: MessageInfo;
}

const MSN = /^\d{1,10}$/;

export class Transaction {
  private readonly marked = new Set<number>();
  /** Highest message number retrieved (RFC 1460 LAST); RSET sets it back to 0. */
  lastAccessed = 0;
  private readonly sizes: (number | null)[];
  private ended = false;

  constructor(
    readonly drop: Maildrop,
    private readonly lease: MaildropLease,
  ) {
    this.sizes = drop.messages.map((m) => m.size);
  }

  get count(): number {
    return this.drop.messages.length;
  }

  get markedCount(): number {
    return this.marked.size;
  }

  /** Parses a message-number argument; deleted and non-existent messages are errors. */
  message(arg: string | undefined): NumberedMessage {
    if (arg === undefined) throw Pop3Error.badCommand('Message number required.');
    if (!MSN.test(arg)) throw Pop3Error.badCommand('Invalid message number.');
    const msn = Number(arg);
    const info = this.drop.messages[msn - 1];
    if (msn < 1 || info === undefined) throw ErrorReplies.noSuchMessage;
    if (this.marked.has(msn)) throw ErrorReplies.messageDeleted;
    return { msn, info };
  }

  /** Messages not marked for deletion, in order. */
  *live(): Generator<NumberedMessage> {
    const messages = this.drop.messages;
    for (let i = 0; i < messages.length; i++) {
      if (!this.marked.has(i + 1)) yield { msn: i + 1, info: messages[i] as MessageInfo };
    }
  }

  /** The exact size of one message (resolving it if the backend listed it as unknown). */
  async sizeOf(msn: number, signal: AbortSignal): Promise<number> {
    const known = this.sizes[msn - 1];
    if (known !== null && known !== undefined) return known;
    await this.resolveSizes([msn], signal);
    return this.sizes[msn - 1] as number;
  }

  /** Sizes of all live messages, resolving unknown ones in one batch. */
  async liveSizes(signal: AbortSignal): Promise<{ msn: number; size: number }[]> {
    const unknown = [...this.live()].filter(({ msn }) => this.sizes[msn - 1] === null).map(({ msn }) => msn);
    if (unknown.length > 0) await this.resolveSizes(unknown, signal);
    return [...this.live()].map(({ msn }) => ({ msn, size: this.sizes[msn - 1] as number }));
  }

  private async resolveSizes(msns: readonly number[], signal: AbortSignal): Promise<void> {
    const drop = this.drop;
    if (!hasSizeResolver(drop)) throw new Error('adapter listed a message without size and has no resolveSizes()');
    let resolved: ReadonlyMap<string, number>;
    try {
      resolved = await drop.resolveSizes(
        msns.map((n) => drop.messages[n - 1]?.id as string),
        signal,
      );
    } catch (err) {
      if (err instanceof StoreError) throw replyForStoreError(err);
      throw err;
    }
    for (const n of msns) {
      const size = resolved.get(drop.messages[n - 1]?.id as string);
      if (size === undefined) throw ErrorReplies.temporary;
      this.sizes[n - 1] = size;
    }
  }

  /** RETR sent message `msn` whole, `size` octets: keep the true size, tell the adapter. */
  retrieved(msn: number, size: number): void {
    this.sizes[msn - 1] = size;
    if (msn > this.lastAccessed) this.lastAccessed = msn;
    this.drop.retrieved?.(this.drop.messages[msn - 1]?.id as string, size);
  }

  mark(msn: number): void {
    this.marked.add(msn);
  }

  reset(): void {
    this.marked.clear();
    this.lastAccessed = 0;
  }

  /**
   * UPDATE state: apply the marks, once the maildrop lock is confirmed still ours (a shared lock
   * may have expired or been lost with its store; another session may hold the maildrop now).
   * @throws LockNotConfirmed, and then nothing was deleted.
   */
  async commit(): Promise<CommitResult> {
    const ids = [...this.marked].sort((a, b) => a - b).map((n) => this.drop.messages[n - 1]?.id as string);
    if (ids.length === 0) return { removed: 0, failed: [] };
    if (!(await this.lease.confirm())) throw new LockNotConfirmed();
    return this.drop.commit({ deleted: ids });
  }

  /** Closes the maildrop and releases the lock; never deletes. Idempotent. */
  async end(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    try {
      await this.drop.close();
    } finally {
      await this.lease.release();
    }
  }
}
