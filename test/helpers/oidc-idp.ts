/**
 * A real OpenID Connect provider for the identity tests: `oidc-provider` on 127.0.0.1:0 in this
 * process, with test users (login form checking their passwords), a consent form, refresh-token
 * rotation on every refresh (a reused refresh token kills the grant, as providers that rotate
 * do), revocation, introspection and client credentials. The issuer may sit under a path
 * (`/contoso/v2.0`, like Entra ID's tenant issuers).
 *
 * Two clients are registered: popgate (authorization code + PKCE, refresh, client credentials;
 * client_secret_post) and a resource server that introspects tokens (Dovecot's oauth2 passdb,
 * the HTTP stand-ins). Access tokens carry a `username` claim in introspection: the user's email
 * for user tokens, `app@<appDomain>` for client-credentials tokens (see dovecotOauth2Ext).
 *
 * consent() drives the login and consent pages over HTTP as a browser would (GET the pages,
 * submit their forms, carry cookies), and returns the redirect back to popgate.
 */
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import Provider, { type Adapter, type AdapterPayload, type KoaContextWithOIDC } from 'oidc-provider';

export interface IdpUser {
  readonly accountId: string;
  readonly password: string;
  readonly email: string;
}

export interface IdpOptions {
  readonly users: readonly IdpUser[];
  /** popgate's redirect URL(s), registered with its client. */
  readonly redirectUris: readonly string[];
  /** Path of the issuer below the origin, e.g. `/contoso/v2.0` (default: none). */
  readonly issuerPath?: string;
  /** Lifetime of access tokens (default 3600 s); changeable later through `accessTokenTtlSec`. */
  readonly accessTokenTtlSec?: number;
  /** The domain an app-only token may open: client-credentials tokens carry `username: app@<appDomain>`. */
  readonly appDomain?: string;
}

export interface IntrospectionAnswer {
  readonly active: boolean;
  readonly username?: string;
  readonly sub?: string;
  readonly client_id?: string;
  readonly scope?: string;
}

export type GrantType = 'authorization_code' | 'refresh_token' | 'client_credentials';

export interface TestIdp {
  readonly issuer: string;
  readonly port: number;
  readonly client: { readonly id: string; readonly secret: string };
  /** The resource server's credentials for the introspection endpoint. */
  readonly introspector: { readonly id: string; readonly secret: string };
  readonly introspectionUrl: string;
  /** The scope name of app-only (client-credentials) access. */
  readonly appOnlyScope: string;
  accessTokenTtlSec: number;
  /** Successful token endpoint requests by grant type, and refused ones. */
  readonly counts: Record<GrantType | 'refused' | 'introspections', number>;
  /** Asks the introspection endpoint, as a resource server does. */
  introspect(token: string): Promise<IntrospectionAnswer>;
  /** Logs in as `user`, consents (or declines) and returns where the provider sends the browser back. */
  consent(authorizationUrl: URL, user: { readonly login: string; readonly password: string }, opts?: { readonly decline?: boolean }): Promise<URL>;
  /** Ends one access token at the provider (its grant lives on), as an early expiry would. */
  revokeAccessToken(token: string): void;
  /** Every token value the provider issued that is still stored (access, refresh, client credentials). */
  issuedTokens(): string[];
  /** Revokes every grant of the account at the provider (its refresh and access tokens stop working); resolves how many. */
  revokeAccount(accountId: string): Promise<number>;
  /** Stops answering (connections refused) until start(). */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/** Every model's records in memory, so a test can revoke a user's grants as the provider's admin would. */
class MemoryStore {
  readonly models = new Map<string, Map<string, { payload: AdapterPayload; expiresAt: number | undefined }>>();

  model(name: string): Map<string, { payload: AdapterPayload; expiresAt: number | undefined }> {
    let m = this.models.get(name);
    if (m === undefined) {
      m = new Map<string, { payload: AdapterPayload; expiresAt: number | undefined }>();
      this.models.set(name, m);
    }
    return m;
  }

  adapterFor(name: string): Adapter {
    const records = this.model(name);
    const live = (id: string): AdapterPayload | undefined => {
      const r = records.get(id);
      if (r === undefined) return undefined;
      if (r.expiresAt !== undefined && r.expiresAt <= Date.now()) {
        records.delete(id);
        return undefined;
      }
      return r.payload;
    };
    const models = this.models;
    return {
      async upsert(id, payload, expiresIn) {
        records.set(id, { payload, expiresAt: expiresIn === undefined ? undefined : Date.now() + expiresIn * 1000 });
      },
      async find(id) {
        return live(id);
      },
      async findByUserCode(userCode) {
        for (const [id, r] of records) if (r.payload.userCode === userCode) return live(id);
        return undefined;
      },
      async findByUid(uid) {
        for (const [id, r] of records) if (r.payload.uid === uid) return live(id);
        return undefined;
      },
      async consume(id) {
        const r = records.get(id);
        if (r !== undefined) r.payload = { ...r.payload, consumed: Math.floor(Date.now() / 1000) };
      },
      async destroy(id) {
        records.delete(id);
      },
      async revokeByGrantId(grantId) {
        for (const model of models.values()) for (const [id, r] of model) if (r.payload.grantId === grantId) model.delete(id);
      },
    };
  }
}

const html = (res: ServerResponse, body: string): void => {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(`<!doctype html><html><body>${body}</body></html>`);
};

async function formBody(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const c of req as AsyncIterable<Buffer>) chunks.push(c);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

export async function startTestIdp(opts: IdpOptions): Promise<TestIdp> {
  const store = new MemoryStore();
  const users = new Map(opts.users.map((u) => [u.accountId, u]));
  const counts: TestIdp['counts'] = { authorization_code: 0, refresh_token: 0, client_credentials: 0, refused: 0, introspections: 0 };
  const client = { id: 'popgate', secret: 'popgate-client-secret-0123456789abcdef' };
  const introspector = { id: 'mail-server', secret: 'mail-server-secret-0123456789abcdef' };
  const appOnlyScope = 'imap.app';
  const issuerPath = (opts.issuerPath ?? '').replace(/\/+$/, '');

  /** Set once the provider exists (its issuer needs the port, so the server listens first). */
  const route: { handle?: (req: IncomingMessage, res: ServerResponse) => void } = {};
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => (route.handle === undefined ? res.writeHead(503).end() : route.handle(req, res)));
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const issuer = `http://127.0.0.1:${port}${issuerPath}`;
  const signingKey = { ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }), kid: 'test-idp', use: 'sig', alg: 'RS256' };

  const idp: { accessTokenTtlSec: number } = { accessTokenTtlSec: opts.accessTokenTtlSec ?? 3600 };
  const provider = new Provider(issuer, {
    adapter: (name: string) => store.adapterFor(name),
    clients: [
      {
        client_id: client.id,
        client_secret: client.secret,
        redirect_uris: [...opts.redirectUris],
        grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_post',
        scope: `openid email offline_access ${appOnlyScope}`,
      },
      {
        client_id: introspector.id,
        client_secret: introspector.secret,
        grant_types: [],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'client_secret_post',
      },
    ],
    scopes: ['openid', 'email', 'offline_access', appOnlyScope],
    claims: { openid: ['sub'], email: ['email', 'email_verified'] },
    // The ID token carries the email claim (as Google's and Entra ID's do), not only userinfo.
    conformIdTokenClaims: false,
    jwks: { keys: [signingKey] },
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
      // Any authenticated resource server may introspect (the mail server, the stand-ins).
      introspection: { enabled: true, allowedPolicy: async () => true },
      revocation: { enabled: true },
      clientCredentials: { enabled: true },
    },
    // Every refresh hands out a new refresh token and spends the old one.
    rotateRefreshToken: () => true,
    ttl: {
      AccessToken: () => idp.accessTokenTtlSec,
      ClientCredentials: () => idp.accessTokenTtlSec,
      RefreshToken: 14 * 86_400,
      Grant: 14 * 86_400,
      Interaction: 3600,
      Session: 86_400,
      AuthorizationCode: 60,
      IdToken: 3600,
    },
    async findAccount(_ctx: KoaContextWithOIDC, id: string) {
      const user = users.get(id);
      if (user === undefined) return undefined;
      return { accountId: id, claims: async () => ({ sub: id, email: user.email, email_verified: true }) };
    },
    async extraTokenClaims(_ctx: KoaContextWithOIDC, token) {
      // Dovecot puts both the login name and this value through username_format: with `%d` both become the domain.
      if (token.kind === 'ClientCredentials') return opts.appDomain === undefined ? undefined : { username: `app@${opts.appDomain}` };
      const accountId = (token as { accountId?: string }).accountId;
      const user = accountId === undefined ? undefined : users.get(accountId);
      return user === undefined ? undefined : { username: user.email };
    },
    interactions: { url: (_ctx, interaction) => `${issuerPath}/interaction/${interaction.uid}` },
    cookies: { keys: ['test-idp-cookie-key-0123456789'] },
  });
  provider.on('grant.success', (ctx: KoaContextWithOIDC) => {
    const type = ctx.oidc.params?.grant_type as GrantType | undefined;
    if (type !== undefined && type in counts) counts[type]++;
  });
  provider.on('grant.error', () => counts.refused++);
  provider.on('introspection.error', () => undefined);
  provider.on('server_error', () => undefined);

  const oidcCallback = provider.callback();

  async function interaction(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const m = /^\/interaction\/([^/]+)(?:\/(login|confirm|abort))?$/.exec(path);
    if (m === null) return void res.writeHead(404).end();
    const details = await provider.interactionDetails(req, res);
    const action = m[2];
    const base = `${issuerPath}/interaction/${details.uid}`;
    if (action === undefined) {
      if (details.prompt.name === 'login') {
        return html(
          res,
          `<h1>Sign in</h1><form method="post" action="${base}/login"><input name="login"><input name="password" type="password"><button type="submit">Sign in</button></form>`,
        );
      }
      return html(
        res,
        `<h1>Allow popgate?</h1><p>${String(details.params.scope)}</p><form method="post" action="${base}/confirm"><button type="submit">Allow</button></form><form method="post" action="${base}/abort"><button type="submit">Deny</button></form>`,
      );
    }
    if (req.method !== 'POST') return void res.writeHead(405).end();
    const form = await formBody(req);
    if (action === 'login') {
      const user = users.get(form.get('login') ?? '');
      if (user === undefined || user.password !== form.get('password')) {
        return html(
          res,
          `<h1>Sign in</h1><p>Wrong user or password</p><form method="post" action="${base}/login"><input name="login"><input name="password" type="password"></form>`,
        );
      }
      return provider.interactionFinished(req, res, { login: { accountId: user.accountId } }, { mergeWithLastSubmission: false });
    }
    if (action === 'abort') {
      return provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'the user declined' }, { mergeWithLastSubmission: false });
    }
    const { prompt, params, session, grantId } = details;
    const accountId = session?.accountId as string;
    const grant = grantId !== undefined ? await provider.Grant.find(grantId) : new provider.Grant({ accountId, clientId: params.client_id as string });
    if (grant === undefined) throw new Error('grant vanished');
    const missing = prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
    if (missing.missingOIDCScope !== undefined) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims !== undefined) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
    const saved = await grant.save();
    return provider.interactionFinished(req, res, { consent: { grantId: saved } }, { mergeWithLastSubmission: true });
  }

  route.handle = (req, res) => {
    const url = req.url ?? '/';
    if (issuerPath !== '' && !url.startsWith(`${issuerPath}/`)) return void res.writeHead(404).end();
    const path = url.slice(issuerPath.length).split('?')[0] as string;
    if (path.startsWith('/interaction/')) {
      interaction(req, res, path).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' }).end(String(err));
      });
      return;
    }
    // Mounted below the origin as Express would: the provider sees its own paths, and the original URL.
    const mounted = req as IncomingMessage & { originalUrl?: string };
    mounted.originalUrl = url;
    req.url = url.slice(issuerPath.length) || '/';
    void oidcCallback(req, res);
  };

  const introspectionUrl = `${issuer}/token/introspection`;
  const stop = (): Promise<void> =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
    });

  return {
    issuer,
    port,
    client,
    introspector,
    introspectionUrl,
    appOnlyScope,
    get accessTokenTtlSec() {
      return idp.accessTokenTtlSec;
    },
    set accessTokenTtlSec(v: number) {
      idp.accessTokenTtlSec = v;
    },
    counts,
    async introspect(token) {
      counts.introspections++;
      const res = await fetch(introspectionUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token, client_id: introspector.id, client_secret: introspector.secret }).toString(),
      });
      if (res.status !== 200) throw new Error(`introspection: HTTP ${res.status}`);
      return (await res.json()) as IntrospectionAnswer;
    },
    async consent(authorizationUrl, user, consentOpts = {}) {
      const jar = new Map<string, string>();
      const origin = `http://127.0.0.1:${port}`;
      const request = async (url: string, init: { method?: string; body?: URLSearchParams } = {}): Promise<Response> => {
        const res = await fetch(url, {
          method: init.method ?? 'GET',
          redirect: 'manual',
          headers: {
            cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '),
            ...(init.body !== undefined && { 'content-type': 'application/x-www-form-urlencoded' }),
          },
          ...(init.body !== undefined && { body: init.body.toString() }),
        });
        for (const line of res.headers.getSetCookie()) {
          const [pair] = line.split(';');
          const eq = (pair as string).indexOf('=');
          const name = (pair as string).slice(0, eq).trim();
          const value = (pair as string).slice(eq + 1).trim();
          if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) jar.delete(name);
          else jar.set(name, value);
        }
        return res;
      };
      const submit = async (page: string, action: 'login' | 'confirm' | 'abort', fields: Record<string, string>): Promise<Response> => {
        const form = new RegExp(`<form method="post" action="([^"]*/${action})"`).exec(page);
        if (form === null) throw new Error(`the page has no ${action} form: ${page.slice(0, 300)}`);
        return request(new URL(form[1] as string, origin).href, { method: 'POST', body: new URLSearchParams(fields) });
      };
      let res = await request(authorizationUrl.href);
      for (let step = 0; step < 12; step++) {
        const location = res.headers.get('location');
        if (location !== null) {
          const next = new URL(location, origin);
          if (next.origin !== origin) return next;
          if (opts.redirectUris.some((r) => next.href.startsWith(r))) return next;
          res = await request(next.href);
          continue;
        }
        const page = await res.text();
        if (res.status !== 200) throw new Error(`the provider answered ${res.status}: ${page.slice(0, 300)}`);
        if (page.includes('/login"')) res = await submit(page, 'login', { login: user.login, password: user.password });
        else if (page.includes('/confirm"')) res = await submit(page, consentOpts.decline === true ? 'abort' : 'confirm', {});
        else throw new Error(`unexpected page: ${page.slice(0, 300)}`);
      }
      throw new Error('the consent did not finish in 12 steps');
    },
    revokeAccessToken(token) {
      store.model('AccessToken').delete(token);
    },
    issuedTokens() {
      // Opaque tokens: the stored id is the token value itself.
      return ['AccessToken', 'RefreshToken', 'ClientCredentials'].flatMap((m) => [...store.model(m).keys()]);
    },
    async revokeAccount(accountId) {
      let revoked = 0;
      for (const [id, r] of [...store.model('Grant')]) {
        if (r.payload.accountId !== accountId) continue;
        await store.adapterFor('Grant').revokeByGrantId?.(id);
        store.model('Grant').delete(id);
        revoked++;
      }
      return revoked;
    },
    stop,
    async start() {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => {
          server.off('error', reject);
          resolve();
        });
      });
    },
    async close() {
      if (server.listening) await stop();
    },
  };
}

/** The lines of a Dovecot oauth2 passdb args file that introspect tokens at this provider. */
export function dovecotOauth2Ext(idp: TestIdp, opts: { usernameFormat?: string } = {}): string {
  return [
    `introspection_url = ${idp.introspectionUrl}`,
    'introspection_mode = post',
    `client_id = ${idp.introspector.id}`,
    `client_secret = ${idp.introspector.secret}`,
    'username_attribute = username',
    ...(opts.usernameFormat !== undefined ? [`username_format = ${opts.usernameFormat}`] : []),
    'active_attribute = active',
    'active_value = true',
    'timeout_msecs = 5000',
  ].join('\n');
}
