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
    /** Epoch milliseconds: the session ends `sessionMinutes` after it however busy it is. */
    signedInAt: number;
    link: LinkInSession;
    /** @fastify/csrf-protection's secret. */
    _csrf: string;
  }
}

/** The signed-in user, if the session is one and has not outlived `sessionMinutes`. */
export function sessionUser(request: FastifyRequest, sessionMinutes: number, now = Date.now()): string | undefined {
  const user = request.session.get('user');
  const since = request.session.get('signedInAt');
  if (typeof user !== 'string' || typeof since !== 'number') return undefined;
  return now - since <= sessionMinutes * 60_000 ? user : undefined;
}
