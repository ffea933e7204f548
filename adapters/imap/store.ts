/**
 * IMAP backend: one connection per POP3 session, opened at login, closed at the end. imapflow
 * logs in and takes the snapshot, then hands the connection to an ImapChannel (see there why).
 */
import type { ImapFlow } from 'imapflow';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import type { ImapTenantConfig } from '../../src/config/schema.js';
import { ConfigError } from '../../src/errors.js';
import { SIZE_CACHE_ENTRIES, SNAPSHOT_CACHE_MESSAGES } from '../../src/limits.js';
import type { BackendLogin, MailStore, Maildrop, MessageInfo, SessionContext } from '../contract.js';
import { classifyImapError, connectImap, readCa, withTimeout } from './connect.js';
import { ImapDrop } from './drop.js';
import { SnapshotCache, type Describe } from './snapshot-cache.js';
import { ImapChannel } from './wire/channel.js';
import { imapUidl } from './uidl.js';

export class ImapStore implements MailStore {
  readonly kind = 'imap';
  private readonly ca: Buffer | undefined;
  /** True sizes of messages whose RFC822.SIZE was wrong, by mailbox key + UIDVALIDITY + UID. */
  private readonly sizeCache = new LRUCache<string, number>({ max: SIZE_CACHE_ENTRIES });
  private readonly snapshots = new SnapshotCache(SNAPSHOT_CACHE_MESSAGES);

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
  }

  lockKey(login: BackendLogin): string {
    return `imap:${this.cfg.host}:${this.cfg.port ?? ''}/${login.user}/${this.cfg.folder}`;
  }

  async open(login: BackendLogin, ctx: SessionContext): Promise<Maildrop> {
    const started = Date.now();
    const client = await connectImap(this.cfg, login, this.ca, this.sessionIdleMs);
    const onAbort = (): void => client.close();
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    try {
      const connectedMs = Date.now() - started;
      const timeout = this.cfg.commandTimeoutMs;
      const mailbox = await withTimeout(client, timeout, `opening ${this.cfg.folder}`, () =>
        client.mailboxOpen(this.cfg.folder, { readOnly: !this.cfg.markSeen }).catch((err: unknown) => {
          throw classifyImapError(err, `opening ${this.cfg.folder}`, 'PERMANENT');
        }),
      );
      const uidValidity = BigInt(mailbox.uidValidity);
      const mailboxKey = this.lockKey(login);
      const describe: Describe = (uid, size, emailId) => ({
        id: String(uid),
        uidl: imapUidl(this.cfg.uidlFormat, uidValidity, uid, emailId),
        size: this.sizeCache.get(this.sizeKey(mailboxKey, uidValidity, uid)) ?? size ?? null,
      });
      const snapshot = await withTimeout(client, timeout, 'taking the snapshot', () =>
        this.snapshots.snapshot(client, mailboxKey, { ...mailbox, uidValidity }, describe),
      );
      const { source } = snapshot;
      const messages = ctx.listSince === undefined ? snapshot.messages : await withTimeout(client, timeout, 'searching recent mail', () => arrivedSince(client, snapshot.messages, ctx.listSince as Date));
      ctx.signal.throwIfAborted();
      this.logger.debug(
        { session: ctx.sessionId, op: 'open', connectMs: connectedMs, ms: Date.now() - started, messages: messages.length, source },
        'imap: snapshot taken',
      );
      const logger = this.logger.child({ session: ctx.sessionId });
      return new ImapDrop(ImapChannel.takeOver(client, this.cfg.commandTimeoutMs, logger), this.cfg, {
        uidValidity,
        messages,
        logger,
        rememberSize: (uid, size) => {
          this.sizeCache.set(this.sizeKey(mailboxKey, uidValidity, uid), size);
          this.snapshots.forget(mailboxKey);
        },
      });
    } catch (err) {
      client.close();
      throw classifyImapError(err, 'taking the snapshot');
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
    }
  }

  private sizeKey(mailboxKey: string, uidValidity: bigint, uid: number): string {
    return `${mailboxKey}/${uidValidity}/${uid}`;
  }
}

/** Recent mode: the messages whose INTERNALDATE is on or after the day of `since` (IMAP SEARCH SINCE is by day). */
async function arrivedSince(client: ImapFlow, messages: readonly MessageInfo[], since: Date): Promise<MessageInfo[]> {
  const uids = await client.search({ since }, { uid: true });
  const recent = new Set((uids === false || uids === undefined ? [] : uids).map(String));
  return messages.filter((m) => recent.has(m.id));
}
