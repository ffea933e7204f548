/**
 * Authorization requests waiting for their callback, by `state`. Each is taken once (a replayed
 * callback finds nothing) and expires after ten minutes. The consent pages may keep the record
 * in their own session instead and hand it back to Links.finish().
 */

/** One started link: who asked, at which provider, and the secrets the callback must match. */
export interface PendingLink {
  readonly state: string;
  readonly nonce: string;
  readonly codeVerifier: string;
  /** The gateway account the mailbox is linked to. */
  readonly account: string;
  readonly provider: string;
  /** Epoch milliseconds. */
  readonly createdAt: number;
}

export const PENDING_LINK_TTL_MS = 10 * 60_000;
/** Started links kept at once; the oldest are dropped beyond it (each is a few hundred octets). */
const MAX_PENDING = 10_000;

export class PendingLinks {
  private readonly byState = new Map<string, PendingLink>();

  put(link: PendingLink): void {
    this.sweep(link.createdAt);
    this.byState.set(link.state, link);
    while (this.byState.size > MAX_PENDING) {
      const oldest = this.byState.keys().next().value;
      if (oldest === undefined) break;
      this.byState.delete(oldest);
    }
  }

  /** The pending link for `state`, removed; undefined when unknown, taken already or expired. */
  take(state: string, now = Date.now()): PendingLink | undefined {
    const link = this.byState.get(state);
    this.byState.delete(state);
    return link !== undefined && now - link.createdAt <= PENDING_LINK_TTL_MS ? link : undefined;
  }

  private sweep(now: number): void {
    for (const [state, link] of this.byState) {
      if (now - link.createdAt <= PENDING_LINK_TTL_MS) break;
      this.byState.delete(state);
    }
  }
}
