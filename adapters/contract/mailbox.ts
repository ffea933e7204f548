/**
 * The mailbox half of the adapter contract: what a POP3 session asks of a backend.
 *
 * Grouped by POP3 session state. An adapter never sees POP3 syntax (no dot-stuffing, no
 * message numbers); the core never sees backend handles other than the opaque `id`.
 * Written once for every backend:
 *  - Maildir: sizes from file names or computed once; unlink at UPDATE.
 *  - IMAP: sizes from RFC822.SIZE (verified while streaming); UID EXPUNGE at UPDATE.
 *  - S3: listings arrive in pages (1,000 keys each); LF objects are larger on the wire;
 *    DeleteObjects works in batches of 1,000 and can fail partially.
 *  - memory: messages given in the config; for demos and the contract suite.
 * Sizes unknown until a message is read (LF objects; an HTTP store's size estimates) are why
 * `size` may be null.
 */
import { Readable } from 'node:stream';

/** One message of the login snapshot. */
export interface MessageInfo {
  /** Backend handle: IMAP UID, S3 key, Maildir base name, an HTTP store's message id. Opaque to the core. */
  readonly id: string;
  /** RFC 1939 unique-id: 1-70 octets in 0x21-0x7E, the same in every session. */
  readonly uidl: string;
  /**
   * Exact octets of the message with CRLF line ends, before dot-stuffing and excluding the
   * CRLF the core adds to a message that does not end in one. `null` when the backend cannot
   * know it without reading the message: the core then asks {@link SizeResolver}.
   */
  readonly size: number | null;
}

/** Who the backend should open, after the gateway has routed (and maybe verified) the login. */
export interface BackendLogin {
  /** The user name the backend sees (routing may have stripped or rewritten the login name). */
  readonly user: string;
  /** The login's local part as routed (`john` of `john@example.com`), for adapter path templates. */
  readonly local?: string;
  /** The domain that routed the login (lower-case A-label), when it had one. */
  readonly domain?: string;
  /** Present only for backends that verify the password themselves (IMAP passthrough). */
  readonly password?: string;
  /** An OAuth access token: the client's own (passed through) or one the gateway minted (grant, app-only). */
  readonly accessToken?: string;
  /**
   * The gateway account whose stored OAuth grant opens this mailbox (tenants whose auth names an
   * identity provider): what the gateway's token source (AdapterDeps.tokens) renews tokens by.
   */
  readonly account?: string;
}

/** Facts about the POP3 session that an adapter may log or use; never secrets. */
export interface SessionContext {
  readonly sessionId: string;
  /** The POP3 client's address (behind a trusted proxy: the one its PROXY header gave). */
  readonly remoteAddress: string;
  readonly remotePort?: number;
  readonly tenant: string;
  /**
   * Gmail-style "recent mode" (`recent:` login prefix): list only messages received at or after
   * this time, whatever earlier sessions did. Adapters filter by delivery/arrival time.
   */
  readonly listSince?: Date;
  /** Aborted when the client goes away or the server shuts down. */
  readonly signal: AbortSignal;
}

// ---------------------------------------------------------------- AUTHORIZATION -> TRANSACTION

/** A configured backend (one per tenant). Opens one maildrop per POP3 session. */
export interface MailStore {
  /** Adapter name as used in config, e.g. `maildir`. */
  readonly kind: string;
  /**
   * Authenticates (if the backend does that) and snapshots the message list.
   * @throws StoreError with code AUTH_FAILED | TEMPORARY | PERMANENT
   */
  open(login: BackendLogin, ctx: SessionContext): Promise<Maildrop>;
  /** Identity used for the maildrop lock: two logins that open the same mailbox share it. */
  lockKey(login: BackendLogin): string;
  /** Releases pools, caches, watchers. */
  shutdown?(): Promise<void>;
}

// ---------------------------------------------------------------- TRANSACTION

/** One user's mailbox for one session. The message list never changes after open(). */
export interface Maildrop {
  /** Fixed at open(); message number n is `messages[n - 1]`. */
  readonly messages: readonly MessageInfo[];
  /**
   * The raw message bytes (LF or CRLF line ends). The stream may fail at any point; the core
   * then closes the POP3 connection without the terminating dot.
   * @throws StoreError NOT_FOUND when the message vanished since the snapshot.
   */
  fetch(id: string, signal: AbortSignal): Promise<Readable>;
  /**
   * Called after RETR sent a whole message, with the exact CRLF size that was streamed: the
   * adapter can correct (and cache) a size it reported wrongly, or mark the message as read.
   */
  retrieved?(id: string, size: number): void;
  /**
   * UPDATE state: remove these messages. Called only after a QUIT in TRANSACTION state.
   * Must not throw for a partial failure: report it in the result.
   */
  commit(change: { readonly deleted: readonly string[] }): Promise<CommitResult>;
  /** Every close path calls this; it must be idempotent and must never delete anything. */
  close(): Promise<void>;
}

export interface CommitResult {
  readonly removed: number;
  /** Messages that could not be removed, with a reason for the log (never shown raw to clients). */
  readonly failed: readonly { readonly id: string; readonly reason: string }[];
}

// ---------------------------------------------------------------- optional add-ons

/** Backends whose sizes are unknown at listing time (LF objects in S3, an HTTP store's size estimates). */
export interface SizeResolver {
  /** Resolves exact sizes for these ids; may be batched and cached by the adapter. */
  resolveSizes(ids: readonly string[], signal: AbortSignal): Promise<ReadonlyMap<string, number>>;
}

/** Backends that can produce a message's header and first lines without reading all of it. */
export interface TopFetcher {
  /**
   * A stream holding at least the header, the blank line and `lines` body lines (it may hold
   * more; the core cuts it).
   */
  fetchTop(id: string, lines: number, signal: AbortSignal): Promise<Readable>;
}

/**
 * A message an adapter already holds whole (read ahead, within its memory budget). It is an
 * ordinary Readable; the core may also take `bytes` directly and skip the stream machinery,
 * which costs more than sending a 20 KB message.
 */
export class InMemoryMessage extends Readable {
  constructor(readonly bytes: Buffer) {
    super();
  }

  override _read(): void {
    this.push(this.bytes);
    this.push(null);
  }
}

export function hasSizeResolver(drop: Maildrop): drop is Maildrop & SizeResolver {
  return typeof (drop as Partial<SizeResolver>).resolveSizes === 'function';
}

export function hasTopFetcher(drop: Maildrop): drop is Maildrop & TopFetcher {
  return typeof (drop as Partial<TopFetcher>).fetchTop === 'function';
}
