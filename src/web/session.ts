/**
 * What a consent-pages session holds, in a cookie encrypted and authenticated with the session
 * key (@fastify/secure-session): who signed in and when, the CSRF secret, and the link this
 * browser started (its `state`, so a callback is only taken by the browser that started it).
 * The link's PKCE verifier and nonce stay in the gateway (Links); no token, no password ever.
 */
import type { FastifyRequest } from './fastify.js';

/** A link started in this browser, waiting for the provider's callback. */
export interface LinkInSession {
  readonly state: string;
  /** The gateway account the mailbox is linked to. */
  readonly account: string;
  readonly provider: string;
  /** Who started it: the signed-in user (the account's owner, or an admin). */
  readonly startedBy: string;
  /** Name of the device password to make once linked; none on re-consent (the old ones keep working). */
  readonly deviceName?: string;
  /** Epoch milliseconds. */
  readonly createdAt: number;
}

declare module '@fastify/secure-session' {
  interface SessionData {
    user: string;
    /** Random per sign-in: a signed-out session's copied cookie is refused by it (SignedOutSessions). */
    sid: string;
    /** Epoch milliseconds: the session ends `sessionMinutes` after it however busy it is. */
    signedInAt: number;
    link: LinkInSession;
    /** @fastify/csrf-protection's secret. */
    _csrf: string;
  }
}

/** Most sign-outs remembered at once (a flood drops the oldest; those sessions still end at their time limit). */
const MAX_SIGNED_OUT = 10_000;

/**
 * Sessions signed out before their time: the cookie is the whole session, so a copy of it taken
 * before sign-out would stay good until it expires; its `sid` is remembered until then.
 */
export class SignedOutSessions {
  private readonly until = new Map<string, number>();

  add(sid: string, expiresAt: number, now = Date.now()): void {
    for (const [old, end] of this.until) {
      if (end > now && this.until.size < MAX_SIGNED_OUT) break;
      this.until.delete(old);
    }
    this.until.set(sid, expiresAt);
  }

  has(sid: string): boolean {
    return this.until.has(sid);
  }
}

/** The signed-in user, if the session is one, was not signed out, and has not outlived `sessionMinutes`. */
export function sessionUser(request: FastifyRequest, sessionMinutes: number, signedOut: SignedOutSessions, now = Date.now()): string | undefined {
  const user = request.session.get('user');
  const since = request.session.get('signedInAt');
  const sid = request.session.get('sid');
  if (typeof user !== 'string' || typeof since !== 'number' || typeof sid !== 'string' || signedOut.has(sid)) return undefined;
  return now - since <= sessionMinutes * 60_000 ? user : undefined;
}
