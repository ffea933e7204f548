/**
 * The whole path in a real browser: Debian's Chromium (headless, playwright-core) signs in to the
 * consent pages, clicks "Link mailbox", signs in and consents at the IdP's own pages
 * (oidc-provider), comes back and reads the device password off the page; fetchmail and poplib
 * then download an OAuth-only Dovecot mailbox through popgate with it, byte for byte. The grant
 * revoked at the IdP: the next login is -ERR [AUTH] and the page says "needs re-consent";
 * re-consent in the browser heals it with the same device password.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { launchChromium, type Chromium } from '../helpers/chromium.js';
import { smallCorpus } from '../helpers/client-corpus.js';
import { cleanup, tempDir } from '../helpers/client-run.js';
import { startConsentStack, WEB_USERS, type ConsentStack } from '../helpers/consent-stack.js';
import { startDovecot, type DovecotInstance } from '../helpers/dovecot.js';
import { assertFetchmailDelivered, runFetchmail } from '../helpers/fetchmail-run.js';
import { IDP_USERS } from '../helpers/identity-stack.js';
import { putMessages } from '../helpers/imap-harness.js';
import { dovecotOauth2Ext } from '../helpers/oidc-idp.js';
import { Pop3TestClient } from '../helpers/pop3-client.js';
import { assertPoplibFetchedExactly, runPoplib } from '../helpers/poplib-run.js';
import { requireProgram } from '../helpers/programs.js';

const AUTH_FAILED = '-ERR [AUTH] Authentication failed.';
const messages = smallCorpus();
const ALICE_IDP = IDP_USERS.find((u) => u.accountId === 'alice') as { accountId: string; password: string };

async function popLogin(port: number, password: string): Promise<{ reply: string; c: Pop3TestClient }> {
  const c = await Pop3TestClient.connect(port);
  assert.match(await c.command('USER alice'), /^\+OK/);
  return { reply: await c.command(`PASS ${password}`), c };
}

describe('consent pages in Chromium: link, download with the device password, revoke, re-consent', () => {
  let dovecot: DovecotInstance | undefined;
  let s: ConsentStack;
  let browser: Chromium;
  let page: Page;
  let extDir: string;
  let work: string;
  let devicePassword = '';
  const cspViolations: string[] = [];

  /** At the IdP: its sign-in form when it asks (it may remember the user), then its consent form; back at popgate. */
  async function consentAtIdp(): Promise<void> {
    const idp = new URL(s.stack.idp.issuer).origin;
    await page.waitForURL((u) => u.origin === idp);
    if ((await page.locator('input[name=login]').count()) > 0) {
      await page.fill('input[name=login]', ALICE_IDP.accountId);
      await page.fill('input[name=password]', ALICE_IDP.password);
      await page.click('button:has-text("Sign in")');
    }
    await page.click('button:has-text("Allow")');
    await page.waitForURL((u) => u.origin === s.url.origin);
  }

  before(async () => {
    requireProgram('python3');
    requireProgram('fetchmail');
    browser = await launchChromium();
    extDir = mkdtempSync(join(tmpdir(), 'popgate-oauth-ext-'));
    chmodSync(extDir, 0o755); // Dovecot's auth process (the dovecot user) reads the .ext file
    s = await startConsentStack({
      imapServer: async (stack) => {
        const extPath = join(extDir, 'dovecot-oauth2.conf.ext');
        writeFileSync(extPath, dovecotOauth2Ext(stack.idp), { mode: 0o644 });
        dovecot = await startDovecot({
          protocols: ['imap'],
          users: { 'alice@example.test': 'unused-password-a' },
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
        return dovecot.imapPort;
      },
    });
    page = await browser.context.newPage();
    page.on('console', (m) => {
      if (/Content.Security.Policy/i.test(m.text())) cspViolations.push(m.text());
    });
    work = tempDir('consent-browser');
  });
  after(async () => {
    await browser?.close();
    await s?.close();
    await dovecot?.stop();
    if (extDir !== undefined) rmSync(extDir, { recursive: true, force: true });
    if (work !== undefined) cleanup(work);
  });

  it('signs in, links the mailbox at the IdP and shows the linked address and a named device password once', async () => {
    await page.goto(s.url.href);
    assert.equal(new URL(page.url()).pathname, '/signin', 'not signed in: the sign-in page');
    await page.fill('input[name=name]', 'alice');
    await page.fill('input[name=password]', WEB_USERS.alice as string);
    await page.click('button:has-text("Sign in")');
    assert.equal(await page.textContent('#signed-in-user'), 'alice');
    await page.click('text=Link mailbox');
    await page.fill('input[name=deviceName]', 'office scanner');
    await page.click('button[name=provider][value=corp]');
    await consentAtIdp();
    assert.equal(new URL(page.url()).pathname, '/link/callback');
    assert.equal(await page.textContent('#linked-address'), 'alice@example.test');
    assert.equal(await page.textContent('#device-name'), 'office scanner');
    devicePassword = ((await page.textContent('#device-password')) ?? '').trim();
    assert.match(devicePassword, /^[a-z2-9]{5}(-[a-z2-9]{5}){3}$/);
    await page.click('text=Back');
    assert.equal(await page.textContent('#link-state'), 'linked');
    assert.match((await page.textContent('#device-passwords')) ?? '', /office scanner/);
    assert.ok(!(await page.content()).includes(devicePassword), 'the account page does not show the password again');
  });

  it('fetchmail downloads the mailbox through popgate with the device password, byte for byte', async () => {
    const dir = join(work, 'fetchmail');
    const outDir = join(dir, 'out');
    const r = await runFetchmail({ dir, port: s.gw.port, user: 'alice', password: devicePassword, outDir, idsFile: join(dir, 'ids'), keep: true });
    assert.equal(r.code, 0, r.log.slice(-2000));
    assertFetchmailDelivered(outDir, messages);
  });

  it('poplib downloads it too, byte for byte; Dovecot saw an OAUTHBEARER login', async () => {
    const outdir = join(work, 'poplib');
    const report = await runPoplib({ port: s.gw.port, user: 'alice', password: devicePassword, outdir });
    assert.equal(report.pass, '+OK Logged in.');
    assertPoplibFetchedExactly(report, outdir, messages);
    assert.match(readFileSync((dovecot as DovecotInstance).logPath, 'utf8'), /Login: user=<alice@example\.test>, method=OAUTHBEARER/);
  });

  it('revoked at the IdP: the next login is -ERR [AUTH] and the page shows "needs re-consent"', async () => {
    assert.ok((await s.stack.idp.revokeAccount('alice')) > 0);
    const denied = await popLogin(s.gw.port, devicePassword);
    assert.equal(denied.reply, AUTH_FAILED);
    await denied.c.quit();
    await page.goto(s.url.href);
    assert.equal(await page.textContent('#link-state'), 'needs re-consent (invalid_grant)');
    assert.match((await page.textContent('main')) ?? '', /Devices cannot log in until you give consent again/);
  });

  it('re-consent in the browser heals it: the same device password logs in again', async () => {
    await page.click('button:has-text("Re-consent")');
    await consentAtIdp();
    assert.equal(await page.textContent('#linked-address'), 'alice@example.test');
    assert.equal(await page.locator('#device-password').count(), 0, 're-consent makes no new device password');
    const healed = await popLogin(s.gw.port, devicePassword);
    assert.equal(healed.reply, '+OK Logged in.');
    assert.match(await healed.c.command('STAT'), new RegExp(`^\\+OK ${messages.length} `));
    await healed.c.quit();
    await page.goto(s.url.href);
    assert.equal(await page.textContent('#link-state'), 'linked');
  });

  it('no CSP violation in the browser; no token, device password or web password in any log line', () => {
    assert.deepEqual(cspViolations, []);
    const secrets = [...s.stack.idp.issuedTokens(), devicePassword, WEB_USERS.alice as string];
    assert.ok(secrets.length > 3);
    for (const secret of secrets) assert.ok(!s.gw.logs.some((l) => l.includes(secret)), 'a secret in the log');
    assert.ok(!s.gw.logs.some((l) => /[?&](code|state)=/.test(l)), 'no callback URL in the log');
    assert.ok(s.gw.logs.some((l) => l.includes('web: signed in')) && s.gw.logs.some((l) => l.includes('web: link started')));
  });
});
