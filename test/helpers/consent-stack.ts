/**
 * A gateway with consent pages for the web tests: the test IdP (oidc-provider) with popgate's
 * callback registered, a grant tenant (IMAP, on a Dovecot when one is given), a users file for
 * the pages' sign-in with an admin, and `identity.web` on a loopback port chosen up front (the
 * IdP must know the callback URL before the gateway starts).
 */
import { join } from 'node:path';
import { hashPassword } from '../../src/auth/password-hash.js';
import { UsersFile } from '../../src/auth/users-file.js';
import type { Grants } from '../../src/identity/identity.js';
import type { ConsentServer } from '../../src/web/listener.js';
import { freePort } from './client-run.js';
import { startTestGateway, type TestGateway } from './gateway.js';
import { startIdentityStack, type IdentityStack } from './identity-stack.js';
import { testCert } from './tls.js';

/** Who may sign in to the pages, and their (web) passwords. `ops` is the admin. */
export const WEB_USERS: Readonly<Record<string, string>> = {
  alice: 'alice-web-password',
  bob: 'bob-web-password',
  carol: 'carol-web-password',
  dave: 'dave-web-password',
  ops: 'ops-web-password',
  '<script>alert(1)</script>': 'script-web-password',
};
export const WEB_ADMIN = 'ops';

export interface ConsentStack {
  readonly stack: IdentityStack;
  readonly gw: TestGateway;
  readonly web: ConsentServer;
  readonly grants: Grants;
  /** The pages' address, e.g. http://127.0.0.1:PORT/ */
  readonly url: URL;
  readonly webUsersFile: string;
  close(): Promise<void>;
}

export interface ConsentStackOptions {
  /**
   * The grant tenant's IMAP server: started once the IdP runs (a Dovecot introspecting at it),
   * resolving its port. Default: a closed port (the pages need no mailbox).
   */
  readonly imapServer?: (stack: IdentityStack) => Promise<number>;
  /** Keys merged into `identity.web`. */
  readonly web?: Record<string, unknown>;
  readonly gatewayConfig?: Record<string, unknown>;
  /** Serve the pages over HTTPS with the test certificate (localhost, 127.0.0.1). */
  readonly tls?: boolean;
}

export async function startConsentStack(opts: ConsentStackOptions = {}): Promise<ConsentStack> {
  const port = await freePort();
  const callback = `${opts.tls === true ? 'https' : 'http'}://127.0.0.1:${port}/link/callback`;
  const cert = opts.tls === true ? testCert() : undefined;
  const stack = await startIdentityStack({ redirectUris: [callback], provider: { redirectUrl: callback } });
  const webUsersFile = join(stack.dir, 'web-users.yaml');
  const hashed = await Promise.all(Object.entries(WEB_USERS).map(async ([name, password]) => [name, await hashPassword(password)] as const));
  new UsersFile(webUsersFile).update((users) => {
    for (const [name, password] of hashed) users.set(name, { password });
  });
  let imapPort = 9;
  let gw: TestGateway;
  try {
    if (opts.imapServer !== undefined) imapPort = await opts.imapServer(stack);
    gw = await startWebGateway();
  } catch (err) {
    await stack.close();
    throw err;
  }
  async function startWebGateway(): Promise<TestGateway> {
    return startTestGateway({
      users: {},
      tenantConfig: { adapter: 'imap', host: '127.0.0.1', port: imapPort, tls: 'none', auth: 'grant', provider: 'corp' },
      config: {
        identity: {
          ...stack.config,
          web: {
            listen: { host: '127.0.0.1', port },
            users: webUsersFile,
            admins: [WEB_ADMIN],
            ...(cert !== undefined && { tls: { cert: cert.certPath, key: cert.keyPath } }),
            ...opts.web,
          },
        },
        allowPlaintextAuth: 'always',
        limits: { authFailureDelayMs: 200 },
        ...opts.gatewayConfig,
      },
    });
  }
  const web = gw.gateway.web;
  if (web === undefined) throw new Error('the gateway started no consent pages');
  return {
    stack,
    gw,
    web,
    grants: gw.gateway.identity.grants as Grants,
    url: web.url,
    webUsersFile,
    async close() {
      await gw.stop();
      await stack.close();
    },
  };
}
