/**
 * Logged-in IMAP connections kept for a while after their POP3 session ended, one per mailbox,
 * so the account's next session (devices poll the same account every few minutes) skips the
 * connect, TLS and LOGIN: it re-opens the folder on the kept connection, and an unchanged
 * mailbox costs that one round trip. A kept connection is handed only to a login with the same
 * credentials, compared as keyed hashes (HMAC-SHA-256 under a key that lives in this process
 * only); no password or token is kept. The backend does not check a reused login again: a
 * password changed or a token revoked there takes effect once the kept connection expires.
 * Bounded per tenant; when full, the connection idle the longest is closed first.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { BackendLogin } from '../contract.js';
import { IMAP_LOGOUT_TIMEOUT_MS } from './limits.js';
import type { ImapChannel } from './wire/channel.js';

interface Kept {
  readonly channel: ImapChannel;
  readonly fingerprint: Buffer;
  readonly timer: NodeJS.Timeout;
}

export interface IdleConnectionCounts {
  /** Connections handed to a later session. */
  readonly reused: number;
  /** Closed unused: expired, pushed out by newer ones, or lost meanwhile. */
  readonly closedUnused: number;
  /** Kept now. */
  readonly kept: number;
}

export class IdleConnections {
  /** In the order they were kept: the first is the one idle the longest. */
  private readonly kept = new Map<string, Kept>();
  private readonly key = randomBytes(32);
  private reused = 0;
  private closedUnused = 0;

  constructor(
    private readonly keepMs: number,
    private readonly max: number,
  ) {}

  get counts(): IdleConnectionCounts {
    return { reused: this.reused, closedUnused: this.closedUnused, kept: this.kept.size };
  }

  /** What a kept connection is matched against: never the secret itself. */
  fingerprint(login: BackendLogin): Buffer {
    const secret = login.accessToken !== undefined ? `token\0${login.accessToken}` : `password\0${login.password ?? ''}`;
    return createHmac('sha256', this.key).update(`${login.user}\0${secret}`).digest();
  }

  /** Keeps the connection of a session that ended for `mailboxKey`; false when it cannot be kept (then the caller logs out). */
  keep(mailboxKey: string, fingerprint: Buffer, channel: ImapChannel): boolean {
    if (!channel.idle) return false;
    this.close(mailboxKey);
    while (this.kept.size >= this.max) this.close(this.kept.keys().next().value as string);
    const timer = setTimeout(() => this.close(mailboxKey, channel), this.keepMs);
    timer.unref();
    this.kept.set(mailboxKey, { channel, fingerprint, timer });
    return true;
  }

  /** The connection kept for `mailboxKey`, if it was logged in with credentials of this fingerprint and still works. */
  take(mailboxKey: string, fingerprint: Buffer): ImapChannel | undefined {
    const kept = this.kept.get(mailboxKey);
    // Other credentials (a wrong or a changed password): the backend must check them; the kept one stays.
    if (kept === undefined || !timingSafeEqual(kept.fingerprint, fingerprint)) return undefined;
    this.kept.delete(mailboxKey);
    clearTimeout(kept.timer);
    if (!kept.channel.idle) {
      this.closedUnused++;
      void kept.channel.logout(IMAP_LOGOUT_TIMEOUT_MS);
      return undefined;
    }
    this.reused++;
    return kept.channel;
  }

  async closeAll(): Promise<void> {
    const all = [...this.kept.values()];
    this.kept.clear();
    for (const k of all) clearTimeout(k.timer);
    this.closedUnused += all.length;
    await Promise.all(all.map((k) => k.channel.logout(IMAP_LOGOUT_TIMEOUT_MS)));
  }

  /** Closes what is kept for `mailboxKey` (only if it is still `channel`, when given). */
  private close(mailboxKey: string, channel?: ImapChannel): void {
    const kept = this.kept.get(mailboxKey);
    if (kept === undefined || (channel !== undefined && kept.channel !== channel)) return;
    this.kept.delete(mailboxKey);
    clearTimeout(kept.timer);
    this.closedUnused++;
    void kept.channel.logout(IMAP_LOGOUT_TIMEOUT_MS);
  }
}
