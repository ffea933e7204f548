/**
 * Grant tenants over HTTP (Gmail API, REST store): the stand-ins accept only bearer tokens the
 * test IdP vouches for (its introspection endpoint), so every request proves the token is live.
 * A token that expires during a long session is renewed before the next request; one the
 * provider ends early is refused once (401), renewed and the request sent again.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { Grants } from '../../src/identity/identity.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startGmailStandin, type GmailStandin } from '../helpers/gmail-standin.js';
import { linkMailbox, startIdentityStack, type IdentityStack } from '../helpers/identity-stack.js';
import type { TestIdp } from '../helpers/oidc-idp.js';
import { Pop3TestClient } from '../helpers/pop3-client.js';
import { startRestStore, type RestStoreServer } from '../helpers/rest-store.js';

const ADDRESS = 'alice@example.test';
const bodies = ['Subject: one\r\n\r\nfirst message\r\n', 'Subject: two\r\n\r\nsecond message\r\n', 'Subject: three\r\n\r\nthird message\r\n'];

/** The user an active token is for, by the provider's introspection. */
function verifierOf(idp: TestIdp): (token: string) => Promise<string | undefined> {
  return async (token) => {
    const answer = await idp.introspect(token);
    return answer.active ? answer.username : undefined;
  };
}

async function session(port: number, password: string): Promise<Pop3TestClient> {
  const c = await Pop3TestClient.connect(port);
  await c.command('USER alice');
  assert.equal(await c.command(`PASS ${password}`), '+OK Logged in.');
  return c;
}

for (const backend of ['gmail', 'rest'] as const) {
  describe(`${backend} grant tenant: tokens renewed during the session`, () => {
    let stack: IdentityStack;
    let gw: TestGateway;
    let grants: Grants;
    let password: string;
    let gmail: GmailStandin | undefined;
    let rest: RestStoreServer | undefined;

    before(async () => {
      stack = await startIdentityStack();
      let tenant: Record<string, unknown>;
      if (backend === 'gmail') {
        gmail = await startGmailStandin({ verifyToken: verifierOf(stack.idp) });
        for (const b of bodies) gmail.add(ADDRESS, Buffer.from(b));
        tenant = { adapter: 'gmail', auth: 'grant', provider: 'corp', baseUrl: gmail.baseUrl, deleteMode: 'keep', requestTimeoutMs: 5000 };
      } else {
        rest = await startRestStore({ auth: { kind: 'verified', verify: verifierOf(stack.idp) }, sizes: true });
        rest.seed(
          ADDRESS,
          bodies.map((b) => Buffer.from(b)),
        );
        tenant = { adapter: 'rest', auth: 'grant', provider: 'corp', baseUrl: rest.baseUrl, deleteMode: 'keep', requestTimeoutMs: 3000 };
      }
      gw = await startTestGateway({
        users: {},
        tenantConfig: tenant,
        config: { identity: stack.config, allowPlaintextAuth: 'always', limits: { authFailureDelayMs: 50 } },
      });
      grants = gw.gateway.identity.grants as Grants;
      await linkMailbox(grants.links, stack.idp, 'alice', 'alice');
      password = (await grants.links.addDevicePassword('alice', 'printer')).password;
    });
    after(async () => {
      await gw?.stop();
      await gmail?.close();
      await rest?.stop();
      await stack?.close();
    });

    it('a token that expires during the session is renewed before the next request', async () => {
      stack.idp.accessTokenTtlSec = 2;
      try {
        grants.broker.forget('alice');
        const before = stack.idp.counts.refresh_token;
        const c = await session(gw.port, password);
        assert.equal(stack.idp.counts.refresh_token - before, 1, 'one refresh at login');
        // Past the token's lifetime: the next upstream request needs a new one.
        await sleep(2300);
        const retr = await c.multiline('RETR 1');
        assert.match(retr.status, /^\+OK/);
        assert.equal(retr.body.toString(), bodies[0]);
        assert.equal(stack.idp.counts.refresh_token - before, 2, 'renewed once, mid-session');
        assert.match(await c.command('QUIT'), /^\+OK/);
      } finally {
        stack.idp.accessTokenTtlSec = 3600;
        grants.broker.forget('alice');
      }
    });

    it('a token the provider ends early is refused once, renewed, and the request sent again', async () => {
      const c = await session(gw.port, password);
      const current = await grants.broker.accessToken('alice', 'corp');
      stack.idp.revokeAccessToken(current);
      assert.equal((await stack.idp.introspect(current)).active, false);
      const before = stack.idp.counts.refresh_token;
      const retr = await c.multiline('RETR 2');
      assert.match(retr.status, /^\+OK/);
      assert.equal(retr.body.toString(), bodies[1]);
      assert.equal(stack.idp.counts.refresh_token - before, 1);
      assert.notEqual(await grants.broker.accessToken('alice', 'corp'), current);
      assert.match(await c.command('QUIT'), /^\+OK/);
    });

    it('the grant revoked at the provider: the next login is [AUTH] and the link needs re-consent', async () => {
      await stack.idp.revokeAccount('alice');
      const c = await Pop3TestClient.connect(gw.port);
      await c.command('USER alice');
      assert.equal(await c.command(`PASS ${password}`), '-ERR [AUTH] Authentication failed.');
      await c.quit();
      assert.equal((await grants.links.get('alice'))?.state, 'needs-reconsent');
      for (const token of stack.idp.issuedTokens()) assert.ok(!gw.logs.some((l) => l.includes(token)));
    });
  });
}
