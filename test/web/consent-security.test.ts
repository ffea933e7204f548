/**
 * The consent pages' defences, over fastify inject() on a running gateway's pages: security
 * headers and a strict CSP, the session cookie's flags (and Secure, __Host- and HSTS when served
 * over HTTPS), CSRF tokens on every POST, one answer for an unknown user and a wrong password,
 * the sign-in rate limits per address and per name, escaped output, and sessions that end; and
 * the pages on their own HTTPS listener over real sockets.
 */
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { request } from 'node:https';
import Fastify from 'fastify';
import { after, before, describe, it } from 'node:test';
import { UsersFile } from '../../src/auth/users-file.js';
import { consentPages } from '../../src/web/plugin.js';
import type { FastifyInstance } from '../../src/web/fastify.js';
import { startConsentStack, WEB_USERS, type ConsentStack } from '../helpers/consent-stack.js';
import { linkMailbox } from '../helpers/identity-stack.js';
import { InjectBrowser } from '../helpers/inject-browser.js';
import { collectingLogger } from '../helpers/log-sink.js';
import { testCert } from '../helpers/tls.js';

const pw = (name: string): string => WEB_USERS[name] as string;
let addresses = 0;
/** Each browser comes from its own address, so one test's attempts do not count against another's. */
const nextAddress = (): string => `10.1.0.${++addresses}`;

describe('consent pages: headers, cookies, CSRF, sign-in limits, escaping, sessions', () => {
  let s: ConsentStack;
  const browser = (): InjectBrowser => new InjectBrowser(s.web.app, nextAddress());

  before(async () => {
    s = await startConsentStack({ web: { signInLimit: { perAddress: 6, perName: 4, windowMinutes: 15 } } });
  });
  after(async () => {
    await s?.close();
  });

  it('every page carries the security headers and a strict CSP; form-action lists only the pages and the IdP', async () => {
    const b = browser();
    for (const path of ['/signin', '/', '/no-such-page']) {
      const r = await b.get(path);
      const csp = String(r.headers['content-security-policy']);
      assert.match(csp, /default-src 'none'/, path);
      assert.match(csp, /frame-ancestors 'none'/);
      assert.match(csp, /base-uri 'none'/);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|script-src/, 'no script may run at all');
      assert.equal(/form-action ([^;]*)/.exec(csp)?.[1]?.trim(), `'self' ${new URL(s.stack.idp.issuer).origin}`);
      assert.equal(r.headers['x-content-type-options'], 'nosniff');
      assert.equal(r.headers['x-frame-options'], 'SAMEORIGIN');
      assert.equal(r.headers['referrer-policy'], 'no-referrer');
      assert.equal(r.headers['cross-origin-opener-policy'], 'same-origin');
      assert.equal(r.headers['cache-control'], 'no-store', 'no cache keeps a page');
      assert.equal(r.headers['strict-transport-security'], undefined, 'no HSTS over plain loopback HTTP');
    }
    assert.equal((await b.get('/no-such-page')).status, 404);
    const page = await b.get('/signin');
    assert.doesNotMatch(page.body, /<script|\sstyle=|\son[a-z]+=/i, 'no script, inline style or event handler in a page');
  });

  it('the session cookie is HttpOnly and SameSite=Lax for the pages path; not Secure over plain loopback HTTP', async () => {
    const r = await browser().get('/signin');
    const cookie = r.setCookies.find((c) => c.startsWith('popgate-session='));
    assert.ok(cookie, r.setCookies.join('\n'));
    assert.match(cookie, /; HttpOnly/);
    assert.match(cookie, /; SameSite=Lax/);
    assert.match(cookie, /; Path=\//);
    assert.doesNotMatch(cookie, /; Secure/);
  });

  it('registered in another fastify instance and served over HTTPS: Secure cookie (__Host- at the root, the prefix path below one), HSTS, upgrade-insecure-requests; a provider origin the CSP does not list gets a plain link', async () => {
    const { logger } = collectingLogger();
    const deps = {
      links: () => s.grants.links,
      users: () => new UsersFile(s.webUsersFile),
      admins: () => new Set<string>(),
      providerOrigins: () => [],
      logger,
    };
    const options = { secure: true, sessionKeys: [Buffer.alloc(32, 7)], sessionMinutes: 60, signInLimit: { perAddress: 5, perName: 5, windowMinutes: 1 } };
    for (const [prefix, cookieName, path] of [
      ['', '__Host-popgate-session', '/'],
      ['/consent', 'popgate-session', '/consent/'],
    ] as const) {
      const app = Fastify() as unknown as FastifyInstance;
      await app.register(consentPages(deps, options), { prefix });
      const b = new InjectBrowser(app);
      const r = await b.get(`${prefix}/signin`);
      assert.equal(r.status, 200);
      const cookie = r.setCookies.find((c) => c.startsWith(`${cookieName}=`));
      assert.ok(cookie, r.setCookies.join('\n'));
      assert.match(cookie, /; Secure/);
      assert.match(cookie, new RegExp(`; Path=${path}(;|$)`));
      assert.match(String(r.headers['strict-transport-security']), /max-age=31536000/);
      assert.match(String(r.headers['content-security-policy']), /upgrade-insecure-requests/);
      assert.match(r.body, new RegExp(`action="${prefix}/signin"`), 'forms post below the prefix');
      const signedIn = await b.post(`${prefix}/signin`, { name: 'alice', password: pw('alice') });
      assert.equal(signedIn.status, 303);
      assert.equal(signedIn.location, `${prefix}/`);
      await b.get(`${prefix}/link`);
      // This instance lists no provider origin for forms: the hand-over is a plain link instead of a redirect the CSP would block.
      const handOver = await b.post(`${prefix}/link`, { provider: 'corp' });
      assert.equal(handOver.status, 200);
      const to = new URL((/<a id="continue" href="([^"]+)"/.exec(handOver.body)?.[1] as string).replaceAll('&amp;', '&'));
      assert.equal(to.origin, new URL(s.stack.idp.issuer).origin);
      assert.equal(to.searchParams.get('redirect_uri'), `${s.url.href}link/callback`);
      await app.close();
    }
  });

  it("CSRF: a POST without the token, with a wrong one or with another session's is refused (403) and changes nothing", async () => {
    await linkMailbox(s.grants.links, s.stack.idp, 'dave', 'bob');
    const dave = browser();
    assert.equal((await dave.signIn('dave', pw('dave'))).status, 303);
    await dave.get('/');
    const other = browser();
    await other.signIn('bob', pw('bob'));
    await other.get('/');
    for (const csrf of [null, 'not-a-token', other.csrf as string, '']) {
      const r = await dave.post('/devices', { name: 'forged' }, csrf);
      assert.equal(r.status, 403, `token ${String(csrf)}`);
      assert.match(r.body, /This form has expired or did not come from these pages/);
    }
    assert.equal((await s.grants.links.get('dave'))?.devicePasswords.length, 0, 'no device password was made');
    assert.equal((await dave.post('/revoke', {}, null)).status, 403);
    assert.equal((await s.grants.links.get('dave'))?.state, 'linked', 'not revoked');
    const made = await dave.post('/devices', { name: 'with the token' });
    assert.equal(made.status, 200);
    assert.equal((await s.grants.links.get('dave'))?.devicePasswords.length, 1);
    // Signing in is a POST too: a forged sign-in (login CSRF) is refused.
    const fresh = browser();
    await fresh.get('/signin');
    assert.equal((await fresh.post('/signin', { name: 'alice', password: pw('alice') }, null)).status, 403);
    assert.equal((await fresh.get('/')).location, '/signin', 'not signed in');
  });

  it('an unknown user and a wrong password get the same page and status', async () => {
    const answers = [];
    for (const [name, password] of [
      ['bob', 'wrong-password'],
      ['nobody-at-all', 'wrong-password'],
    ] as const) {
      const b = browser();
      await b.get('/signin');
      const r = await b.post('/signin', { name, password });
      answers.push({
        status: r.status,
        body: r.body.replace(/name="_csrf" value="[^"]*"/, '').replace(`value="${name}"`, 'value=""'),
        cookie: b.cookie('popgate-session'),
      });
    }
    const [wrong, unknown] = answers as [(typeof answers)[0], (typeof answers)[0]];
    assert.equal(wrong.status, 401);
    assert.equal(unknown.status, 401);
    assert.equal(wrong.body, unknown.body);
    assert.match(wrong.body, /Wrong user name or password\./);
  });

  it('sign-in is limited per name (from any address) and per address (for any name), even for the right password', async () => {
    // carol signs in nowhere else in this file: her count starts here.
    const first = browser();
    await first.get('/signin');
    for (let i = 0; i < 4; i++) assert.equal((await first.post('/signin', { name: 'carol', password: `guess-${i}` })).status, 401);
    const limited = await first.post('/signin', { name: 'carol', password: pw('carol') });
    assert.equal(limited.status, 429, 'the fifth attempt for carol');
    assert.match(limited.body, /Too many sign-in attempts/);
    assert.ok(Number(limited.headers['retry-after']) > 0);
    const elsewhere = browser();
    await elsewhere.get('/signin');
    assert.equal((await elsewhere.post('/signin', { name: 'CAROL ', password: pw('carol') })).status, 429, 'per name, from another address, whatever the case');
    assert.equal((await elsewhere.post('/signin', { name: 'bob', password: pw('bob') })).status, 303, 'another name from that address is fine');

    const spraying = browser();
    await spraying.get('/signin');
    for (let i = 0; i < 6; i++) assert.equal((await spraying.post('/signin', { name: `stranger-${i}`, password: 'x' })).status, 401);
    assert.equal((await spraying.post('/signin', { name: 'alice', password: pw('alice') })).status, 429, 'the seventh attempt from that address');
    assert.ok(s.gw.logs.some((l) => l.includes('web: sign-in refused, too many attempts')));
  });

  it('names are shown escaped: a user called <script>alert(1)</script>, and an account name that is HTML on the admin page', async () => {
    const name = '<script>alert(1)</script>';
    const b = browser();
    assert.equal((await b.signIn(name, pw(name))).status, 303);
    const page = await b.get('/');
    assert.equal(page.status, 200);
    assert.ok(page.body.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
    assert.doesNotMatch(page.body, /<script/i);
    await linkMailbox(s.grants.links, s.stack.idp, '<img src=x onerror=alert(2)>', 'alice');
    const admin = browser();
    await admin.signIn('ops', pw('ops'));
    const all = await admin.get('/admin');
    assert.equal(all.status, 200);
    assert.ok(all.body.includes('&lt;img src=x onerror=alert(2)&gt;'));
    assert.ok(all.body.includes('&lt;script&gt;alert(1)&lt;/script&gt;'), 'the users file user without a link is listed too');
    assert.doesNotMatch(all.body, /<script|<img/i);
    const failed = await browser().post('/signin', { name: '"><b>x', password: 'x' });
    assert.doesNotMatch(failed.body, /"><b>x/, 'the name echoed into the form is escaped (and the form was refused for its missing token anyway)');
    const echoed = browser();
    await echoed.get('/signin');
    const wrong = await echoed.post('/signin', { name: '"><b>x', password: 'x' });
    assert.equal(wrong.status, 401);
    assert.ok(wrong.body.includes('value="&quot;&gt;&lt;b&gt;x"'));
  });

  it('sign-out ends the session, and a copy of its cookie taken before does not sign in again', async () => {
    const b = browser();
    await b.signIn('bob', pw('bob'));
    const cookie = b.cookie('popgate-session') as string;
    assert.equal((await b.get('/')).status, 200);
    assert.equal((await b.post('/signout')).location, '/signin');
    assert.equal((await b.get('/')).location, '/signin');
    const copy = await s.web.app.inject({ method: 'GET', url: '/', headers: { cookie: `popgate-session=${cookie}` } });
    assert.equal(copy.statusCode, 303);
    assert.equal(copy.headers.location, '/signin');
  });

  it('a user removed from the users file is signed out at the next page', async () => {
    const b = browser();
    const users = new UsersFile(s.webUsersFile);
    const kept = users.get('dave');
    await b.signIn('dave', pw('dave'));
    assert.equal((await b.get('/')).status, 200);
    users.update((all) => all.delete('dave'));
    try {
      assert.equal((await b.get('/')).location, '/signin');
    } finally {
      users.update((all) => all.set('dave', kept as NonNullable<typeof kept>));
    }
  });

  it('no web password, device password or token in any log line', () => {
    const secrets = [...Object.values(WEB_USERS), ...s.stack.idp.issuedTokens()];
    for (const secret of secrets) assert.ok(!s.gw.logs.some((l) => l.includes(secret)), 'a secret in the log');
    assert.ok(s.gw.logs.some((l) => l.includes('web: sign-in failed')));
  });
});

/** One HTTPS request to the pages, trusting the test certificate. */
function httpsRequest(
  url: URL,
  opts: { method?: string; cookie?: string; form?: URLSearchParams } = {},
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const body = opts.form?.toString();
    const req = request(
      url,
      {
        method: opts.method ?? 'GET',
        ca: testCert().cert,
        headers: {
          ...(opts.cookie !== undefined && { cookie: opts.cookie }),
          ...(body !== undefined && { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('consent pages on their own HTTPS listener', () => {
  let s: ConsentStack;
  before(async () => {
    s = await startConsentStack({ tls: true });
  });
  after(async () => {
    await s?.close();
  });

  it('serve over TLS: a __Host- Secure cookie, HSTS, and a sign-in over real sockets', async () => {
    assert.equal(s.url.href, `https://127.0.0.1:${s.web.address.port}/`);
    const page = await httpsRequest(new URL('signin', s.url));
    assert.equal(page.status, 200);
    assert.match(String(page.headers['strict-transport-security']), /max-age=31536000/);
    const setCookie = (page.headers['set-cookie'] ?? [])[0] ?? '';
    assert.match(setCookie, /^__Host-popgate-session=[^;]+; Path=\/; HttpOnly; Secure; SameSite=Lax$/);
    const cookie = setCookie.split(';')[0] as string;
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1] as string;
    const signIn = await httpsRequest(new URL('signin', s.url), {
      method: 'POST',
      cookie,
      form: new URLSearchParams({ _csrf: csrf, name: 'alice', password: pw('alice') }),
    });
    assert.equal(signIn.status, 303);
    const session = ((signIn.headers['set-cookie'] ?? [])[0] ?? '').split(';')[0] as string;
    const account = await httpsRequest(s.url, { cookie: session });
    assert.equal(account.status, 200);
    assert.match(account.body, /id="signed-in-user">alice</);
    assert.ok(s.gw.logs.some((l) => l.includes('consent pages listening') && l.includes('"tls":true')));
  });
});
