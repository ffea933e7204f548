/** The signed-in user's own account: its link (revoke) and device passwords (make, remove). */
import { loggableName } from '../../../adapters/shared/log-text.js';
import type { Links } from '../../identity/links.js';
import { field, pageContext, seeOther, sendPage, signedIn, type Pages } from '../context.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from '../fastify.js';
import { isLinkError, refusalOf } from '../link-errors.js';
import { accountPage } from '../pages/account.js';
import { newDevicePasswordPage } from '../pages/link.js';
import { problemPage } from '../pages/problem.js';

/** The links API, or a 503 page when the running config has no grants store (a reload took it away). */
export function linksOr503(pages: Pages, request: FastifyRequest, reply: FastifyReply): Links | undefined {
  const links = pages.deps.links();
  if (links === undefined)
    void sendPage(reply, 503, problemPage(pageContext(pages, request, reply), 'Unavailable', 'The gateway has no grants store configured.'));
  return links;
}

/** Runs a step; a LinkError becomes its page, anything else goes to the error handler. */
export async function orRefusal(pages: Pages, request: FastifyRequest, reply: FastifyReply, step: () => Promise<FastifyReply>): Promise<FastifyReply> {
  try {
    return await step();
  } catch (err) {
    if (!isLinkError(err)) throw err;
    pages.deps.logger.warn({ kind: err.kind, err: err.message, path: request.routeOptions.url }, 'web: request refused');
    const r = refusalOf(err);
    return sendPage(reply, r.status, problemPage(pageContext(pages, request, reply), r.title, r.message));
  }
}

/** The signed-in user's name (the routes here run after requireUser). */
export function userOf(pages: Pages, request: FastifyRequest): string {
  const who = signedIn(pages, request);
  if (who === undefined) throw new Error('a signed-in route ran without a signed-in user');
  return who.user;
}

export function accountRoutes(app: FastifyInstance, pages: Pages): void {
  app.get('/', async (request, reply) => {
    const links = linksOr503(pages, request, reply);
    if (links === undefined) return reply;
    const user = userOf(pages, request);
    return sendPage(reply, 200, accountPage(pageContext(pages, request, reply), user, await links.get(user)));
  });

  app.post('/devices', async (request, reply) => {
    const links = linksOr503(pages, request, reply);
    if (links === undefined) return reply;
    const user = userOf(pages, request);
    return orRefusal(pages, request, reply, async () => {
      const made = await links.addDevicePassword(user, field(request.body, 'name'));
      return sendPage(reply, 200, newDevicePasswordPage(pageContext(pages, request, reply), user, made));
    });
  });

  app.post('/devices/remove', async (request, reply) => {
    const links = linksOr503(pages, request, reply);
    if (links === undefined) return reply;
    const user = userOf(pages, request);
    const id = field(request.body, 'id');
    if (id !== '') await links.removeDevicePassword(user, id);
    return seeOther(reply, pages.base);
  });

  app.post('/revoke', async (request, reply) => {
    const links = linksOr503(pages, request, reply);
    if (links === undefined) return reply;
    const user = userOf(pages, request);
    return orRefusal(pages, request, reply, async () => {
      await links.revoke(user, `user ${loggableName(user)} (web)`);
      return seeOther(reply, pages.base);
    });
  });
}
