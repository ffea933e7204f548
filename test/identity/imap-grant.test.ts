/**
 * End to end: a POP3 device that knows only USER/PASS reaches an OAuth-only IMAP mailbox.
 * A real OpenID provider (oidc-provider) issues the tokens; a real Dovecot accepts only bearer
 * tokens, checking each at the provider's introspection endpoint (oauth2 passdb); popgate holds
 * the grant the user gave once and logs in upstream with XOAUTH2/OAUTHBEARER.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Grants } from '../../src/identity/identity.js';
import { smallCorpus } from '../helpers/client-corpus.js';
import { cleanup, tempDir } from '../helpers/client-run.js';
import { startDovecot, type DovecotInstance } from '../helpers/dovecot.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { linkMailbox, startIdentityStack, type IdentityStack } from '../helpers/identity-stack.js';
import { putMessages } from '../helpers/imap-harness.js';
import { dovecotOauth2Ext } from '../helpers/oidc-idp.js';
import { Pop3TestClient } from '../helpers/pop3-client.js';
import { assertPoplibFetchedExactly, runPoplib } from '../helpers/poplib-run.js';
import { requireProgram } from '../helpers/programs.js';

const AUTH_FAILED = '-ERR [AUTH] Authentication failed.';
const messages = smallCorpus();

async function login(port: number, user: string, password: string): Promise<{ c: Pop3TestClient; reply: string; ms: number }> {
  const c = await Pop3TestClient.connect(port);
  assert.match(await c.command(`USER ${user}`), /^\+OK/);
  const started = Date.now();
  const reply = await c.command(`PASS ${password}`);
  return { c, reply, ms: Date.now() - started };
}

describe('grant tenant: device password -> token from the stored grant -> XOAUTH2 to an OAuth-only Dovecot', () => {
  let stack: IdentityStack;
  let dovecot: DovecotInstance;
  let gw: TestGateway;
  let grants: Grants;
  let extDir: string;
  let work: string;
  const devicePasswords: Record<string, string> = {};

  before(async () => {
    requireProgram('python3');
    stack = await startIdentityStack();
    extDir = mkdtempSync(join(tmpdir(), 'popgate-oauth-ext-'));
    chmodSync(extDir, 0o755); // Dovecot's auth process (the dovecot user) reads the .ext file
    const extPath = join(extDir, 'dovecot-oauth2.conf.ext');
    writeFileSync(extPath, dovecotOauth2Ext(stack.idp), { mode: 0o644 });
    dovecot = await startDovecot({
      protocols: ['imap'],
      users: { 'alice@example.test': 'unused-password-a', 'bob@example.test': 'unused-password-b' },
      // Tokens only: the passwd-file passdb serves the userdb; logins must be bearer tokens.
      extraConfig: [
        'auth_mechanisms = oauthbearer xoauth2',
        'passdb {',
        '  driver = oauth2',
        '  mechanisms = oauthbearer xoauth2',
        `  args = ${extPath}`,
        '}',
      ].join('\n'),
    });
    putMessages(
      dovecot,
      messages.map((m) => m.content),
      'alice@example.test',
    );
    putMessages(dovecot, ['Subject: for bob\n\nhello bob\n'], 'bob@example.test');
    gw = await startTestGateway({
      users: {},
      tenantConfig: { adapter: 'imap', host: '127.0.0.1', port: dovecot.imapPort, tls: 'none', auth: 'grant', provider: 'corp' },
      config: { identity: stack.config, allowPlaintextAuth: 'always', limits: { authFailureDelayMs: 200 } },
    });
    grants = gw.gateway.identity.grants as Grants;
    for (const account of ['alice', 'bob']) {
      await linkMailbox(grants.links, stack.idp, account, account);
      devicePasswords[account] = (await grants.links.addDevicePassword(account, 'office scanner')).password;
    }
    work = tempDir('identity-imap');
  });
  after(async () => {
    await gw?.stop();
    await dovecot?.stop();
    await stack?.close();
    if (extDir !== undefined) rmSync(extDir, { recursive: true, force: true });
    if (work !== undefined) cleanup(work);
  });

  it('Dovecot refuses a password: only tokens open its mailboxes', async () => {
    const { ImapFlow } = await import('imapflow');
    const client = new ImapFlow({
      host: '127.0.0.1',
      port: dovecot.imapPort,
      secure: false,
      auth: { user: 'alice@example.test', pass: 'unused-password-a' },
      logger: false,
    });
    client.on('error', () => undefined);
    await assert.rejects(client.connect());
  });

  it('poplib downloads the whole mailbox with the device password, byte for byte', async () => {
    const outdir = join(work, 'poplib');
    const report = await runPoplib({ port: gw.port, user: 'alice', password: devicePasswords.alice as string, outdir });
    assert.equal(report.pass, '+OK Logged in.');
    assertPoplibFetchedExactly(report, outdir, messages);
    assert.match(readFileSync(dovecot.logPath, 'utf8'), /imap-login: Info: Login: user=<alice@example\.test>, method=OAUTHBEARER/);
  });

  it('a wrong device password gets the same reply, after the same delay, as an unknown user', async () => {
    const wrong = await login(gw.port, 'alice', 'aaaaa-bbbbb-ccccc-ddddd');
    const unknown = await login(gw.port, 'nobody', 'aaaaa-bbbbb-ccccc-ddddd');
    const otherAccounts = await login(gw.port, 'alice', devicePasswords.bob as string);
    for (const r of [wrong, unknown, otherAccounts]) {
      assert.equal(r.reply, AUTH_FAILED);
      assert.ok(r.ms >= 200, `the failure delay applies (${r.ms} ms)`);
      await r.c.quit();
    }
    assert.ok(Math.abs(wrong.ms - unknown.ms) < 150, `wrong password ${wrong.ms} ms, unknown user ${unknown.ms} ms`);
    const right = await login(gw.port, 'alice', (devicePasswords.alice as string).toUpperCase());
    assert.equal(right.reply, '+OK Logged in.', 'typed in capitals, still the password');
    await right.c.quit();
  });

  it('twenty sessions of one account logging in at once cause one refresh; one gets the mailbox, the others [IN-USE]', async () => {
    grants.broker.forget('bob');
    const before = stack.idp.counts.refresh_token;
    const sessions = await Promise.all(Array.from({ length: 20 }, () => login(gw.port, 'bob', devicePasswords.bob as string)));
    const replies = sessions.map((s) => s.reply);
    assert.equal(replies.filter((r) => r === '+OK Logged in.').length, 1, replies.join('\n'));
    assert.equal(replies.filter((r) => r.startsWith('-ERR [IN-USE]')).length, 19, replies.join('\n'));
    assert.equal(stack.idp.counts.refresh_token - before, 1);
    await Promise.all(sessions.map((s) => s.c.quit()));
  });

  it('the grant revoked at the provider: the next login is [AUTH] and the link needs re-consent; re-consent heals it', async () => {
    const first = await login(gw.port, 'bob', devicePasswords.bob as string);
    assert.equal(first.reply, '+OK Logged in.', 'works with the cached token');
    await first.c.quit();
    await stack.idp.revokeAccount('bob');
    const after = await login(gw.port, 'bob', devicePasswords.bob as string);
    assert.equal(after.reply, AUTH_FAILED);
    await after.c.quit();
    assert.equal((await grants.links.get('bob'))?.state, 'needs-reconsent');
    assert.ok(gw.logs.some((l) => l.includes('needs re-consent') && l.includes('link the mailbox again')));
    await linkMailbox(grants.links, stack.idp, 'bob', 'bob');
    const healed = await login(gw.port, 'bob', devicePasswords.bob as string);
    assert.equal(healed.reply, '+OK Logged in.', 'the same device password works after re-consent');
    assert.match(await healed.c.command('STAT'), /^\+OK 1 /);
    await healed.c.quit();
  });

  it('the provider down: [SYS/TEMP], not [AUTH]; the link stays linked and works once it is back', async () => {
    grants.broker.forget('alice');
    await stack.idp.stop();
    try {
      const down = await login(gw.port, 'alice', devicePasswords.alice as string);
      assert.match(down.reply, /^-ERR \[SYS\/TEMP\] /);
      await down.c.quit();
      assert.equal((await grants.links.get('alice'))?.state, 'linked');
    } finally {
      await stack.idp.start();
    }
    const back = await login(gw.port, 'alice', devicePasswords.alice as string);
    assert.equal(back.reply, '+OK Logged in.');
    await back.c.quit();
  });

  it('no log line holds a token or a device password; the grants file holds no token', () => {
    const secrets = [...stack.idp.issuedTokens(), ...Object.values(devicePasswords)];
    assert.ok(secrets.length > 4);
    for (const s of secrets) assert.ok(!gw.logs.some((l) => l.includes(s)), 'a secret in the log');
    const file = readFileSync(stack.grantsFile, 'utf8');
    for (const s of secrets) assert.ok(!file.includes(s), 'a secret in the grants file');
  });
});
