/**
 * Gmail backend (Gmail API v1): each mailbox is a user's messages with a label (INBOX) or
 * matching a search. One connection pool, token source and size cache per tenant.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Agent } from 'undici';
import { ConfigError, type BackendLogin, type MailStore, type Maildrop, type MessageInfo, type SessionContext } from '../contract.js';
import { readServiceAccountKey, ServiceAccountTokens } from '../shared/google-service-account.js';
import { loggableName } from '../shared/log-text.js';
import { SizeStore } from '../shared/size-store.js';
import type { TokenSource } from '../shared/token-source.js';
import { uidlFromHandle } from '../shared/uidl.js';
import { createGmailAgent, GmailClient } from './client.js';
import { scopeFor, type GmailTenantConfig } from './config.js';
import { GmailDrop } from './drop.js';
import { classifyGmailError, logOperatorProblem } from './errors.js';
import { GMAIL_SIZE_CACHE_ENTRIES } from './limits.js';
import { listMailbox, type ListingScope } from './listing.js';
import { MessageReader } from './messages.js';
import { PassthroughTokens } from './passthrough-token.js';
import { GmailSizes } from './sizes.js';

/** The size file in `stateDir`. */
export const GMAIL_SIZE_FILE = 'gmail-sizes.jsonl';

export class GmailStore implements MailStore {
  readonly kind = 'gmail';
  private readonly agent: Agent;
  private readonly client: GmailClient;
  private readonly reader: MessageReader;
  private readonly sizeStore: SizeStore;
  private readonly sizes: GmailSizes;
  private readonly scope: ListingScope;

  constructor(
    private readonly cfg: GmailTenantConfig,
    private readonly logger: Logger,
    /** The gateway's tokens for `auth: grant` (the account's linked grant). */
    private readonly grantTokens?: TokenSource,
  ) {
    this.agent = createGmailAgent(cfg);
    this.client = new GmailClient(cfg, this.agent, this.tokenSource(), logger);
    this.reader = new MessageReader(this.client);
    this.sizeStore = new SizeStore(cfg.stateDir === undefined ? undefined : join(cfg.stateDir, GMAIL_SIZE_FILE), GMAIL_SIZE_CACHE_ENTRIES, (err) =>
      logger.error({ err: err.message }, 'gmail: cannot write the size file: sizes are measured again after a restart; check stateDir'),
    );
    this.sizes = new GmailSizes(this.sizeStore, this.reader, cfg.maxInFlightPerUser);
    this.scope = { label: cfg.label, query: cfg.query };
  }

  lockKey(login: BackendLogin): string {
    return `gmail:${this.cfg.baseUrl}/${login.user.toLowerCase()}`;
  }

  async open(login: BackendLogin, ctx: SessionContext): Promise<Maildrop> {
    const started = Date.now();
    const renewable = this.client.tokens.renewable;
    let listing;
    try {
      await this.sizes.ready();
      listing = await listMailbox(this.client, login, this.scope, ctx.listSince, ctx.signal);
    } catch (err) {
      logOperatorProblem(this.logger, err, renewable, { session: ctx.sessionId, user: loggableName(login.user) });
      throw classifyGmailError(err, 'listing the mailbox', 'mailbox', renewable);
    }
    let unknown = 0;
    const messages = listing.ids.map((id): MessageInfo => {
      const size = this.sizes.cached(login, id) ?? null;
      if (size === null) unknown++;
      return { id, uidl: uidlFromHandle(id), size };
    });
    this.logger.debug(
      { session: ctx.sessionId, op: 'open', ms: Date.now() - started, messages: messages.length, pages: listing.pages, unknownSizes: unknown },
      'gmail: listing taken',
    );
    return new GmailDrop(messages, {
      client: this.client,
      reader: this.reader,
      sizes: this.sizes,
      login,
      deleteMode: this.cfg.deleteMode,
      logger: this.logger.child({ session: ctx.sessionId }),
    });
  }

  async shutdown(): Promise<void> {
    await this.sizeStore.flush();
    await this.agent.destroy();
  }

  private tokenSource(): TokenSource {
    if (this.cfg.auth === 'passthrough') return new PassthroughTokens();
    if (this.cfg.auth === 'grant') {
      if (this.grantTokens === undefined) throw new ConfigError(['auth: grant needs the gateway to hand the store a token source']);
      return this.grantTokens;
    }
    const account = readServiceAccountKey(this.cfg.serviceAccountKey as string);
    if (typeof account === 'string') throw new ConfigError([`serviceAccountKey: ${account}`]);
    return new ServiceAccountTokens(account, this.cfg.tokenUrl, scopeFor(this.cfg), this.agent, this.logger);
  }
}
