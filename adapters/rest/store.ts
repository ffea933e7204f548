/**
 * A mail store behind the open HTTP contract in openapi.yaml. One HTTP client (connection pool)
 * and one size cache per tenant, shared by all its sessions.
 */
import type { Logger } from 'pino';
import type { AdapterDeps, BackendLogin, MailStore, Maildrop, SessionContext } from '../contract.js';
import { KnownSizes } from '../shared/known-sizes.js';
import { uidlFromHandle } from '../shared/uidl.js';
import type { CommitPlan } from './commit.js';
import type { RestTenantConfig } from './config.js';
import { RestDrop, type RestMessage } from './drop.js';
import { classifyRestError, describeRestError, operatorHint } from './errors.js';
import { RestClient } from './http.js';
import { REST_SIZE_CACHE_BYTES, REST_SIZE_CACHE_ENTRY_OVERHEAD } from './limits.js';
import { listMailbox } from './listing.js';
import { renderMailbox } from './mailbox-name.js';
import { MessageReader } from './messages.js';
import { authorizer, type SessionAuth } from './secret.js';
import { SizeCache } from './size-cache.js';

export class RestStore implements MailStore {
  readonly kind = 'rest';
  private readonly client: RestClient;
  private readonly sizes: SizeCache;
  private readonly authorization: (login: BackendLogin) => SessionAuth;
  /** The store checks the POP3 password: a 401 is the user's, not the operator's. */
  private readonly passthrough: boolean;
  private readonly logger: Logger;

  constructor(
    private readonly cfg: RestTenantConfig,
    deps: AdapterDeps,
  ) {
    this.logger = deps.logger;
    this.sizes = new SizeCache(
      new KnownSizes(
        { kind: 'rest', stateDir: cfg.stateDir, memory: { maxOctets: REST_SIZE_CACHE_BYTES, entryOverhead: REST_SIZE_CACHE_ENTRY_OVERHEAD } },
        deps,
      ),
    );
    this.authorization = authorizer(cfg, deps.tokens);
    this.passthrough = cfg.auth === 'passthrough';
    this.client = new RestClient({
      baseUrl: cfg.baseUrl,
      maxSockets: cfg.maxSockets,
      requestTimeoutMs: cfg.requestTimeoutMs,
      maxAttempts: cfg.maxAttempts,
      // A body is read at the POP3 client's pace: quiet for as long as the client may be.
      bodyIdleMs: deps.sessionIdleMs + 60_000,
    });
  }

  lockKey(login: BackendLogin): string {
    return `rest:${this.cfg.baseUrl}/mailboxes/${renderMailbox(this.cfg.mailbox, login)}`;
  }

  async open(login: BackendLogin, ctx: SessionContext): Promise<Maildrop> {
    const started = Date.now();
    const mailbox = renderMailbox(this.cfg.mailbox, login);
    const auth = this.authorization(login);
    let listing;
    try {
      listing = await listMailbox(this.client, mailbox, auth, this.cfg.pageSize, ctx.signal, ctx.listSince);
    } catch (err) {
      const hint = operatorHint(err, this.passthrough);
      if (hint !== undefined) this.logger.error({ session: ctx.sessionId, err: describeRestError(err) }, hint);
      throw classifyRestError(err, `listing mailbox ${mailbox}`, 'mailbox', this.passthrough);
    }
    const sizes = this.sizes.of(mailbox);
    const unsized = listing.items.filter((item) => item.size === undefined);
    const found = await sizes.known(unsized.map((item) => ({ restId: item.id, etag: item.etag })));
    const cached = new Map(unsized.map((item, j) => [item.id, found[j]]));
    let unknown = 0;
    const messages = listing.items.map((item, i): RestMessage => {
      const size = item.size ?? cached.get(item.id) ?? null;
      if (size === null) unknown++;
      return { id: String(i), uidl: uidlFromHandle(item.id), size, restId: item.id, etag: item.etag };
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
      'rest: listing taken',
    );
    return new RestDrop(messages, {
      client: this.client,
      mailbox,
      auth,
      reader: new MessageReader(this.client, mailbox, auth),
      sizes,
      plan: this.commitPlan(login),
      credentialsChecked: this.passthrough,
      logger: this.logger.child({ session: ctx.sessionId }),
    });
  }

  async shutdown(): Promise<void> {
    await this.sizes.flush();
    await this.client.close();
  }

  private commitPlan(login: BackendLogin): CommitPlan {
    const mode = this.cfg.deleteMode;
    if (mode.startsWith('move:')) return { mode: 'move', destination: decodeURIComponent(renderMailbox(mode.slice('move:'.length), login)) };
    return { mode: mode === 'keep' ? 'keep' : 'delete' };
  }
}
