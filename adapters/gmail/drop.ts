/**
 * One POP3 session's view of a Gmail mailbox: exact sizes on demand, streamed RETR and TOP,
 * read-ahead of small messages for sequential downloads, and the deletions at UPDATE.
 */
import { setMaxListeners } from 'node:events';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { StoreError, type BackendLogin, type CommitResult, type Maildrop, type MessageInfo, type SizeResolver, type TopFetcher } from '../contract.js';
import { AnnouncedSizes } from '../shared/announced-sizes.js';
import { READ_AHEAD_BUDGET, READ_AHEAD_MAX_MESSAGE, READ_AHEAD_MESSAGES } from '../shared/limits.js';
import { mapLimit } from '../shared/map-limit.js';
import { ReadAhead } from '../shared/read-ahead.js';
import type { GmailClient } from './client.js';
import { applyDeletions, type DeleteMode } from './commit.js';
import { classifyGmailError, logOperatorProblem } from './errors.js';
import { GMAIL_READ_AHEAD_CONCURRENCY } from './limits.js';
import type { MessageReader } from './messages.js';
import type { GmailSizes } from './sizes.js';

export interface GmailDropDeps {
  readonly client: GmailClient;
  readonly reader: MessageReader;
  readonly sizes: GmailSizes;
  readonly login: BackendLogin;
  readonly deleteMode: DeleteMode;
  readonly logger: Logger;
}

export class GmailDrop implements Maildrop, SizeResolver, TopFetcher {
  readonly messages: readonly MessageInfo[];
  private readonly index = new Map<string, number>();
  private readonly announced: AnnouncedSizes;
  private readAhead: ReadAhead | undefined;
  /** Stops read-ahead requests still in flight when the session ends. */
  private readonly done = new AbortController();
  private closed = false;

  constructor(
    messages: readonly MessageInfo[],
    private readonly deps: GmailDropDeps,
  ) {
    this.messages = messages;
    this.announced = new AnnouncedSizes(messages);
    messages.forEach((m, i) => this.index.set(m.id, i));
    setMaxListeners(GMAIL_READ_AHEAD_CONCURRENCY * 4, this.done.signal);
  }

  async resolveSizes(ids: readonly string[], signal: AbortSignal): Promise<ReadonlyMap<string, number>> {
    const started = Date.now();
    for (const id of ids) this.position(id);
    let resolved;
    try {
      resolved = await this.deps.sizes.resolve(this.deps.login, ids, signal);
    } catch (err) {
      throw this.reported(err, 'mailbox', 'sizes');
    }
    for (const [id, size] of resolved.sizes) this.announced.set(this.position(id), size);
    if (resolved.gone.length > 0) {
      this.deps.logger.info({ gone: resolved.gone.length }, 'gmail: messages deleted since the listing are announced as 0 octets; RETR of them fails');
    }
    this.deps.logger.debug({ op: 'sizes', ms: Date.now() - started, asked: ids.length, measured: resolved.measured }, 'gmail: sizes resolved');
    return resolved.sizes;
  }

  async fetch(id: string, signal: AbortSignal): Promise<Readable> {
    this.position(id);
    this.readAhead ??= this.makeReadAhead();
    const early = await this.readAhead.take(id);
    if (early !== undefined) return early;
    return this.open(id, signal);
  }

  /** The whole message streamed without read-ahead: the core stops reading (and so the request) once TOP has its lines. */
  async fetchTop(id: string, _lines: number, signal: AbortSignal): Promise<Readable> {
    this.position(id);
    return this.open(id, signal);
  }

  retrieved(id: string, size: number): void {
    const announced = this.announced.correct(this.position(id), size);
    if (announced !== null) this.deps.logger.warn({ id, announced, streamed: size }, 'gmail: the announced size was wrong; cached the streamed size');
    this.deps.sizes.remember(this.deps.login, id, size);
  }

  async commit(change: { readonly deleted: readonly string[] }): Promise<CommitResult> {
    const started = Date.now();
    let reported = false;
    const result = await applyDeletions(this.deps.client, this.deps.login, this.deps.deleteMode, change.deleted, this.deps.logger, (err) => {
      if (!reported) reported = logOperatorProblem(this.deps.logger, err, this.deps.client.tokens.renewable, 'change', { op: 'commit' });
    });
    this.deps.logger.debug(
      { op: 'commit', mode: this.deps.deleteMode, ms: Date.now() - started, removed: result.removed, failed: result.failed.length },
      'gmail: update applied',
    );
    return result;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.done.abort();
    this.readAhead?.clear();
  }

  private async open(id: string, signal: AbortSignal): Promise<Readable> {
    try {
      return await this.deps.reader.open(this.deps.login, id, signal);
    } catch (err) {
      throw this.reported(err, 'message', 'fetch');
    }
  }

  private position(id: string): number {
    const i = this.index.get(id);
    if (i === undefined) throw new StoreError('NOT_FOUND', 'gmail: no such message in this session');
    return i;
  }

  private reported(err: unknown, scope: 'mailbox' | 'message', op: string): StoreError {
    const renewable = this.deps.client.tokens.renewable;
    logOperatorProblem(this.deps.logger, err, renewable, 'read', { op });
    return classifyGmailError(err, op, scope, renewable);
  }

  private makeReadAhead(): ReadAhead {
    // Sizes become known as the core resolves them: the read-ahead sees the current ones.
    const announced = this.announced;
    const sized: MessageInfo[] = this.messages.map((m, i) => ({
      id: m.id,
      uidl: '',
      get size(): number | null {
        return announced.get(i);
      },
    }));
    const limits = { messages: READ_AHEAD_MESSAGES, maxMessage: READ_AHEAD_MAX_MESSAGE, budget: READ_AHEAD_BUDGET };
    return new ReadAhead(sized, limits, (ids) => this.loadMany(ids));
  }

  /** Read-ahead: the next small messages, a few requests at a time; null for any that fails. */
  private loadMany(ids: readonly string[]): ReadonlyMap<string, Promise<Buffer | null>> {
    const waiting = new Map<string, (data: Buffer | null) => void>();
    const promises = new Map<string, Promise<Buffer | null>>();
    for (const id of ids) promises.set(id, new Promise((resolve) => waiting.set(id, resolve)));
    void mapLimit(ids, GMAIL_READ_AHEAD_CONCURRENCY, async (id) => {
      const resolve = waiting.get(id) as (data: Buffer | null) => void;
      try {
        resolve(this.done.signal.aborted ? null : await this.deps.reader.read(this.deps.login, id, this.done.signal));
      } catch {
        // The normal fetch meets (and reports) the same failure.
        resolve(null);
      }
    });
    return promises;
  }
}
