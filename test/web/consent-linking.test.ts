/**
 * Linking through the consent pages over fastify inject(), with the real IdP's login and consent
 * forms: a callback is taken only by the browser that started the link and only for the account
 * it was started for; forged and replayed states are refused; users act on their own account
 * only, admins on any; device passwords are made (shown once) and removed; links are revoked.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startConsentStack, WEB_USERS, type ConsentStack } from '../helpers/consent-stack.js';
import { IDP_USERS, linkMailbox } from '../helpers/identity-stack.js';
import { InjectBrowser } from '../helpers/inject-browser.js';

const pw = (name: string): string => WEB_USERS[name] as string;
const idpUser = (login: string): { login: string; password: string } => ({ login, password: IDP_USERS.find((u) => u.accountId === login)?.password as string });
const DEVICE_PASSWORD = /<code id="device-password">([a-z2-9-]+)<\/code>/;

describe('consent pages: linking, callbacks, device passwords, revoke, admin', () => {
  let s: ConsentStack;
  const signedIn = async (name: string): Promise<InjectBrowser> => {
    const b = new InjectBrowser(s.web.app);
    assert.equal((await b.signIn(name, pw(name))).status, 303, `${name} signs in`);
    await b.get('/');
    return b;
  };
  /** POST /link and the IdP's forms: the callback path+query the provider sends the browser back to. */
  const startAndConsent = async (b: InjectBrowser, fields: Record<string, string>, login: string): Promise<string> => {
    const started = await b.post('/link', fields);
    assert.equal(started.status, 303, started.body);
    const authorize = new URL(started.location as string);
    assert.equal(authorize.origin, new URL(s.stack.idp.issuer).origin);
    assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256');
    assert.ok((authorize.searchParams.get('state') ?? '').length >= 32 && (authorize.searchParams.get('nonce') ?? '').length >= 32);
    const back = await s.stack.idp.consent(authorize, idpUser(login));
    return back.pathname + back.search;
  };

  before(async () => {
    s = await startConsentStack();
  });
  after(async () => {
    await s?.close();
  });

  it('a callback carried to another browser is refused there, and the link started in its own browser still works', async () => {
    const alice = await signedIn('alice');
    const callback = await startAndConsent(alice, { provider: 'corp', deviceName: 'office scanner' }, 'alice');
    const bob = await signedIn('bob');
    const stolen = await bob.get(callback);
    assert.equal(stolen.status, 400);
    assert.match(stolen.body, /matches no link started in this browser/);
    assert.equal(await s.grants.links.get('bob'), undefined, 'nothing linked to bob');
    const stranger = new InjectBrowser(s.web.app);
    assert.equal((await stranger.get(callback)).location, '/signin', 'not signed in: to the sign-in page, nothing taken');
    const forged = new URLSearchParams(callback.split('?')[1]);
    forged.set('state', 'forged-state-forged-state-forged-state-0000');
    assert.equal((await alice.get(`/link/callback?${forged.toString()}`)).status, 400, 'a forged state in the right browser');
    const own = await alice.get(callback);
    assert.equal(own.status, 200, own.body);
    assert.match(own.body, /id="linked-address">alice@example\.test</);
    const password = DEVICE_PASSWORD.exec(own.body)?.[1] as string;
    assert.ok(password, 'the device password is on the page');
    const link = await s.grants.links.get('alice');
    assert.equal(link?.state, 'linked');
    assert.deepEqual(
      link?.devicePasswords.map((d) => d.name),
      ['office scanner'],
    );
    const opened = await s.grants.devices.verify('alice', password, 'corp', s.gw.gateway.logger);
    assert.equal(opened?.address, 'alice@example.test', 'the password shown opens the account');
    const replayed = await alice.get(callback);
    assert.equal(replayed.status, 400, 'a callback is taken once');
    assert.ok(!(await alice.get('/')).body.includes(password), 'the account page does not show it again');
  });

  it('a user may not link for another account; an admin may, and the admin callback is refused if the admin role went meanwhile', async () => {
    const bob = await signedIn('bob');
    assert.equal((await bob.get('/link?account=carol')).status, 403);
    const refused = await bob.post('/link', { provider: 'corp', account: 'carol' });
    assert.equal(refused.status, 403);
    assert.match(refused.body, /Only an admin/);
    const ops = await signedIn('ops');
    const choice = await ops.get('/link?account=carol');
    assert.equal(choice.status, 200);
    assert.match(choice.body, /For the account <b>carol<\/b>/);
    const callback = await startAndConsent(ops, { provider: 'corp', account: 'carol', deviceName: 'front desk' }, 'bob');
    const config = s.gw.gateway.config;
    const web = config.identity?.web as NonNullable<NonNullable<typeof config.identity>['web']>;
    await s.gw.gateway.reload({ ...config, identity: { ...config.identity, providers: config.identity?.providers ?? {}, web: { ...web, admins: [] } } });
    try {
      const mismatch = await ops.get(callback);
      assert.equal(mismatch.status, 403);
      assert.equal(await s.grants.links.get('carol'), undefined, 'nothing linked to carol');
    } finally {
      await s.gw.gateway.reload(config);
    }
    const again = await startAndConsent(ops, { provider: 'corp', account: 'carol', deviceName: 'front desk' }, 'bob');
    const linked = await ops.get(again);
    assert.equal(linked.status, 200);
    assert.match(linked.body, /id="linked-address">bob@example\.test</);
    assert.match(linked.body, /href="\/admin"/, 'back to the admin page');
    assert.ok(DEVICE_PASSWORD.test(linked.body));
    assert.equal((await s.grants.links.get('carol'))?.address, 'bob@example.test');
  });

  it('declined at the IdP: "Consent not given", nothing linked', async () => {
    const dave = await signedIn('dave');
    const started = await dave.post('/link', { provider: 'corp' });
    const back = await s.stack.idp.consent(new URL(started.location as string), idpUser('bob'), { decline: true });
    const r = await dave.get(back.pathname + back.search);
    assert.equal(r.status, 400);
    assert.match(r.body, /Consent not given/);
    assert.equal(await s.grants.links.get('dave'), undefined);
    assert.equal((await dave.post('/link', { provider: 'no-such-provider' })).status, 400, 'an unknown provider');
  });

  it('device passwords: made with a name and shown once, listed, removed; a link is revoked from the page', async () => {
    await linkMailbox(s.grants.links, s.stack.idp, 'dave', 'bob');
    const dave = await signedIn('dave');
    const made = await dave.post('/devices', { name: 'old phone' });
    assert.equal(made.status, 200);
    const password = DEVICE_PASSWORD.exec(made.body)?.[1] as string;
    assert.ok(password);
    assert.match(made.body, /id="device-name">old phone</);
    const page = await dave.get('/');
    assert.match(page.body, /<td>old phone<\/td>/);
    assert.ok(!page.body.includes(password));
    assert.equal((await dave.post('/devices', { name: '' })).status, 400, 'a device password needs a name');
    const id = (await s.grants.links.get('dave'))?.devicePasswords.find((d) => d.name === 'old phone')?.id as string;
    assert.equal((await dave.post('/devices/remove', { id })).status, 303);
    assert.equal((await s.grants.links.get('dave'))?.devicePasswords.length, 0);
    assert.equal((await dave.post('/revoke')).status, 303);
    const revoked = await s.grants.links.get('dave');
    assert.equal(revoked?.state, 'revoked');
    assert.match(revoked?.stateReason ?? '', /user dave \(web\)/);
    assert.match((await dave.get('/')).body, /id="link-state"><span class="state-revoked">revoked</);
  });

  it('a link the provider refused shows "needs re-consent" and a Re-consent form; re-consent keeps the device passwords', async () => {
    await linkMailbox(s.grants.links, s.stack.idp, 'bob', 'bob');
    await s.grants.links.addDevicePassword('bob', 'scanner');
    await s.grants.links.markNeedsReconsent('bob', 'invalid_grant');
    const bob = await signedIn('bob');
    const page = await bob.get('/');
    assert.match(page.body, /needs re-consent/);
    assert.match(page.body, /name="reconsent" value="1"/);
    const started = await bob.post('/link', { provider: 'corp', reconsent: '1' });
    assert.equal(new URL(started.location as string).searchParams.get('login_hint'), 'bob@example.test', 'the provider is told which mailbox');
    const back = await s.stack.idp.consent(new URL(started.location as string), idpUser('bob'));
    const healed = await bob.get(back.pathname + back.search);
    assert.equal(healed.status, 200);
    assert.ok(!DEVICE_PASSWORD.test(healed.body), 'no new device password on re-consent');
    const link = await s.grants.links.get('bob');
    assert.equal(link?.state, 'linked');
    assert.deepEqual(
      link?.devicePasswords.map((d) => d.name),
      ['scanner'],
    );
  });

  it('admin pages: every account with its state for admins only; an admin revokes for an account', async () => {
    const bob = await signedIn('bob');
    assert.equal((await bob.get('/admin')).status, 403);
    assert.equal((await bob.post('/admin/revoke', { account: 'alice' })).status, 403);
    assert.equal((await s.grants.links.get('alice'))?.state, 'linked');
    const ops = await signedIn('ops');
    const all = await ops.get('/admin');
    assert.equal(all.status, 200);
    for (const account of ['alice', 'bob', 'carol', 'dave']) assert.match(all.body, new RegExp(`<td>${account}</td>`));
    assert.match(all.body, /<td>ops<\/td>\s*<td><\/td>\s*<td><\/td>\s*<td><span class="state-none">not linked/, 'users without a link are listed');
    assert.match(all.body, /<td>dave<\/td>[\s\S]*?state-revoked/);
    assert.equal((await ops.post('/admin/revoke', { account: 'alice' })).location, '/admin');
    const alice = await s.grants.links.get('alice');
    assert.equal(alice?.state, 'revoked');
    assert.match(alice?.stateReason ?? '', /admin ops/);
  });

  it('the log names accounts and steps, never a code, state, token or password', () => {
    const secrets = [...Object.values(WEB_USERS), ...s.stack.idp.issuedTokens()];
    for (const secret of secrets) assert.ok(!s.gw.logs.some((l) => l.includes(secret)), 'a secret in the log');
    assert.ok(!s.gw.logs.some((l) => /code=|state=/.test(l)), 'no callback query in the log');
    assert.ok(s.gw.logs.some((l) => l.includes('web: callback refused: the link was started for another account')));
  });
});
