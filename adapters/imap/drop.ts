/** One POP3 session's view of an IMAP folder: the snapshot, streaming, and the UPDATE state. */
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { ImapTenantConfig } from '../../src/config/schema.js';
import { StoreError } from '../../src/errors.js';
import {
  IMAP_LOGOUT_TIMEOUT_MS,
  IMAP_TOP_FIRST_CHUNK,
  IMAP_TOP_NEXT_CHUNK,
  READ_AHEAD_BUDGET,
  READ_AHEAD_MAX_MESSAGE,
  READ_AHEAD_MESSAGES,
} from '../../src/limits.js';
import type { CommitResult, Maildrop, MessageInfo, TopFetcher } from '../contract.js';
import { ReadAhead } from '../shared/read-ahead.js';
import { fetchBodies, streamMessage, streamTop } from './message-stream.js';
import type { ImapChannel } from './wire/channel.js';
import { mailboxName, uidSet } from './wire/command-args.js';

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
    private readonly channel: ImapChannel,
    private readonly cfg: ImapTenantConfig,
    private readonly state: ImapDropState,
  ) {
    this.messages = state.messages;
    this.sizes = new Map(this.messages.map((m) => [m.id, m.size]));
    const limits = { messages: READ_AHEAD_MESSAGES, maxMessage: READ_AHEAD_MAX_MESSAGE, budget: READ_AHEAD_BUDGET };
    this.readAhead = new ReadAhead(this.messages, limits, (ids) => {
      const uids = ids.map(Number);
      return fetchBodies(this.channel, uids, uidSet(uids), READ_AHEAD_MAX_MESSAGE * 2);
    });
  }

  async fetch(id: string): Promise<Readable> {
    const early = await this.readAhead.take(id);
    if (early !== undefined) return early;
    return this.timed('fetch', () => streamMessage(this.channel, Number(id)));
  }

  fetchTop(id: string): Promise<Readable> {
    return this.timed('top', () => streamTop(this.channel, Number(id), { first: IMAP_TOP_FIRST_CHUNK, rest: IMAP_TOP_NEXT_CHUNK }));
  }

  retrieved(id: string, size: number): void {
    const listed = this.sizes.get(id);
    if (listed !== size) {
      this.state.logger.warn({ uid: id, listed, streamed: size }, 'imap: RFC822.SIZE differed from the streamed size; cached the true size');
      this.state.rememberSize(Number(id), size);
    }
    if (this.cfg.markSeen) {
      this.channel.run(`UID STORE ${Number(id)} +FLAGS.SILENT (\\Seen)`).then(
        (done) => {
          if (done.status !== 'OK') this.state.logger.warn({ uid: id, answer: `${done.status} ${done.text}` }, 'imap: could not set \\Seen');
        },
        (err: unknown) => this.state.logger.warn({ uid: id, err: (err as Error).message }, 'imap: could not set \\Seen'),
      );
    }
  }

  async commit(change: { readonly deleted: readonly string[] }): Promise<CommitResult> {
    const ids = change.deleted;
    const mode = this.cfg.deleteMode;
    if (ids.length === 0 || mode === 'keep') return { removed: ids.length, failed: [] };
    const started = Date.now();
    const range = uidSet(ids.map(Number));
    try {
      const uidValidity = await this.select();
      if (uidValidity !== this.state.uidValidity) {
        return { removed: 0, failed: ids.map((id) => ({ id, reason: 'UIDVALIDITY changed during the session' })) };
      }
      if (mode === 'flag') await this.store(range, '\\Deleted');
      else if (mode === 'expunge') await this.expunge(range);
      else await this.move(range, mode.slice('move:'.length));
      // Check what is really gone: a server may refuse part of a batch without failing the command.
      const left = await this.search(mode === 'flag' ? `UID ${range} UNDELETED` : `UID ${range}`);
      const failed = ids.filter((id) => left.has(Number(id))).map((id) => ({ id, reason: `still present after ${mode}` }));
      this.state.logger.debug({ op: 'commit', mode, ms: Date.now() - started, removed: ids.length - failed.length }, 'imap: update applied');
      return { removed: ids.length - failed.length, failed };
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      return { removed: 0, failed: ids.map((id) => ({ id, reason })) };
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.readAhead.clear();
    await this.channel.logout(IMAP_LOGOUT_TIMEOUT_MS);
  }

  /** SELECT (read-write) again for the update; gives the folder's UIDVALIDITY. */
  private async select(): Promise<bigint> {
    let uidValidity: bigint | undefined;
    await this.expectOk('re-opening the folder', `SELECT ${mailboxName(this.cfg.folder, this.channel.utf8)}`, (text) => {
      const m = /^\* OK \[UIDVALIDITY (\d+)\]/i.exec(text);
      if (m !== null) uidValidity = BigInt(m[1] as string);
    });
    if (uidValidity === undefined) throw new StoreError('TEMPORARY', 'imap: SELECT gave no UIDVALIDITY');
    return uidValidity;
  }

  private store(range: string, flag: string): Promise<void> {
    return this.expectOk('flagging', `UID STORE ${range} +FLAGS.SILENT (${flag})`);
  }

  /** UIDPLUS removes exactly these; without it EXPUNGE also removes what others flagged \Deleted. */
  private async expunge(range: string): Promise<void> {
    await this.store(range, '\\Deleted');
    if (this.channel.capabilities.has('UIDPLUS')) await this.expectOk('expunging', `UID EXPUNGE ${range}`);
    else await this.expectOk('expunging', 'EXPUNGE');
  }

  private async move(range: string, folder: string): Promise<void> {
    const target = mailboxName(folder, this.channel.utf8);
    if (this.channel.capabilities.has('MOVE')) {
      await this.expectOk('moving', `UID MOVE ${range} ${target}`);
      return;
    }
    await this.expectOk('copying', `UID COPY ${range} ${target}`);
    await this.expunge(range);
  }

  private async search(criteria: string): Promise<Set<number>> {
    const found = new Set<number>();
    await this.expectOk('checking', `UID SEARCH ${criteria}`, (text) => {
      const m = /^\* SEARCH\b(.*)$/i.exec(text);
      for (const n of (m?.[1] ?? '').trim().split(/\s+/)) if (/^\d+$/.test(n)) found.add(Number(n));
    });
    return found;
  }

  private async expectOk(doing: string, command: string, untagged?: (text: string) => void): Promise<void> {
    const done = await this.channel.run(command, untagged === undefined ? {} : { untagged });
    if (done.status !== 'OK') throw new StoreError('TEMPORARY', `imap: ${doing}: ${done.status} ${done.code === undefined ? '' : `[${done.code}] `}${done.text}`);
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
