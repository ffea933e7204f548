/** Who may open a page: hooks for the signed-in and the admin scopes. */
import { pageContext, seeOther, sendPage, signedIn, type Pages } from './context.js';
import type { FastifyReply, FastifyRequest } from './fastify.js';
import { problemPage } from './pages/problem.js';

type Hook = (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined>;

/** Not signed in (or the session ended, or the user left the users file): a page asks to sign in, a form is refused. */
export function requireUser(pages: Pages): Hook {
  return async (request, reply) => {
    if (signedIn(pages, request) !== undefined) return undefined;
    if (request.method === 'GET' || request.method === 'HEAD') return seeOther(reply, `${pages.base}signin`);
    return sendPage(reply, 403, problemPage(pageContext(pages, request, reply), 'Signed out', 'Your session has ended. Sign in again.'));
  };
}

export function requireAdmin(pages: Pages): Hook {
  const user = requireUser(pages);
  return async (request, reply) => {
    const refused = await user(request, reply);
    if (refused !== undefined) return refused;
    if (signedIn(pages, request)?.admin === true) return undefined;
    pages.deps.logger.warn({ path: request.routeOptions.url }, 'web: admin page refused to a user who is not an admin');
    return sendPage(reply, 403, problemPage(pageContext(pages, request, reply), 'Not allowed', 'Only an admin may open this page.'));
  };
}
