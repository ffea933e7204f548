/**
 * IMAP backend: one connection per POP3 session, opened at login, closed at the end (or, with
 * `connectionReuse`, kept a while for the account's next session). imapflow logs in and opens
 * the folder, then hands the connection to an ImapChannel (see there why), which takes the
 * snapshot and serves the session.
 */
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import { ConfigError, StoreError, type BackendLogin, type MailStore, type Maildrop, type MessageInfo, type SessionContext } from '../contract.js';
import { SIZE_CACHE_ENTRIES, SNAPSHOT_CACHE_MESSAGES } from '../shared/limits.js';
import type { ImapTenantConfig } from './config.js';
import { classifyImapError, connectImap, readCa, withTimeout } from './connect.js';
import { ImapDrop } from './drop.js';
import { IdleConnections, type IdleConnectionCounts } from './idle-connections.js';
import { SnapshotCache, type Describe } from './snapshot-cache.js';
import { imapUidl } from './uidl.js';
import { ImapChannel } from './wire/channel.js';
import { reopenFolder, type FolderState } from './wire/reopen.js';
import { uidSearch } from './wire/search.js';

export class ImapStore implements MailStore {
  readonly kind = 'imap';
  private readonly ca: Buffer | undefined;
  /** True sizes of messages whose RFC822.SIZE was wrong, by mailbox key + UIDVALIDITY + UID. */
  private readonly sizeCache = new LRUCache<string, number>({ max: SIZE_CACHE_ENTRIES });
  private readonly snapshots = new SnapshotCache(SNAPSHOT_CACHE_MESSAGES);
  /** Logged-in connections kept after a session for the account's next one (`connectionReuse`); none when off. */
  private readonly idle: IdleConnections | undefined;

  constructor(
    private readonly cfg: ImapTenantConfig,
    private readonly logger: Logger,
    private readonly sessionIdleMs: number,
  ) {
    try {
      this.ca = readCa(cfg);
    } catch (err) {
      throw new ConfigError([`ca: cannot read ${cfg.ca}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`]);
    }
    const reuse = cfg.connectionReuse;
    this.idle = reuse.seconds > 0 ? new IdleConnections(reuse.seconds * 1000, reuse.maxIdle) : undefined;
  }

  /** Counts of the kept connections (for metrics); undefined when `connectionReuse` is off. */
  get idleConnections(): IdleConnectionCounts | undefined {
    return this.idle?.counts;
  }

  lockKey(login: BackendLogin): string {
    return `imap:${this.cfg.host}:${this.cfg.port ?? ''}/${login.user}/${this.cfg.folder}`;
  }

  async open(login: BackendLogin, ctx: SessionContext): Promise<Maildrop> {
    const started = Date.now();
    const logger = this.logger.child({ session: ctx.sessionId });
    const mailboxKey = this.lockKey(login);
    const fingerprint = this.idle?.fingerprint(login);
    const kept = fingerprint === undefined ? undefined : await this.reuse(mailboxKey, fingerprint, ctx, logger);
    const { channel, mailbox } = kept ?? (await this.connect(login, ctx, logger));
    const connectedMs = Date.now() - started;
    const cut = (): void => channel.fail(new StoreError('TEMPORARY', 'imap: the POP3 session ended during login'));
    ctx.signal.addEventListener('abort', cut, { once: true });
    try {
      const uidValidity = mailbox.uidValidity;
      const describe: Describe = (uid, size, emailId) => ({
        id: String(uid),
        uidl: imapUidl(this.cfg.uidlFormat, uidValidity, uid, emailId),
        size: this.sizeCache.get(this.sizeKey(mailboxKey, uidValidity, uid)) ?? size ?? null,
      });
      const snapshot = await this.snapshots.snapshot(channel, mailboxKey, { ...mailbox, uidValidity }, describe);
      const { source } = snapshot;
      const messages = ctx.listSince === undefined ? snapshot.messages : await arrivedSince(channel, snapshot.messages, ctx.listSince);
      ctx.signal.throwIfAborted();
      const connection = kept === undefined ? 'new' : 'reused';
      logger.debug({ op: 'open', connection, connectMs: connectedMs, ms: Date.now() - started, messages: messages.length, source }, 'imap: snapshot taken');
      const idle = this.idle;
      return new ImapDrop(channel, this.cfg, {
        uidValidity,
        messages,
        logger,
        rememberSize: (uid, size) => {
          this.sizeCache.set(this.sizeKey(mailboxKey, uidValidity, uid), size);
          this.snapshots.forget(mailboxKey);
        },
        ...(idle !== undefined && fingerprint !== undefined && { keep: () => idle.keep(mailboxKey, fingerprint, channel) }),
      });
    } catch (err) {
      const failure = classifyImapError(err, 'taking the snapshot');
      channel.fail(failure);
      throw failure;
    } finally {
      ctx.signal.removeEventListener('abort', cut);
    }
  }

  async shutdown(): Promise<void> {
    await this.idle?.closeAll();
  }

  /** A new connection: connect, TLS, login, folder opened by imapflow, then handed to a channel. */
  private async connect(login: BackendLogin, ctx: SessionContext, logger: Logger): Promise<{ channel: ImapChannel; mailbox: FolderState }> {
    const client = await connectImap(this.cfg, login, this.ca, this.sessionIdleMs, ctx);
    if (ctx.signal.aborted) {
      client.close();
      throw new StoreError('TEMPORARY', 'imap: the POP3 session ended during login');
    }
    const closeClient = (): void => client.close();
    ctx.signal.addEventListener('abort', closeClient, { once: true });
    try {
      const mailbox = await withTimeout(client, this.cfg.commandTimeoutMs, `opening ${this.cfg.folder}`, () =>
        client.mailboxOpen(this.cfg.folder, { readOnly: !this.cfg.markSeen }).catch((err: unknown) => {
          throw classifyImapError(err, `opening ${this.cfg.folder}`, 'PERMANENT');
        }),
      );
      const channel = ImapChannel.takeOver(client, this.cfg.commandTimeoutMs, logger);
      return { channel, mailbox: { uidValidity: BigInt(mailbox.uidValidity), highestModseq: mailbox.highestModseq, exists: mailbox.exists } };
    } catch (err) {
      client.close();
      throw classifyImapError(err, 'opening the folder');
    } finally {
      ctx.signal.removeEventListener('abort', closeClient);
    }
  }

  /** The connection an earlier session of this account left, with its folder open again; undefined when there is none that works. */
  private async reuse(
    mailboxKey: string,
    fingerprint: Buffer,
    ctx: SessionContext,
    logger: Logger,
  ): Promise<{ channel: ImapChannel; mailbox: FolderState } | undefined> {
    const channel = this.idle?.take(mailboxKey, fingerprint);
    if (channel === undefined) return undefined;
    channel.useLogger(logger);
    const cut = (): void => channel.fail(new StoreError('TEMPORARY', 'imap: the POP3 session ended during login'));
    ctx.signal.addEventListener('abort', cut, { once: true });
    try {
      return { channel, mailbox: await reopenFolder(channel, !this.cfg.markSeen) };
    } catch (err) {
      ctx.signal.throwIfAborted();
      // The server closed it meanwhile, or refuses the folder now: a new connection says which.
      logger.debug({ err: (err as Error).message }, 'imap: a kept connection failed; connecting anew');
      channel.fail(new StoreError('TEMPORARY', 'imap: kept connection failed'));
      return undefined;
    } finally {
      ctx.signal.removeEventListener('abort', cut);
    }
  }

  private sizeKey(mailboxKey: string, uidValidity: bigint, uid: number): string {
    return `${mailboxKey}/${uidValidity}/${uid}`;
  }
}

/** Recent mode: the messages whose INTERNALDATE is on or after the day of `since` (IMAP SEARCH SINCE is by day). */
async function arrivedSince(channel: ImapChannel, messages: readonly MessageInfo[], since: Date): Promise<MessageInfo[]> {
  const recent = await uidSearch(channel, `SINCE ${imapDate(since)}`, 'searching recent mail');
  return messages.filter((m) => recent.has(Number(m.id)));
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** RFC 3501 date (`05-Nov-2026`) of the UTC day, as imapflow formats it. */
function imapDate(d: Date): string {
  return `${String(d.getUTCDate()).padStart(2, '0')}-${MONTHS[d.getUTCMonth()] as string}-${d.getUTCFullYear()}`;
}
