/**
 * One POP3 session's view of a store mailbox: sizes on demand, streaming, TOP by range,
 * read-ahead of small messages, UPDATE. The core's id is the message's position in decimal (the
 * store's id may be long or any Unicode); the store's id is kept next to it.
 */
import { PassThrough, pipeline, type Readable } from 'node:stream';
import { InMemoryMessage, StoreError, type CommitResult, type Maildrop, type MessageInfo, type SizeResolver, type TopFetcher } from '../contract.js';
import { AnnouncedSizes } from '../shared/announced-sizes.js';
import { READ_AHEAD_BUDGET, READ_AHEAD_MAX_MESSAGE, READ_AHEAD_MESSAGES } from '../shared/limits.js';
import { mapLimit } from '../shared/map-limit.js';
import { ReadAhead } from '../shared/read-ahead.js';
import { TopFilter } from '../shared/top-filter.js';
import { applyCommit, type CommitPlan, type CommitTarget } from './commit.js';
import { describeRestError, operatorHint } from './errors.js';
import { REST_READ_AHEAD_CONCURRENCY, REST_TOP_FIRST_RANGE } from './limits.js';
import type { MessageReader, MessageRef } from './messages.js';
import type { MailboxSizes } from './size-cache.js';
import { measureSizes } from './sizes.js';

export interface RestMessage extends MessageInfo, MessageRef {}

export interface RestDropDeps extends CommitTarget {
  readonly reader: MessageReader;
  readonly sizes: MailboxSizes;
  readonly plan: CommitPlan;
  readonly credentialsChecked: boolean;
}

export class RestDrop implements Maildrop, SizeResolver, TopFetcher {
  readonly messages: readonly RestMessage[];
  private readonly announced: AnnouncedSizes;
  private readAhead: ReadAhead | undefined;
  private closed = false;

  constructor(
    messages: readonly RestMessage[],
    private readonly deps: RestDropDeps,
  ) {
    this.messages = messages;
    this.announced = new AnnouncedSizes(messages);
  }

  async resolveSizes(ids: readonly string[], signal: AbortSignal): Promise<ReadonlyMap<string, number>> {
    const started = Date.now();
    const wanted = ids.map((id) => this.message(id));
    let measured;
    try {
      measured = await measureSizes(this.deps.reader, this.deps.sizes, wanted, signal);
    } catch (err) {
      this.reported(err, { op: 'sizes' });
      throw err;
    }
    const sizes = new Map<string, number>();
    let gone = 0;
    measured.forEach((m, i) => {
      const msg = wanted[i] as RestMessage;
      sizes.set(msg.id, m.size);
      this.announced.set(Number(msg.id), m.size);
      if ('gone' in m) gone++;
    });
    if (gone > 0) this.deps.logger.warn({ gone }, 'rest: messages removed since the listing are listed with size 0; RETR and TOP of them fail');
    this.deps.logger.debug({ op: 'sizes', ms: Date.now() - started, resolved: sizes.size }, 'rest: sizes resolved');
    return sizes;
  }

  async fetch(id: string, signal: AbortSignal): Promise<Readable> {
    const msg = this.message(id);
    this.readAhead ??= this.makeReadAhead();
    const early = await this.readAhead.take(id);
    if (early !== undefined) return early;
    try {
      return (await this.deps.reader.open(msg, signal)).body;
    } catch (err) {
      throw this.reported(err, { restId: msg.restId });
    }
  }

  async fetchTop(id: string, lines: number, signal: AbortSignal): Promise<Readable> {
    const msg = this.message(id);
    try {
      const head = await this.deps.reader.head(msg, signal, REST_TOP_FIRST_RANGE);
      if (head.whole) return new InMemoryMessage(head.bytes);
      const top = new TopFilter(lines);
      top.push(head.bytes);
      if (top.done) return new InMemoryMessage(head.bytes);
      // The header and the lines asked for go past the first range: stream the rest from there;
      // the core stops reading (and closes the response) once it has them.
      const rest = await this.deps.reader.open(msg, signal, head.bytes.length);
      return prepend(head.bytes, rest.body);
    } catch (err) {
      throw this.reported(err, { restId: msg.restId });
    }
  }

  retrieved(id: string, size: number): void {
    const msg = this.message(id);
    const announced = this.announced.correct(Number(id), size);
    if (announced !== null) {
      this.deps.logger.warn({ restId: msg.restId, announced, streamed: size }, 'rest: the announced size was wrong; cached the streamed size');
    }
    // A size the listing gave is given again next time: caching it costs an LRU write per RETR for nothing.
    if (msg.size !== size) this.deps.sizes.set(msg, size);
  }

  async commit(change: { readonly deleted: readonly string[] }): Promise<CommitResult> {
    const started = Date.now();
    const doomed = change.deleted.map((id) => this.message(id));
    const byRestId = new Map(doomed.map((m) => [m.restId, m]));
    const result = await applyCommit(
      this.deps,
      this.deps.plan,
      doomed.map((m) => m.restId),
    );
    const failed = result.failed.map((f) => ({ id: (byRestId.get(f.restId) as RestMessage).id, reason: `${f.restId}: ${f.reason}` }));
    this.deps.logger.debug(
      { op: 'commit', mode: this.deps.plan.mode, ms: Date.now() - started, removed: result.removed, failed: failed.length },
      'rest: update applied',
    );
    return { removed: result.removed, failed };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.readAhead?.clear();
  }

  private message(id: string): RestMessage {
    const msg = this.messages[Number(id)];
    if (msg === undefined || msg.id !== id) throw new StoreError('NOT_FOUND', 'rest: no such message in this session');
    return msg;
  }

  /** Logs what an operator must know about a failure (the gateway's credentials refused). */
  private reported(err: unknown, fields: Record<string, unknown>): unknown {
    const hint = operatorHint(err, this.deps.credentialsChecked);
    if (hint !== undefined) this.deps.logger.error({ ...fields, err: describeRestError(err) }, hint);
    return err;
  }

  private makeReadAhead(): ReadAhead {
    // Budgeted by the sizes this session knows (given or resolved); unknown ones are not read ahead.
    const known = this.messages.map((m, i) => ({ id: m.id, uidl: '', size: this.announced.get(i) }));
    const limits = { messages: READ_AHEAD_MESSAGES, maxMessage: READ_AHEAD_MAX_MESSAGE, budget: READ_AHEAD_BUDGET };
    return new ReadAhead(known, limits, (ids) => this.loadMany(ids));
  }

  /** The next small messages, a few requests at a time; null for any that fails. */
  private loadMany(ids: readonly string[]): ReadonlyMap<string, Promise<Buffer | null>> {
    const waiting = new Map<string, (data: Buffer | null) => void>();
    const promises = new Map<string, Promise<Buffer | null>>();
    for (const id of ids) promises.set(id, new Promise((resolve) => waiting.set(id, resolve)));
    void mapLimit(ids, REST_READ_AHEAD_CONCURRENCY, async (id) => {
      const resolve = waiting.get(id) as (data: Buffer | null) => void;
      try {
        if (this.closed) return resolve(null);
        // The raw message is never larger than its CRLF size: more means it is not what was listed.
        const max = (this.announced.get(Number(id)) ?? 0) + 1;
        // No signal: see RestRequest.signal. A session that ended lets these few finish and drops them.
        const got = await this.deps.reader.whole(this.message(id), undefined, max);
        resolve(got.whole ? got.bytes : null);
      } catch {
        // The normal fetch meets (and reports) the same failure.
        resolve(null);
      }
    });
    return promises;
  }
}

/** `head` then everything `rest` yields; destroying the result destroys `rest` (closing its response). */
function prepend(head: Buffer, rest: Readable): Readable {
  const out = new PassThrough();
  out.write(head);
  pipeline(rest, out, () => undefined);
  return out;
}
