/** One POP3 session's view of an IMAP folder: the snapshot, streaming, and the UPDATE state. */
import type { Readable } from 'node:stream';
import type { ImapFlow } from 'imapflow';
import type { Logger } from 'pino';
import type { ImapTenantConfig } from '../../src/config/schema.js';
import {
  IMAP_FETCH_CHUNK,
  IMAP_LOGOUT_TIMEOUT_MS,
  IMAP_TOP_FIRST_CHUNK,
  IMAP_TOP_NEXT_CHUNK,
  READ_AHEAD_BUDGET,
  READ_AHEAD_MAX_MESSAGE,
  READ_AHEAD_MESSAGES,
} from '../../src/limits.js';
import type { CommitResult, Maildrop, MessageInfo, TopFetcher } from '../contract.js';
import { ReadAhead } from '../shared/read-ahead.js';
import { classifyImapError, withTimeout } from './connect.js';
import { openMessageStream } from './message-stream.js';

export interface ImapDropState {
  readonly uidValidity: bigint;
  readonly messages: readonly MessageInfo[];
  readonly logger: Logger;
  /** Remembers a corrected size for later sessions. */
  readonly rememberSize: (uid: number, size: number) => void;
}

export class ImapDrop implements Maildrop, TopFetcher {
  readonly messages: readonly MessageInfo[];
  private readonly readAhead: ReadAhead;
  private readonly sizes: ReadonlyMap<string, number | null>;
  private closed = false;

  constructor(
    private readonly client: ImapFlow,
    private readonly cfg: ImapTenantConfig,
    private readonly state: ImapDropState,
  ) {
    this.messages = state.messages;
    this.sizes = new Map(this.messages.map((m) => [m.id, m.size]));
    const limits = { messages: READ_AHEAD_MESSAGES, maxMessage: READ_AHEAD_MAX_MESSAGE, budget: READ_AHEAD_BUDGET };
    this.readAhead = new ReadAhead(this.messages, limits, (ids) => this.fetchMany(ids));
  }

  async fetch(id: string): Promise<Readable> {
    const early = await this.readAhead.take(id);
    if (early !== undefined) return early;
    return this.timed('fetch', () => openMessageStream(this.client, Number(id), { first: IMAP_FETCH_CHUNK, rest: IMAP_FETCH_CHUNK }, this.cfg.commandTimeoutMs));
  }

  fetchTop(id: string): Promise<Readable> {
    return this.timed('top', () => openMessageStream(this.client, Number(id), { first: IMAP_TOP_FIRST_CHUNK, rest: IMAP_TOP_NEXT_CHUNK }, this.cfg.commandTimeoutMs));
  }

  retrieved(id: string, size: number): void {
    const listed = this.sizes.get(id);
    if (listed !== size) {
      this.state.logger.warn({ uid: id, listed, streamed: size }, 'imap: RFC822.SIZE differed from the streamed size; cached the true size');
      this.state.rememberSize(Number(id), size);
    }
    if (this.cfg.markSeen) {
      this.client.messageFlagsAdd(id, ['\\Seen'], { uid: true }).catch((err: unknown) => {
        this.state.logger.warn({ uid: id, err: (err as Error).message }, 'imap: could not set \\Seen');
      });
    }
  }

  /** Read-ahead: one `UID FETCH a,b,c (BODY.PEEK[])` for the next small messages. */
  private fetchMany(ids: readonly string[]): ReadonlyMap<string, Promise<Buffer | null>> {
    const waiting = new Map<string, (data: Buffer | null) => void>();
    const promises = new Map<string, Promise<Buffer | null>>();
    for (const id of ids) promises.set(id, new Promise((resolve) => waiting.set(id, resolve)));
    void (async () => {
      try {
        for await (const m of this.client.fetch(ids.join(','), { uid: true, source: true }, { uid: true })) {
          waiting.get(String(m.uid))?.(m.source ?? null);
          waiting.delete(String(m.uid));
        }
      } catch {
        // The normal fetch path will meet (and report) the same failure.
      } finally {
        for (const resolve of waiting.values()) resolve(null);
      }
    })();
    return promises;
  }

  async commit(change: { readonly deleted: readonly string[] }): Promise<CommitResult> {
    const ids = change.deleted;
    const mode = this.cfg.deleteMode;
    if (ids.length === 0 || mode === 'keep') return { removed: ids.length, failed: [] };
    const range = ids.join(',');
    const started = Date.now();
    const client = this.client;
    const bounded = <T>(doing: string, call: () => Promise<T>): Promise<T> => withTimeout(client, this.cfg.commandTimeoutMs, doing, call);
    try {
      const mailbox = await bounded('re-opening the folder', () => client.mailboxOpen(this.cfg.folder, { readOnly: false }));
      if (BigInt(mailbox.uidValidity) !== this.state.uidValidity) {
        return { removed: 0, failed: ids.map((id) => ({ id, reason: 'UIDVALIDITY changed during the session' })) };
      }
      if (mode === 'expunge') await bounded('expunging', () => client.messageDelete(range, { uid: true }));
      else if (mode === 'flag') await bounded('flagging', () => client.messageFlagsAdd(range, ['\\Deleted'], { uid: true }));
      else await bounded('moving', () => client.messageMove(range, mode.slice('move:'.length), { uid: true }));
      // Check what is really gone: a server may refuse part of a batch without failing the command.
      const query = mode === 'flag' ? { uid: range, deleted: false } : { uid: range };
      const left = new Set(((await bounded('checking', () => client.search(query, { uid: true }))) || []).map(String));
      const failed = ids.filter((id) => left.has(id)).map((id) => ({ id, reason: `still present after ${mode}` }));
      this.state.logger.debug({ op: 'commit', mode, ms: Date.now() - started, removed: ids.length - failed.length }, 'imap: update applied');
      return { removed: ids.length - failed.length, failed };
    } catch (err) {
      const reason = classifyImapError(err, `applying ${mode}`).message;
      return { removed: 0, failed: ids.map((id) => ({ id, reason })) };
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.readAhead.clear();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([this.client.logout(), new Promise((resolve) => (timer = setTimeout(resolve, IMAP_LOGOUT_TIMEOUT_MS)))]);
    } catch {
      // Already gone: nothing to log out of.
    } finally {
      clearTimeout(timer);
      this.client.close();
    }
  }

  private async timed<T>(op: string, fn: () => Promise<T>): Promise<T> {
    const started = Date.now();
    try {
      return await fn();
    } finally {
      this.state.logger.debug({ op, ms: Date.now() - started }, 'imap: backend call');
    }
  }
}
