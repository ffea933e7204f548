/**
 * The identity side of a test gateway: a test IdP (oidc-provider), a folder with the client
 * secret and the grants key, the `identity:` config that names them, and linking a mailbox the
 * way a browser would (start, the IdP's login and consent forms, the callback).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LinkSummary } from '../../src/identity/grant-record.js';
import { generateKeyText } from '../../src/identity/keyring.js';
import type { Links } from '../../src/identity/links.js';
import { startTestIdp, type IdpOptions, type IdpUser, type TestIdp } from './oidc-idp.js';

/** Where popgate's consent pages would take the callback; the tests pass its query to Links.finish themselves. */
export const REDIRECT_URL = 'http://127.0.0.1:9/link/callback';

export const IDP_USERS: readonly IdpUser[] = [
  { accountId: 'alice', password: 'alice-idp-pass', email: 'alice@example.test' },
  { accountId: 'bob', password: 'bob-idp-pass', email: 'bob@example.test' },
];

export interface IdentityStack {
  readonly idp: TestIdp;
  readonly dir: string;
  readonly keyFile: string;
  readonly grantsFile: string;
  /** The `identity:` section: provider `corp` (kind oidc) and the grants store. */
  readonly config: Record<string, unknown>;
  close(): Promise<void>;
}

export async function startIdentityStack(opts: Partial<IdpOptions> & { provider?: Record<string, unknown> } = {}): Promise<IdentityStack> {
  const { provider, ...idpOpts } = opts;
  const idp = await startTestIdp({ users: IDP_USERS, redirectUris: [REDIRECT_URL], ...idpOpts });
  const dir = mkdtempSync(join(tmpdir(), 'popgate-identity-'));
  const secretFile = join(dir, 'client-secret');
  writeFileSync(secretFile, `${idp.client.secret}\n`, { mode: 0o600 });
  const keyFile = join(dir, 'grants.key');
  writeFileSync(keyFile, `${generateKeyText()}\n`, { mode: 0o600 });
  const grantsFile = join(dir, 'grants.json');
  const config = {
    providers: {
      corp: {
        kind: 'oidc',
        issuer: idp.issuer,
        clientId: idp.client.id,
        clientSecretFile: secretFile,
        redirectUrl: REDIRECT_URL,
        timeoutMs: 3000,
        ...provider,
      },
    },
    grants: { file: grantsFile, keyFile },
  };
  return {
    idp,
    dir,
    keyFile,
    grantsFile,
    config,
    async close() {
      await idp.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Links `account` to the IdP user `login` through the provider's pages, as a browser would. */
export async function linkMailbox(links: Links, idp: TestIdp, account: string, login: string, provider = 'corp'): Promise<LinkSummary> {
  const user = IDP_USERS.find((u) => u.accountId === login);
  if (user === undefined) throw new Error(`no IdP user ${login}`);
  const started = await links.start(account, provider);
  const back = await idp.consent(started.authorizationUrl, { login, password: user.password });
  return (await links.finish(back.searchParams)).link;
}
