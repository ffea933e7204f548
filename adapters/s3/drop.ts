/** One POP3 session's view of a mailbox prefix: sizes on demand, streaming, TOP by range, UPDATE. */
import { setMaxListeners } from 'node:events';
import type { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Logger } from 'pino';
import { StoreError } from '../../src/errors.js';
import { READ_AHEAD_BUDGET, READ_AHEAD_MAX_MESSAGE, READ_AHEAD_MESSAGES, S3_READ_AHEAD_CONCURRENCY, S3_TOP_FIRST_RANGE } from '../../src/limits.js';
import { InMemoryMessage, type CommitResult, type Maildrop, type MessageInfo, type SizeResolver, type TopFetcher } from '../contract.js';
import { mapLimit } from '../shared/map-limit.js';
import { ReadAhead } from '../shared/read-ahead.js';
import { topLength } from '../shared/top-lines.js';
import { applyCommit, type CommitPlan } from './commit.js';
import { prepend, type ObjectReader, type S3Object } from './objects.js';
import type { CrlfSizes } from './sizes.js';

export interface S3DropDeps {
  readonly client: S3Client;
  readonly bucket: string;
  readonly reader: ObjectReader;
  readonly sizes: CrlfSizes;
  readonly plan: CommitPlan;
  readonly logger: Logger;
}

export class S3Drop implements Maildrop, SizeResolver, TopFetcher {
  readonly messages: readonly MessageInfo[];
  private readonly objects: ReadonlyMap<string, S3Object>;
  /** The sizes this session announced (listed or resolved), to check against what RETR sent. */
  private readonly announced = new Map<string, number>();
  private readonly readAhead: ReadAhead;
  /** Stops read-ahead requests still in flight when the session ends. */
  private readonly done = new AbortController();
  private closed = false;

  constructor(
    messages: readonly MessageInfo[],
    objects: readonly S3Object[],
    private readonly deps: S3DropDeps,
  ) {
    this.messages = messages;
    this.objects = new Map(objects.map((o) => [o.key, o]));
    for (const m of messages) if (m.size !== null) this.announced.set(m.id, m.size);
    // Read-ahead budgets the octets it holds: the stored sizes, known for every object now.
    const stored = objects.map((o) => ({ id: o.key, uidl: '', size: o.size }));
    const limits = { messages: READ_AHEAD_MESSAGES, maxMessage: READ_AHEAD_MAX_MESSAGE, budget: READ_AHEAD_BUDGET };
    this.readAhead = new ReadAhead(stored, limits, (ids) => this.loadMany(ids));
    setMaxListeners(S3_READ_AHEAD_CONCURRENCY * 2, this.done.signal);
  }

  async resolveSizes(ids: readonly string[], signal: AbortSignal): Promise<ReadonlyMap<string, number>> {
    const started = Date.now();
    const measured = await this.deps.sizes.resolve(ids.map((id) => this.object(id)), signal);
    const sizes = new Map<string, number>();
    let guessed = 0;
    for (const [id, m] of measured) {
      sizes.set(id, m.size);
      this.announced.set(id, m.size);
      if (!m.exact) guessed++;
    }
    this.deps.logger.debug({ op: 'sizes', ms: Date.now() - started, resolved: sizes.size, fromContentLength: guessed }, 's3: sizes resolved');
    return sizes;
  }

  async fetch(id: string, signal: AbortSignal): Promise<Readable> {
    const early = await this.readAhead.take(id);
    if (early !== undefined) return early;
    return this.deps.reader.open(this.object(id), signal);
  }

  async fetchTop(id: string, lines: number, signal: AbortSignal): Promise<Readable> {
    const obj = this.object(id);
    const whole = obj.size <= S3_TOP_FIRST_RANGE;
    const head = await this.deps.reader.read(obj, signal, whole ? undefined : { start: 0, end: S3_TOP_FIRST_RANGE - 1 });
    if (head.length >= obj.size || topLength(head, lines) !== undefined) return new InMemoryMessage(head);
    // The header and the lines asked for go past the first range: stream the rest from there;
    // the core stops reading (and closes the response) once it has them.
    return prepend(head, await this.deps.reader.open(obj, signal, { start: head.length }));
  }

  retrieved(id: string, size: number): void {
    const announced = this.announced.get(id);
    const obj = this.objects.get(id);
    if (obj === undefined || announced === size) return;
    this.deps.logger.warn({ key: id, announced, streamed: size }, 's3: the announced size was wrong; cached the streamed size');
    this.deps.sizes.remember(obj, size);
    this.announced.set(id, size);
  }

  async commit(change: { readonly deleted: readonly string[] }): Promise<CommitResult> {
    const started = Date.now();
    const result = await applyCommit(this.deps.client, this.deps.bucket, this.deps.plan, change.deleted.map((id) => this.object(id)), this.deps.logger);
    this.deps.logger.debug({ op: 'commit', mode: this.deps.plan.mode, ms: Date.now() - started, removed: result.removed, failed: result.failed.length }, 's3: update applied');
    return result;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.done.abort();
    this.readAhead.clear();
  }

  private object(id: string): S3Object {
    const obj = this.objects.get(id);
    if (obj === undefined) throw new StoreError('NOT_FOUND', 's3: no such key in this session');
    return obj;
  }

  /** Read-ahead: the next small objects, a few requests at a time; null for any that fails. */
  private loadMany(ids: readonly string[]): ReadonlyMap<string, Promise<Buffer | null>> {
    const waiting = new Map<string, (data: Buffer | null) => void>();
    const promises = new Map<string, Promise<Buffer | null>>();
    for (const id of ids) promises.set(id, new Promise((resolve) => waiting.set(id, resolve)));
    void mapLimit(ids, S3_READ_AHEAD_CONCURRENCY, async (id) => {
      const resolve = waiting.get(id) as (data: Buffer | null) => void;
      try {
        resolve(this.done.signal.aborted ? null : await this.deps.reader.read(this.object(id), this.done.signal));
      } catch {
        // The normal fetch meets (and reports) the same failure.
        resolve(null);
      }
    });
    return promises;
  }
}
