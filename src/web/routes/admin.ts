/** Admin pages: every account's link state; revoke for any account (linking for one goes through /link?account=). */
import { loggableName } from '../../../adapters/shared/log-text.js';
import { field, pageContext, seeOther, sendPage, type Pages } from '../context.js';
import type { FastifyInstance } from '../fastify.js';
import { adminPage } from '../pages/admin.js';
import { linksOr503, orRefusal, userOf } from './account.js';

export function adminRoutes(app: FastifyInstance, pages: Pages): void {
  app.get('/admin', async (request, reply) => {
    const links = linksOr503(pages, request, reply);
    if (links === undefined) return reply;
    const all = await links.list();
    const linked = new Set(all.map((l) => l.account));
    const unlinked = pages.deps
      .users()
      .names()
      .filter((n) => !linked.has(n));
    return sendPage(reply, 200, adminPage(pageContext(pages, request, reply), all, unlinked));
  });

  app.post('/admin/revoke', async (request, reply) => {
    const links = linksOr503(pages, request, reply);
    if (links === undefined) return reply;
    const user = userOf(pages, request);
    const account = field(request.body, 'account');
    return orRefusal(pages, request, reply, async () => {
      await links.revoke(account, `admin ${loggableName(user)} (web)`);
      return seeOther(reply, `${pages.base}admin`);
    });
  });
}
