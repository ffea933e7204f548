/**
 * App-only access, as Exchange Online offers it: the gateway holds one application identity
 * (client-credentials grant at a `microsoft` provider) and opens every mailbox of the domain
 * with it, logging in with XOAUTH2 as the mailbox address. The provider is the test IdP under an
 * Entra-style tenant issuer (`<authority>/contoso/v2.0`); Dovecot offers only XOAUTH2 (as
 * Exchange does) and accepts a token for a mailbox when the token names the mailbox's domain.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startDovecot, type DovecotInstance } from '../helpers/dovecot.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { startIdentityStack, type IdentityStack } from '../helpers/identity-stack.js';
import { putMessages } from '../helpers/imap-harness.js';
import { dovecotOauth2Ext } from '../helpers/oidc-idp.js';
import { Pop3TestClient } from '../helpers/pop3-client.js';

async function login(port: number, user: string, password: string): Promise<{ c: Pop3TestClient; reply: string }> {
  const c = await Pop3TestClient.connect(port);
  await c.command(`USER ${user}`);
  return { c, reply: await c.command(`PASS ${password}`) };
}

describe('app-only (Microsoft client credentials): one application token opens every mailbox of the domain over XOAUTH2', () => {
  let stack: IdentityStack;
  let dovecot: DovecotInstance;
  let gw: TestGateway;
  let extDir: string;

  before(async () => {
    stack = await startIdentityStack({ issuerPath: '/contoso/v2.0', appDomain: 'example.test' });
    extDir = mkdtempSync(join(tmpdir(), 'popgate-oauth-ext-'));
    chmodSync(extDir, 0o755);
    const extPath = join(extDir, 'dovecot-oauth2.conf.ext');
    // The token names the domain it may open (app@example.test); Dovecot compares domains (%d of both).
    writeFileSync(extPath, dovecotOauth2Ext(stack.idp, { usernameFormat: '%d' }), { mode: 0o644 });
    dovecot = await startDovecot({
      protocols: ['imap'],
      users: { 'alice@example.test': 'unused-a', 'carol@example.test': 'unused-c', 'mallory@other.test': 'unused-m' },
      extraConfig: ['auth_mechanisms = xoauth2', 'passdb {', '  driver = oauth2', '  mechanisms = xoauth2', `  args = ${extPath}`, '}'].join('\n'),
    });
    putMessages(dovecot, ['Subject: one\n\nfirst\n', 'Subject: two\n\nsecond\n'], 'alice@example.test');
    putMessages(dovecot, ['Subject: for carol\n\nhi\n'], 'carol@example.test');
    putMessages(dovecot, ['Subject: not yours\n\nno\n'], 'mallory@other.test');
    const secretFile = (stack.config.providers as { corp: { clientSecretFile: string } }).corp.clientSecretFile;
    gw = await startTestGateway({
      users: {
        'alice@example.test': { password: 'alice-device' },
        'carol@example.test': { password: 'carol-device' },
        'mallory@other.test': { password: 'mallory-device' },
      },
      tenantConfig: ({ usersFile }) => ({
        adapter: 'imap',
        host: '127.0.0.1',
        port: dovecot.imapPort,
        tls: 'none',
        auth: 'appOnly',
        provider: 'm365',
        users: usersFile,
        userName: 'full',
        domains: ['example.test', 'other.test'],
      }),
      config: {
        identity: {
          providers: {
            m365: {
              kind: 'microsoft',
              // A national cloud's authority is configured the same way; here it is the test IdP.
              authority: `http://127.0.0.1:${stack.idp.port}`,
              tenant: 'contoso',
              clientId: stack.idp.client.id,
              clientSecretFile: secretFile,
              appOnly: { scopes: [stack.idp.appOnlyScope] },
            },
          },
        },
        allowPlaintextAuth: 'always',
        limits: { authFailureDelayMs: 50 },
      },
    });
  });
  after(async () => {
    await gw?.stop();
    await dovecot?.stop();
    await stack?.close();
    if (extDir !== undefined) rmSync(extDir, { recursive: true, force: true });
  });

  it('logs in to each mailbox of the domain with XOAUTH2 and the one cached application token', async () => {
    const before = stack.idp.counts.client_credentials;
    for (const [user, password, count] of [
      ['alice@example.test', 'alice-device', 2],
      ['carol@example.test', 'carol-device', 1],
    ] as const) {
      const { c, reply } = await login(gw.port, user, password);
      assert.equal(reply, '+OK Logged in.');
      assert.match(await c.command('STAT'), new RegExp(`^\\+OK ${count} `));
      await c.quit();
    }
    assert.equal(stack.idp.counts.client_credentials - before, 1, 'one token for every mailbox');
    const log = readFileSync(dovecot.logPath, 'utf8');
    assert.match(log, /Login: user=<alice@example\.test>, method=XOAUTH2/);
    assert.match(log, /Login: user=<carol@example\.test>, method=XOAUTH2/);
  });

  it('a wrong gateway password is [AUTH] and asks the provider nothing', async () => {
    const before = stack.idp.counts.client_credentials;
    const { c, reply } = await login(gw.port, 'alice@example.test', 'wrong');
    assert.equal(reply, '-ERR [AUTH] Authentication failed.');
    await c.quit();
    assert.equal(stack.idp.counts.client_credentials, before);
  });

  it('a mailbox the application may not open: [SYS/PERM] and a log line for the operator (not a wrong password)', async () => {
    const { c, reply } = await login(gw.port, 'mallory@other.test', 'mallory-device');
    assert.match(reply, /^-ERR \[SYS\/PERM\] /);
    await c.quit();
    assert.ok(gw.logs.some((l) => l.includes('app-only token') && l.includes('Add-MailboxPermission')));
  });

  it('the provider down with no cached token: [SYS/TEMP]', async () => {
    // A reload that changes the provider's settings makes a new client: nothing is cached.
    const cfg = structuredClone(gw.config);
    const m365 = cfg.identity?.providers.m365;
    assert.ok(m365 !== undefined);
    await gw.gateway.reload({ ...cfg, identity: { providers: { m365: { ...m365, timeoutMs: m365.timeoutMs + 1 } } } });
    assert.notEqual(gw.gateway.identity.providers.get('m365'), undefined);
    await stack.idp.stop();
    try {
      const { c, reply } = await login(gw.port, 'carol@example.test', 'carol-device');
      assert.match(reply, /^-ERR \[SYS\/TEMP\] /);
      await c.quit();
    } finally {
      await stack.idp.start();
    }
    const { c, reply } = await login(gw.port, 'carol@example.test', 'carol-device');
    assert.equal(reply, '+OK Logged in.');
    await c.quit();
  });
});
