/**
 * The consent pages as one fastify plugin: any fastify instance can register it (under a
 * prefix or not); everything it needs is inside its own encapsulated context: the form body
 * parser, security headers (@fastify/helmet, a strict CSP), the encrypted session cookie
 * (@fastify/secure-session), CSRF tokens on every POST (@fastify/csrf-protection), the sign-in
 * rate limits (@fastify/rate-limit), HTML error pages, and the routes.
 */
import csrfProtection from '@fastify/csrf-protection';
import formBody from '@fastify/formbody';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import secureSession from '@fastify/secure-session';
import { requireAdmin, requireUser } from './access.js';
import { errorPageContext, field, pageContext, sendPage, type Pages } from './context.js';
import type { ConsentDeps, ConsentOptions } from './deps.js';
import type { FastifyInstance, FastifyPluginAsync } from './fastify.js';
import { problemPage } from './pages/problem.js';
import { SignedOutSessions } from './session.js';
import { accountRoutes } from './routes/account.js';
import { adminRoutes } from './routes/admin.js';
import { linkRoutes } from './routes/link.js';
import { signInRoutes } from './routes/sign-in.js';
import { STYLESHEET } from './style.js';

/** Forms are small: a name, a password, a token. */
const FORM_LIMIT = 16 * 1024;

export function sessionCookieName(secure: boolean, base: string): string {
  // `__Host-`: the browser takes the cookie only from this origin over HTTPS for path / (no sibling domain can plant one).
  return secure && base === '/' ? '__Host-popgate-session' : 'popgate-session';
}

export function consentPages(deps: ConsentDeps, options: ConsentOptions): FastifyPluginAsync {
  return async (app: FastifyInstance) => {
    const pages: Pages = { deps, options, base: `${app.prefix}/`, signedOut: new SignedOutSessions() };
    await app.register(formBody, { bodyLimit: FORM_LIMIT });
    await app.register(helmet, {
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          defaultSrc: ["'none'"],
          styleSrc: ["'self'"],
          imgSrc: ["'self'"],
          // Forms post here, and the link form's answer sends the browser on to a provider's sign-in page.
          formAction: ["'self'", () => deps.providerOrigins().join(' ')],
          frameAncestors: ["'none'"],
          baseUri: ["'none'"],
          ...(options.secure && { upgradeInsecureRequests: [] }),
        },
      },
      strictTransportSecurity: options.secure ? { maxAge: 365 * 86_400 } : false,
      referrerPolicy: { policy: 'no-referrer' },
      crossOriginEmbedderPolicy: { policy: 'require-corp' },
    });
    await app.register(secureSession, {
      key: [...options.sessionKeys],
      cookieName: sessionCookieName(options.secure, pages.base),
      // Idle limit (the cookie's timestamp moves when the session changes); sign-in time bounds it too (session.ts).
      expiry: options.sessionMinutes * 60,
      cookie: { path: pages.base, httpOnly: true, sameSite: 'lax', secure: options.secure },
    });
    // The token comes in the form only: no header is read, so no other way to carry it needs thought.
    await app.register(csrfProtection, { sessionPlugin: '@fastify/secure-session', getToken: (request) => field(request.body, '_csrf') });
    await app.register(rateLimit, { global: false });

    app.addHook('preHandler', (request, reply, done) => {
      if (request.method === 'GET' || request.method === 'HEAD') return done();
      app.csrfProtection(request, reply, done);
    });
    app.addHook('onSend', async (_request, reply, payload) => {
      // Pages show device passwords and per-user state: no cache keeps them.
      if (!reply.hasHeader('cache-control')) void reply.header('cache-control', 'no-store');
      return payload;
    });
    app.setErrorHandler(async (err: { statusCode?: number; code?: string; message: string }, request, reply) => {
      const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
      const ctx = errorPageContext(pages, request, reply);
      if (err.code === 'FST_CSRF_INVALID_TOKEN' || err.code === 'FST_CSRF_MISSING_SECRET') {
        deps.logger.warn({ path: request.routeOptions.url, client: request.ip, code: err.code }, 'web: form refused: CSRF token missing or wrong');
        return sendPage(
          reply,
          403,
          problemPage(ctx, 'Form expired', 'This form has expired or did not come from these pages. Go back, reload the page and try again.'),
        );
      }
      if (status === 500) deps.logger.error({ path: request.routeOptions.url, err: err.message }, 'web: page failed');
      return sendPage(
        reply,
        status,
        problemPage(
          ctx,
          status === 500 ? 'Something went wrong' : 'Bad request',
          status === 500 ? 'The page could not be shown; the log says why.' : 'The request was not understood.',
        ),
      );
    });
    app.setNotFoundHandler(async (request, reply) =>
      sendPage(reply, 404, problemPage(pageContext(pages, request, reply), 'Not found', 'There is no such page.')),
    );

    app.get('/style.css', async (_request, reply) => reply.header('cache-control', 'public, max-age=3600').type('text/css; charset=utf-8').send(STYLESHEET));
    signInRoutes(app, pages);
    await app.register(async (user) => {
      user.addHook('preHandler', requireUser(pages));
      accountRoutes(user, pages);
      linkRoutes(user, pages);
    });
    await app.register(async (admin) => {
      admin.addHook('preHandler', requireAdmin(pages));
      adminRoutes(admin, pages);
    });
  };
}
