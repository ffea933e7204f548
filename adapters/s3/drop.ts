/**
 * One POP3 session's view of a mailbox prefix: sizes on demand, streaming, TOP by range, UPDATE.
 *
 * Memory: a session holds one record per message (what the core sees and what S3 needs, in one
 * object, found by its position: the id is the position in decimal) and one number per message
 * for the size it announced; a mailbox of 100,000 objects is listed on every login.
 */
import { setMaxListeners } from 'node:events';
import type { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Logger } from 'pino';
import { InMemoryMessage, StoreError, type CommitResult, type Maildrop, type MessageInfo, type SizeResolver, type TopFetcher } from '../contract.js';
import { AnnouncedSizes } from '../shared/announced-sizes.js';
import { CrlfSizeCounter } from '../shared/crlf-size.js';
import { READ_AHEAD_BUDGET, READ_AHEAD_MAX_MESSAGE, READ_AHEAD_MESSAGES } from '../shared/limits.js';
import { mapLimit } from '../shared/map-limit.js';
import { ReadAhead } from '../shared/read-ahead.js';
import { TopFilter } from '../shared/top-filter.js';
import { applyCommit, type CommitPlan } from './commit.js';
import { UnreadableObjectError, describeS3Error, logOperatorProblem } from './errors.js';
import { S3_READ_AHEAD_CONCURRENCY, S3_TOP_FIRST_RANGE } from './limits.js';
import { prepend, type ObjectReader, type S3Object } from './objects.js';
import type { CrlfSizes } from './sizes.js';

/** One message of the session: the core's view and the object it is, in one record. */
export interface S3Message extends MessageInfo, S3Object {}

export interface S3DropDeps {
  readonly client: S3Client;
  readonly bucket: string;
  readonly reader: ObjectReader;
  readonly sizes: CrlfSizes;
  readonly plan: CommitPlan;
  readonly logger: Logger;
}

/** Unreadable objects named in one log line, at most. */
const UNREADABLE_LOGGED = 10;

export class S3Drop implements Maildrop, SizeResolver, TopFetcher {
  /** Message i has id `String(i)`. */
  readonly messages: readonly S3Message[];
  private readonly announced: AnnouncedSizes;
  /** Made at the first fetch: sessions that only list (UIDL, STAT) never pay for its index. */
  private readAhead: ReadAhead | undefined;
  /** Stops read-ahead requests still in flight when the session ends. */
  private readonly done = new AbortController();
  private closed = false;

  constructor(
    messages: readonly S3Message[],
    private readonly deps: S3DropDeps,
  ) {
    this.messages = messages;
    this.announced = new AnnouncedSizes(messages);
    setMaxListeners(S3_READ_AHEAD_CONCURRENCY * 2, this.done.signal);
  }

  async resolveSizes(ids: readonly string[], signal: AbortSignal): Promise<ReadonlyMap<string, number>> {
    const started = Date.now();
    const wanted = ids.map((id) => this.message(id));
    let measured;
    try {
      measured = await this.deps.sizes.resolve(wanted, signal);
    } catch (err) {
      logOperatorProblem(this.deps.logger, err, 'object', { op: 'sizes' });
      throw err;
    }
    const sizes = new Map<string, number>();
    const unreadable: { key: string; err: string }[] = [];
    let guessed = 0;
    measured.forEach((m, i) => {
      const msg = wanted[i] as S3Message;
      sizes.set(msg.id, m.size);
      this.announced.set(Number(msg.id), m.size);
      if (m.unreadable !== undefined) unreadable.push({ key: msg.key, err: describeS3Error(m.unreadable) });
      else if (!m.exact) guessed++;
    });
    if (unreadable.length > 0) {
      this.deps.logger.warn(
        { unreadable: unreadable.length, first: unreadable.slice(0, UNREADABLE_LOGGED) },
        's3: objects that cannot be read are listed with their stored size; RETR and TOP of them fail, the other messages are served',
      );
    }
    this.deps.logger.debug({ op: 'sizes', ms: Date.now() - started, resolved: sizes.size, guessed }, 's3: sizes resolved');
    return sizes;
  }

  async fetch(id: string, signal: AbortSignal): Promise<Readable> {
    const msg = this.message(id);
    this.readAhead ??= this.makeReadAhead();
    const early = await this.readAhead.take(id);
    if (early !== undefined) return early;
    try {
      return await this.deps.reader.open(msg, signal);
    } catch (err) {
      throw this.reported(err, msg);
    }
  }

  async fetchTop(id: string, lines: number, signal: AbortSignal): Promise<Readable> {
    const msg = this.message(id);
    const whole = msg.stored <= S3_TOP_FIRST_RANGE;
    try {
      const head = await this.deps.reader.read(msg, signal, whole ? undefined : { start: 0, end: S3_TOP_FIRST_RANGE - 1 });
      if (head.length >= msg.stored) {
        this.counted(msg, head);
        return new InMemoryMessage(head);
      }
      const top = new TopFilter(lines);
      top.push(head);
      if (top.done) return new InMemoryMessage(head);
      // The header and the lines asked for go past the first range: stream the rest from there;
      // the core stops reading (and closes the response) once it has them.
      const rest = await this.deps.reader.open(msg, signal, { start: head.length });
      return prepend(head, this.counting(msg, head, rest));
    } catch (err) {
      throw this.reported(err, msg);
    }
  }

  retrieved(id: string, size: number): void {
    const msg = this.message(id);
    const announced = this.announced.correct(Number(id), size);
    if (announced !== null) {
      this.deps.logger.warn({ key: msg.key, announced, streamed: size }, 's3: the announced size was wrong; cached the streamed size');
    }
    // What RETR sent is exact, whatever was announced (a probe's guess that was right included).
    if (this.deps.sizes.cached(msg)?.exact !== true) this.deps.sizes.remember(msg, size);
  }

  async commit(change: { readonly deleted: readonly string[] }): Promise<CommitResult> {
    const started = Date.now();
    const doomed = change.deleted.map((id) => this.message(id));
    const result = await applyCommit(this.deps.client, this.deps.bucket, this.deps.plan, doomed, this.deps.logger);
    // The core logs the failures by id; the reason names the key for the operator.
    const failed = result.failed.map((f) => ({ id: f.message.id, reason: `${f.message.key}: ${f.reason}` }));
    this.deps.logger.debug(
      { op: 'commit', mode: this.deps.plan.mode, ms: Date.now() - started, removed: result.removed, failed: failed.length },
      's3: update applied',
    );
    return { removed: result.removed, failed };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.done.abort();
    this.readAhead?.clear();
  }

  private message(id: string): S3Message {
    const msg = this.messages[Number(id)];
    if (msg === undefined || msg.id !== id) throw new StoreError('NOT_FOUND', 's3: no such message in this session');
    return msg;
  }

  /** Logs what an operator must know about a failed read (this message's own, or the tenant's). */
  private reported(err: unknown, msg: S3Message): unknown {
    if (err instanceof UnreadableObjectError) {
      this.deps.logger.warn(
        { key: msg.key, err: describeS3Error(err) },
        's3: this object cannot be read: RETR and TOP of it fail, the other messages are served',
      );
    } else {
      logOperatorProblem(this.deps.logger, err, 'object', { key: msg.key });
    }
    return err;
  }

  /**
   * A TOP that read the whole object knows its exact size, as RETR does: where this session's
   * size was a guess (or never measured), the count is kept for later sessions. The core calls
   * retrieved() only after RETR, and fetchmail downloads with TOP.
   */
  private counted(msg: S3Message, whole: Buffer): void {
    if (this.deps.sizes.cached(msg)?.exact === true) return;
    const counter = new CrlfSizeCounter();
    counter.push(whole);
    this.corrected(msg, counter.octets);
  }

  /** `rest` as is, counting it (with `head`) when a guess could be replaced by an exact size. */
  private counting(msg: S3Message, head: Buffer, rest: Readable): Readable {
    if (this.deps.sizes.cached(msg)?.exact === true) return rest;
    const counter = new CrlfSizeCounter();
    counter.push(head);
    rest.on('data', (chunk: Buffer) => counter.push(chunk));
    // Only a body read to its end is the whole message (the core destroys it once TOP has its lines).
    rest.once('end', () => this.corrected(msg, counter.octets));
    return rest;
  }

  private corrected(msg: S3Message, size: number): void {
    const announced = this.announced.get(Number(msg.id));
    if (announced !== null && announced !== size) {
      this.deps.logger.warn(
        { key: msg.key, announced, counted: size },
        's3: the announced size was wrong (a TOP read the whole message); cached the counted size',
      );
    }
    this.deps.sizes.remember(msg, size);
  }

  private makeReadAhead(): ReadAhead {
    // Read-ahead budgets the octets it holds: the stored sizes, known for every object.
    const stored = this.messages.map((m) => ({ id: m.id, uidl: '', size: m.stored }));
    const limits = { messages: READ_AHEAD_MESSAGES, maxMessage: READ_AHEAD_MAX_MESSAGE, budget: READ_AHEAD_BUDGET };
    return new ReadAhead(stored, limits, (ids) => this.loadMany(ids));
  }

  /** Read-ahead: the next small objects, a few requests at a time; null for any that fails. */
  private loadMany(ids: readonly string[]): ReadonlyMap<string, Promise<Buffer | null>> {
    const waiting = new Map<string, (data: Buffer | null) => void>();
    const promises = new Map<string, Promise<Buffer | null>>();
    for (const id of ids) promises.set(id, new Promise((resolve) => waiting.set(id, resolve)));
    void mapLimit(ids, S3_READ_AHEAD_CONCURRENCY, async (id) => {
      const resolve = waiting.get(id) as (data: Buffer | null) => void;
      try {
        resolve(this.done.signal.aborted ? null : await this.deps.reader.read(this.message(id), this.done.signal));
      } catch {
        // The normal fetch meets (and reports) the same failure.
        resolve(null);
      }
    });
    return promises;
  }
}
