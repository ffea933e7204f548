/**
 * Sign-in and sign-out. The form is limited per client address and per user name (both
 * @fastify/rate-limit counters); an unknown user and a wrong password get the same page, status
 * and scrypt cost (verifyLocal checks unknown users against a dummy hash).
 */
import { createHash, randomBytes } from 'node:crypto';
import { loggableName } from '../../../adapters/shared/log-text.js';
import { HashBusy } from '../../auth/hash-gate.js';
import { verifyLocal } from '../../auth/local-verifier.js';
import { field, pageContext, seeOther, sendPage, signedIn, type Pages } from '../context.js';
import type { FastifyInstance } from '../fastify.js';
import { problemPage } from '../pages/problem.js';
import { signInPage } from '../pages/sign-in.js';

export const SIGN_IN_FAILED = 'Wrong user name or password.';

export function signInRoutes(app: FastifyInstance, pages: Pages): void {
  const { deps, options } = pages;
  const windowMs = options.signInLimit.windowMinutes * 60_000;
  const byAddress = app.createRateLimit({ max: options.signInLimit.perAddress, timeWindow: windowMs, keyGenerator: (req) => `address:${req.ip}` });
  // Hashed: a stranger's 256-character names stay small keys.
  const byName = app.createRateLimit({
    max: options.signInLimit.perName,
    timeWindow: windowMs,
    keyGenerator: (req) => `name:${createHash('sha256').update(field(req.body, 'name').trim().toLowerCase()).digest('base64')}`,
  });

  app.get('/signin', async (request, reply) => {
    if (signedIn(pages, request) !== undefined) return seeOther(reply, pages.base);
    return sendPage(reply, 200, signInPage(pageContext(pages, request, reply)));
  });

  app.post('/signin', async (request, reply) => {
    const name = field(request.body, 'name');
    const password = field(request.body, 'password');
    for (const limit of [byAddress, byName]) {
      const verdict = await limit(request);
      if (!verdict.isAllowed && verdict.isExceeded) {
        deps.logger.warn({ name: loggableName(name), client: request.ip }, 'web: sign-in refused, too many attempts');
        void reply.header('retry-after', String(verdict.ttlInSeconds));
        return sendPage(
          reply,
          429,
          problemPage(
            pageContext(pages, request, reply),
            'Too many attempts',
            `Too many sign-in attempts. Try again in ${Math.ceil(verdict.ttlInSeconds / 60)} minutes.`,
          ),
        );
      }
    }
    let ok: boolean;
    try {
      ok = name !== '' && (await verifyLocal(deps.users(), name, { kind: 'password', login: name, password }));
    } catch (err) {
      if (!(err instanceof HashBusy)) throw err;
      return sendPage(reply, 503, problemPage(pageContext(pages, request, reply), 'Busy', 'Too many sign-ins at once. Try again in a moment.'));
    }
    if (!ok) {
      deps.logger.warn({ name: loggableName(name), client: request.ip }, 'web: sign-in failed');
      return sendPage(reply, 401, signInPage(pageContext(pages, request, reply), { name, problem: SIGN_IN_FAILED }));
    }
    // A new session: nothing from before sign-in (the CSRF secret, a started link) carries over.
    request.session.regenerate();
    request.session.set('user', name);
    request.session.set('sid', randomBytes(16).toString('base64url'));
    request.session.set('signedInAt', Date.now());
    deps.logger.info({ name: loggableName(name), client: request.ip, admin: deps.admins().has(name) }, 'web: signed in');
    return seeOther(reply, pages.base);
  });

  app.post('/signout', async (request, reply) => {
    const who = signedIn(pages, request);
    const sid = request.session.get('sid');
    const since = request.session.get('signedInAt');
    if (typeof sid === 'string' && typeof since === 'number') pages.signedOut.add(sid, since + options.sessionMinutes * 60_000);
    request.session.delete();
    if (who !== undefined) deps.logger.info({ name: loggableName(who.user) }, 'web: signed out');
    return seeOther(reply, `${pages.base}signin`);
  });
}
