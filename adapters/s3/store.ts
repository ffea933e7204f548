/**
 * S3 backend: each mailbox is the objects under a key prefix of one bucket (raw messages, as
 * AWS SES receipt rules and other MTA pipelines write them). One S3Client per tenant.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { Logger } from 'pino';
import { ConfigError, type AdapterDeps, type BackendLogin, type MailStore, type Maildrop, type SessionContext } from '../contract.js';
import { KnownSizes } from '../shared/known-sizes.js';
import { uidlFromHandle } from '../shared/uidl.js';
import { createS3Client } from './client.js';
import type { S3TenantConfig } from './config.js';
import type { CommitPlan } from './commit.js';
import { S3Drop, type S3Message } from './drop.js';
import { classifyS3Error, logOperatorProblem } from './errors.js';
import { S3_SIZE_CACHE_BYTES, S3_SIZE_CACHE_ENTRY_OVERHEAD } from './limits.js';
import { listMailbox } from './listing.js';
import { ObjectReader } from './objects.js';
import { overlapProblem, renderPrefix, userSegmentsOf } from './prefix.js';
import { SizeCache } from './size-cache.js';
import { CrlfSizes } from './sizes.js';

export class S3Store implements MailStore {
  readonly kind = 's3';
  private readonly client: S3Client;
  private readonly reader: ObjectReader;
  /** CRLF sizes by key + ETag (an object version never changes), shared by the tenant's sessions. */
  private readonly sizes: CrlfSizes;
  private readonly moveTemplate: string | undefined;
  /** Path segments of `{user}` for every login of this tenant (see prefix.ts). */
  private readonly userSegments: number;
  private readonly logger: Logger;

  constructor(
    private readonly cfg: S3TenantConfig,
    deps: AdapterDeps,
  ) {
    this.logger = deps.logger;
    this.moveTemplate = cfg.deleteMode.startsWith('move:') ? cfg.deleteMode.slice('move:'.length) : undefined;
    const overlap = this.moveTemplate === undefined ? undefined : overlapProblem(cfg.prefix, this.moveTemplate);
    if (overlap !== undefined) {
      // One user's archive could be another user's mailbox (or the next listing would find the
      // moved messages again): refused before any session can open.
      throw new ConfigError([`deleteMode: the move prefix and the mailbox prefix must not overlap: ${overlap}`]);
    }
    this.userSegments = userSegmentsOf(cfg.userName);
    this.client = createS3Client(cfg, deps.sessionIdleMs);
    this.reader = new ObjectReader(this.client, cfg.bucket);
    const known = new KnownSizes(
      { kind: 's3', stateDir: cfg.stateDir, memory: { maxOctets: S3_SIZE_CACHE_BYTES, entryOverhead: S3_SIZE_CACHE_ENTRY_OVERHEAD } },
      deps,
    );
    this.sizes = new CrlfSizes(new SizeCache(known), this.reader, cfg.sizes);
  }

  lockKey(login: BackendLogin): string {
    return `s3:${this.cfg.endpoint ?? this.cfg.region}/${this.cfg.bucket}/${renderPrefix(this.cfg.prefix, login, this.userSegments)}`;
  }

  async open(login: BackendLogin, ctx: SessionContext): Promise<Maildrop> {
    const started = Date.now();
    const prefix = renderPrefix(this.cfg.prefix, login, this.userSegments);
    const plan = this.commitPlan(prefix, login);
    let listing;
    try {
      listing = await listMailbox(this.client, this.cfg.bucket, prefix, ctx.signal, ctx.listSince);
    } catch (err) {
      // Not the POP3 user's fault: the gateway's credentials refused, the wrong region, no free
      // connection. The client gets [SYS/PERM] or [SYS/TEMP]; the log says what to change.
      logOperatorProblem(this.logger, err, 'mailbox', { session: ctx.sessionId, bucket: this.cfg.bucket });
      throw classifyS3Error(err, `listing ${prefix}`, 'mailbox');
    }
    const exact = await this.sizes.exact(listing.objects);
    let unknown = 0;
    const messages = listing.objects.map((o, i): S3Message => {
      const size = exact[i] ?? null;
      if (size === null) unknown++;
      return {
        id: String(i),
        // Relative to the prefix: stable while the mailbox is moved to another prefix as a whole.
        uidl: uidlFromHandle(o.key.slice(prefix.length)),
        size,
        key: o.key,
        etag: o.etag,
        stored: o.stored,
      };
    });
    this.logger.debug(
      {
        session: ctx.sessionId,
        op: 'open',
        ms: Date.now() - started,
        messages: messages.length,
        pages: listing.pages,
        skipped: listing.skipped,
        unknownSizes: unknown,
      },
      's3: listing taken',
    );
    return new S3Drop(messages, {
      client: this.client,
      bucket: this.cfg.bucket,
      reader: this.reader,
      sizes: this.sizes,
      plan,
      logger: this.logger.child({ session: ctx.sessionId }),
    });
  }

  async shutdown(): Promise<void> {
    await this.sizes.flush();
    this.client.destroy();
  }

  private commitPlan(prefix: string, login: BackendLogin): CommitPlan {
    if (this.moveTemplate !== undefined) return { mode: 'move', from: prefix, to: renderPrefix(this.moveTemplate, login, this.userSegments) };
    return { mode: this.cfg.deleteMode === 'keep' ? 'keep' : 'delete' };
  }
}
