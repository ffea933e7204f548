/**
 * Gmail backend (Gmail API v1): each mailbox is a user's messages with a label (INBOX) or
 * matching a search. One connection pool, token source and size cache per tenant.
 */
import type { Logger } from 'pino';
import type { Agent } from 'undici';
import { ConfigError, type AdapterDeps, type BackendLogin, type MailStore, type Maildrop, type MessageInfo, type SessionContext } from '../contract.js';
import { readServiceAccountKey, ServiceAccountTokens } from '../shared/google-service-account.js';
import { loggableName } from '../shared/log-text.js';
import { KnownSizes } from '../shared/known-sizes.js';
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

export class GmailStore implements MailStore {
  readonly kind = 'gmail';
  private readonly agent: Agent;
  private readonly client: GmailClient;
  private readonly reader: MessageReader;
  private readonly knownSizes: KnownSizes;
  private readonly sizes: GmailSizes;
  private readonly scope: ListingScope;
  private readonly logger: Logger;
  /** The gateway's tokens for `auth: grant` (the account's linked grant). */
  private readonly grantTokens: TokenSource | undefined;

  constructor(
    private readonly cfg: GmailTenantConfig,
    deps: AdapterDeps,
  ) {
    this.logger = deps.logger;
    this.grantTokens = deps.tokens;
    this.agent = createGmailAgent(cfg);
    this.client = new GmailClient(cfg, this.agent, this.tokenSource(), this.logger);
    this.reader = new MessageReader(this.client);
    this.knownSizes = new KnownSizes({ kind: 'gmail', stateDir: cfg.stateDir, memory: { maxEntries: GMAIL_SIZE_CACHE_ENTRIES } }, deps);
    this.sizes = new GmailSizes(this.knownSizes, this.reader, cfg.maxInFlightPerUser);
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
      listing = await listMailbox(this.client, login, this.scope, ctx.listSince, ctx.signal);
    } catch (err) {
      logOperatorProblem(this.logger, err, renewable, 'read', { session: ctx.sessionId, user: loggableName(login.user) });
      throw classifyGmailError(err, 'listing the mailbox', 'mailbox', renewable);
    }
    const known = await this.sizes.known(login, listing.ids);
    let unknown = 0;
    const messages = listing.ids.map((id, i): MessageInfo => {
      const size = known[i] ?? null;
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
    await this.knownSizes.flush();
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
