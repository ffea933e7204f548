/** One POP3 session's view of an IMAP folder: the snapshot, streaming, and the UPDATE state. */
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { StoreError, type CommitResult, type Maildrop, type MessageInfo, type TopFetcher } from '../contract.js';
import { READ_AHEAD_BUDGET, READ_AHEAD_MAX_MESSAGE, READ_AHEAD_MESSAGES } from '../shared/limits.js';
import { ReadAhead } from '../shared/read-ahead.js';
import type { ImapTenantConfig } from './config.js';
import { IMAP_LOGOUT_TIMEOUT_MS, IMAP_TOP_FIRST_CHUNK, IMAP_TOP_NEXT_CHUNK } from './limits.js';
import { fetchBodies, streamMessage, streamTop } from './message-stream.js';
import type { ImapChannel } from './wire/channel.js';
import { mailboxName, MAX_UID_SET_CHARS, uidSets, withNamespace } from './wire/command-args.js';
import { uidSearch, type SearchResult } from './wire/search.js';

export interface ImapDropState {
  readonly uidValidity: bigint;
  readonly messages: readonly MessageInfo[];
  readonly logger: Logger;
  /** Remembers a corrected size for later sessions. */
  readonly rememberSize: (uid: number, size: number) => void;
  /** Keeps the connection for the account's next session instead of logging out; false when it cannot. */
  readonly keep?: () => boolean;
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
    // Listed sizes may be too small: what is collected is bounded on its own (twice the listed limits).
    this.readAhead = new ReadAhead(this.messages, limits, (ids) =>
      fetchBodies(this.channel, ids.map(Number), { message: READ_AHEAD_MAX_MESSAGE * 2, total: READ_AHEAD_BUDGET * 2 }),
    );
  }

  async fetch(id: string): Promise<Readable> {
    const early = await this.readAhead.take(id);
    if (early !== undefined) return early;
    return streamMessage(this.channel, Number(id));
  }

  fetchTop(id: string): Promise<Readable> {
    return streamTop(this.channel, Number(id), { first: IMAP_TOP_FIRST_CHUNK, rest: IMAP_TOP_NEXT_CHUNK });
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
    const sets = uidSets(ids.map(Number), MAX_UID_SET_CHARS);
    try {
      const uidValidity = await this.select();
      if (uidValidity !== this.state.uidValidity) {
        return { removed: 0, failed: ids.map((id) => ({ id, reason: 'UIDVALIDITY changed during the session' })) };
      }
      if (mode === 'flag') await this.store(sets, '\\Deleted');
      else if (mode === 'expunge') await this.expunge(sets);
      else await this.move(sets, mode.slice('move:'.length));
      // Check what is really gone: a server may refuse part of a batch without failing the command.
      const left = await this.stillThere(sets, mode === 'flag' ? ' UNDELETED' : '');
      const failed = ids.filter((id) => left(Number(id))).map((id) => ({ id, reason: `still present after ${mode}` }));
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
    if (this.state.keep?.() === true) return;
    await this.channel.logout(IMAP_LOGOUT_TIMEOUT_MS);
  }

  /** SELECT (read-write) the folder the snapshot came from, again; gives its UIDVALIDITY. */
  private async select(): Promise<bigint> {
    let uidValidity: bigint | undefined;
    const { selectedPath, utf8 } = this.channel.facts;
    await this.expectOk('re-opening the folder', `SELECT ${mailboxName(selectedPath, utf8)}`, (text) => {
      const m = /^\* OK \[UIDVALIDITY (\d+)\]/i.exec(text);
      if (m !== null) uidValidity = BigInt(m[1] as string);
    });
    if (uidValidity === undefined) throw new StoreError('TEMPORARY', 'imap: SELECT gave no UIDVALIDITY');
    return uidValidity;
  }

  private async store(sets: readonly string[], flag: string): Promise<void> {
    for (const set of sets) await this.expectOk('flagging', `UID STORE ${set} +FLAGS.SILENT (${flag})`);
  }

  /** UIDPLUS removes exactly these; without it EXPUNGE also removes what others flagged \Deleted. */
  private async expunge(sets: readonly string[]): Promise<void> {
    await this.store(sets, '\\Deleted');
    if (!this.channel.has('UIDPLUS')) return this.expectOk('expunging', 'EXPUNGE');
    for (const set of sets) await this.expectOk('expunging', `UID EXPUNGE ${set}`);
  }

  private async move(sets: readonly string[], folder: string): Promise<void> {
    const { namespacePrefix, utf8 } = this.channel.facts;
    const target = mailboxName(withNamespace(folder, namespacePrefix), utf8);
    if (this.channel.has('MOVE')) {
      for (const set of sets) await this.expectOk('moving', `UID MOVE ${set} ${target}`);
      return;
    }
    for (const set of sets) await this.expectOk('copying', `UID COPY ${set} ${target}`);
    await this.expunge(sets);
  }

  /** Which of these UIDs the server still has. */
  private async stillThere(sets: readonly string[], criteria: string): Promise<(uid: number) => boolean> {
    const results: SearchResult[] = [];
    for (const set of sets) results.push(await uidSearch(this.channel, `UID ${set}${criteria}`, 'checking'));
    return (uid) => results.some((r) => r.has(uid));
  }

  private async expectOk(doing: string, command: string, untagged?: (text: string) => void): Promise<void> {
    const done = await this.channel.run(command, untagged === undefined ? {} : { untagged });
    if (done.status !== 'OK')
      throw new StoreError('TEMPORARY', `imap: ${doing}: ${done.status} ${done.code === undefined ? '' : `[${done.code}] `}${done.text}`);
  }
}
