/**
 * Linking a mailbox: the provider choice, the start (authorization code + PKCE + state + nonce
 * by Links.start, the state kept in this browser's session) and the provider's callback.
 *
 * The callback is taken only by the browser that started the link, signed in as the user who
 * started it, and only for that user's own account unless they are an admin: a callback URL
 * carried to another browser (someone else's code, to link their mailbox to a victim's account)
 * finds no started link there, and the started link stays for its own browser.
 */
import { loggableName } from '../../../adapters/shared/log-text.js';
import { field, pageContext, seeOther, sendPage, signedIn, type Pages } from '../context.js';
import type { FastifyInstance, FastifyRequest } from '../fastify.js';
import { refusalOf } from '../link-errors.js';
import { continuePage, linkedPage, providerChoicePage } from '../pages/link.js';
import { problemPage } from '../pages/problem.js';
import type { LinkInSession } from '../session.js';
import { linksOr503, orRefusal, userOf } from './account.js';
import { LinkError } from '../../identity/links.js';

/** The account a request acts for: the user's own, or (admins only) the one it names. */
function targetAccount(pages: Pages, request: FastifyRequest, named: string): { account: string; allowed: boolean } {
  const who = signedIn(pages, request);
  const user = who?.user ?? '';
  const account = named === '' ? user : named;
  return { account, allowed: account === user || who?.admin === true };
}

export function linkRoutes(app: FastifyInstance, pages: Pages): void {
  const { deps } = pages;

  app.get('/link', async (request, reply) => {
    const links = linksOr503(pages, request, reply);
    if (links === undefined) return reply;
    const query = request.query as Record<string, unknown>;
    const { account, allowed } = targetAccount(pages, request, typeof query.account === 'string' ? query.account.trim() : '');
    const ctx = pageContext(pages, request, reply);
    if (!allowed) return sendPage(reply, 403, problemPage(ctx, 'Not allowed', 'Only an admin may link a mailbox for another account.'));
    return sendPage(reply, 200, providerChoicePage(ctx, { account, forOther: account !== userOf(pages, request), providers: links.providerNames() }));
  });

  app.post('/link', async (request, reply) => {
    const links = linksOr503(pages, request, reply);
    if (links === undefined) return reply;
    const user = userOf(pages, request);
    const { account, allowed } = targetAccount(pages, request, field(request.body, 'account').trim());
    if (!allowed)
      return sendPage(reply, 403, problemPage(pageContext(pages, request, reply), 'Not allowed', 'Only an admin may link a mailbox for another account.'));
    const provider = field(request.body, 'provider');
    const deviceName = field(request.body, 'deviceName').trim();
    return orRefusal(pages, request, reply, async () => {
      // Re-consent: the provider may preselect the mailbox already linked.
      const current = field(request.body, 'reconsent') === '' ? undefined : await links.get(account);
      const started = await links.start(account, provider, current === undefined ? {} : { loginHint: current.address });
      const kept: LinkInSession = {
        state: started.pending.state,
        account,
        provider,
        startedBy: user,
        createdAt: started.pending.createdAt,
        ...(deviceName !== '' && { deviceName }),
      };
      request.session.set('link', kept);
      deps.logger.info({ account: loggableName(account), provider, by: loggableName(user), reconsent: current !== undefined }, 'web: link started');
      const url = started.authorizationUrl;
      // The CSP lets forms lead only to the providers' issuer origins; a sign-in page elsewhere gets a plain link.
      if (!deps.providerOrigins().includes(url.origin)) return sendPage(reply, 200, continuePage(pageContext(pages, request, reply), provider, url));
      return seeOther(reply, url.href);
    });
  });

  app.get('/link/callback', async (request, reply) => {
    const links = linksOr503(pages, request, reply);
    if (links === undefined) return reply;
    const user = userOf(pages, request);
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(request.query as Record<string, unknown>)) if (typeof v === 'string') query.set(k, v);
    const started = request.session.get('link');
    return orRefusal(pages, request, reply, async () => {
      const state = query.get('state') ?? '';
      // Not this browser's link: refused before Links sees it, so the link started here stays usable.
      if (started === undefined || state === '' || started.state !== state) {
        throw new LinkError('no-pending-link', `callback for ${loggableName(user)} with no link started in this session`);
      }
      request.session.set('link', undefined);
      if (started.startedBy !== user || (started.account !== user && !deps.admins().has(user))) {
        deps.logger.warn(
          { account: loggableName(started.account), user: loggableName(user) },
          'web: callback refused: the link was started for another account',
        );
        const r = refusalOf(new LinkError('no-pending-link', 'account mismatch'));
        return sendPage(reply, 403, problemPage(pageContext(pages, request, reply), r.title, r.message));
      }
      const { link } = await links.finish(query);
      const device = started.deviceName === undefined ? undefined : await links.addDevicePassword(link.account, started.deviceName);
      const back = link.account === user ? pages.base : `${pages.base}admin`;
      return sendPage(reply, 200, linkedPage(pageContext(pages, request, reply), link, { back, ...(device !== undefined && { device }) }));
    });
  });
}
