/** What the routes share: the deps and options, the pages' base path, and small request helpers. */
import type { ConsentDeps, ConsentOptions } from './deps.js';
import type { FastifyReply, FastifyRequest } from './fastify.js';
import type { PageContext } from './pages/layout.js';
import { sessionUser, type SignedOutSessions } from './session.js';

export interface Pages {
  readonly deps: ConsentDeps;
  readonly options: ConsentOptions;
  /** The path prefix the pages are served under, ending in `/`. */
  readonly base: string;
  readonly signedOut: SignedOutSessions;
}

/** The signed-in user (and whether an admin), or undefined; also checks the user is still in the users file. */
export function signedIn(pages: Pages, request: FastifyRequest): { readonly user: string; readonly admin: boolean } | undefined {
  const user = sessionUser(request, pages.options.sessionMinutes, pages.signedOut);
  if (user === undefined || pages.deps.users().get(user) === undefined) return undefined;
  return { user, admin: pages.deps.admins().has(user) };
}

/** The context a page renders with; makes the session's CSRF secret if it has none yet. */
export function pageContext(pages: Pages, request: FastifyRequest, reply: FastifyReply): PageContext {
  const who = signedIn(pages, request);
  return { base: pages.base, csrf: reply.generateCsrf(), user: who?.user, admin: who?.admin ?? false };
}

/** For an error page: the usual context, or a bare one when that fails too (an unreadable users file). */
export function errorPageContext(pages: Pages, request: FastifyRequest, reply: FastifyReply): PageContext {
  try {
    return pageContext(pages, request, reply);
  } catch {
    return { base: pages.base, csrf: '', user: undefined, admin: false };
  }
}

/** A form field as one string ('' when absent or repeated). */
export function field(body: unknown, name: string): string {
  if (typeof body !== 'object' || body === null) return '';
  const value = (body as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : '';
}

export function sendPage(reply: FastifyReply, status: number, text: string): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').send(text);
}

/** After a change: back to a page with GET (a reload does not post the form again). */
export function seeOther(reply: FastifyReply, location: string): FastifyReply {
  return reply.code(303).header('location', location).send();
}
