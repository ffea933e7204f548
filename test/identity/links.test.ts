/**
 * Linking and token brokering against a real OpenID provider (oidc-provider over HTTP): the
 * authorization-code flow with PKCE, state and nonce driven through the provider's own pages,
 * the stored grant, refresh with rotation, one refresh for many callers, a revoked grant, an
 * unreachable provider, revocation and key rotation.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, beforeEach, describe, it } from 'node:test';
import { StoreError } from '../../src/errors.js';
import { identitySchema } from '../../src/identity/config.js';
import { Identity, type Grants } from '../../src/identity/identity.js';
import { generateKeyText, keyIdOf } from '../../src/identity/keyring.js';
import { LinkError } from '../../src/identity/links.js';
import { linkMailbox, startIdentityStack, type IdentityStack } from '../helpers/identity-stack.js';
import { collectingLogger } from '../helpers/log-sink.js';

describe('linking mailboxes and brokering tokens with a real OpenID provider', () => {
  let stack: IdentityStack;
  let identity: Identity;
  let grants: Grants;
  let logs: string[];

  const load = async (): Promise<void> => {
    const { logger, lines } = collectingLogger();
    logs = lines;
    identity = await Identity.load(identitySchema.parse(stack.config), logger);
    grants = identity.grants as Grants;
  };

  before(async () => {
    stack = await startIdentityStack();
  });
  beforeEach(async () => {
    writeFileSync(stack.grantsFile, JSON.stringify({ version: 1, grants: {} }), { mode: 0o600 });
    await load();
  });
  after(async () => {
    await stack?.close();
  });

  it('links a mailbox: address and subject from the ID token, state linked, the refresh token only sealed in the file', async () => {
    const started = await grants.links.start('alice', 'corp');
    const url = started.authorizationUrl;
    assert.equal(url.searchParams.get('code_challenge_method'), 'S256');
    assert.equal(url.searchParams.get('state'), started.pending.state);
    assert.ok((url.searchParams.get('nonce') ?? '').length >= 32);
    assert.match(url.searchParams.get('scope') ?? '', /offline_access/);
    const back = await stack.idp.consent(url, { login: 'alice', password: 'alice-idp-pass' });
    assert.equal(back.searchParams.get('iss'), stack.idp.issuer, 'the provider names itself in the callback (RFC 9207)');
    const { link } = await grants.links.finish(back.searchParams);
    assert.deepEqual(
      { account: link.account, provider: link.provider, address: link.address, subject: link.subject, state: link.state },
      { account: 'alice', provider: 'corp', address: 'alice@example.test', subject: 'alice', state: 'linked' },
    );
    assert.ok(link.scopes.includes('offline_access'));
    const file = readFileSync(stack.grantsFile, 'utf8');
    const issued = stack.idp.issuedTokens();
    assert.ok(issued.length >= 2, 'the provider issued an access and a refresh token');
    for (const token of issued) assert.ok(!file.includes(token), 'no issued token appears in the grants file');
    const stored = JSON.parse(file) as { grants: { alice: { refreshToken: { kid: string } } } };
    assert.equal(stored.grants.alice.refreshToken.kid, keyIdOf(Buffer.from(readFileSync(stack.keyFile, 'utf8').trim(), 'base64')));
    assert.ok(logs.some((l) => l.includes('mailbox linked')));
    for (const token of issued) assert.ok(!logs.some((l) => l.includes(token)), 'no token in the log');
  });

  it('takes a callback once; a replayed, forged or declined consent links nothing', async () => {
    const started = await grants.links.start('bob', 'corp');
    const back = await stack.idp.consent(started.authorizationUrl, { login: 'bob', password: 'bob-idp-pass' });
    const forged = new URLSearchParams(back.searchParams);
    forged.set('state', 'not-the-state');
    await assert.rejects(grants.links.finish(forged), (e: unknown) => e instanceof LinkError && e.kind === 'no-pending-link');
    await grants.links.finish(back.searchParams);
    await assert.rejects(grants.links.finish(back.searchParams), (e: unknown) => e instanceof LinkError && e.kind === 'no-pending-link', 'replayed');
    const declined = await grants.links.start('carol', 'corp');
    const no = await stack.idp.consent(declined.authorizationUrl, { login: 'alice', password: 'alice-idp-pass' }, { decline: true });
    assert.equal(no.searchParams.get('error'), 'access_denied');
    await assert.rejects(grants.links.finish(no.searchParams), (e: unknown) => e instanceof LinkError && e.kind === 'consent-failed');
    assert.equal(await grants.links.get('carol'), undefined);
    // A code swapped into another started link fails the PKCE and state checks at the provider.
    const first = await grants.links.start('dave', 'corp');
    const second = await grants.links.start('erin', 'corp');
    const code = (await stack.idp.consent(first.authorizationUrl, { login: 'alice', password: 'alice-idp-pass' })).searchParams;
    const swapped = new URLSearchParams(code);
    swapped.set('state', second.pending.state);
    await assert.rejects(grants.links.finish(swapped), (e: unknown) => e instanceof LinkError && e.kind === 'consent-failed');
    await assert.rejects(grants.links.start('x', 'nope'), (e: unknown) => e instanceof LinkError && e.kind === 'unknown');
  });

  it('caches the access token; a refresh rotates the refresh token and stores the new one (the old one is spent)', async () => {
    await linkMailbox(grants.links, stack.idp, 'alice', 'alice');
    const before = stack.idp.counts.refresh_token;
    const sealedBefore = readFileSync(stack.grantsFile, 'utf8');
    const t1 = await grants.broker.accessToken('alice', 'corp');
    assert.equal(stack.idp.counts.refresh_token, before + 1);
    assert.equal(await grants.broker.accessToken('alice', 'corp'), t1, 'cached');
    assert.equal(stack.idp.counts.refresh_token, before + 1);
    assert.notEqual(readFileSync(stack.grantsFile, 'utf8'), sealedBefore, 'the rotated refresh token was stored');
    assert.equal((await stack.idp.introspect(t1)).username, 'alice@example.test');
    grants.broker.invalidate('alice', 'corp', t1);
    const t2 = await grants.broker.accessToken('alice', 'corp');
    assert.notEqual(t2, t1);
    assert.equal(stack.idp.counts.refresh_token, before + 2, 'the second refresh used the rotated token (a spent one would be invalid_grant)');
    // A fresh gateway process reads the rotated token from the file.
    await load();
    assert.ok((await identity.grants?.broker.accessToken('alice', 'corp')) !== undefined);
    assert.equal((await grants.links.get('alice'))?.state, 'linked');
  });

  it('twenty callers at once get one refresh', async () => {
    await linkMailbox(grants.links, stack.idp, 'alice', 'alice');
    const before = stack.idp.counts.refresh_token;
    const tokens = await Promise.all(Array.from({ length: 20 }, () => grants.broker.accessToken('alice', 'corp')));
    assert.equal(new Set(tokens).size, 1);
    assert.equal(stack.idp.counts.refresh_token - before, 1);
  });

  it('a grant revoked at the provider: AUTH_FAILED, the link needs re-consent, the log says what to do and holds no token', async () => {
    await linkMailbox(grants.links, stack.idp, 'bob', 'bob');
    assert.ok((await stack.idp.revokeAccount('bob')) >= 1);
    await assert.rejects(grants.broker.accessToken('bob', 'corp'), (e: unknown) => e instanceof StoreError && e.code === 'AUTH_FAILED');
    const link = await grants.links.get('bob');
    assert.equal(link?.state, 'needs-reconsent');
    assert.equal(link?.stateReason, 'invalid_grant');
    assert.ok(!readFileSync(stack.grantsFile, 'utf8').includes('"refreshToken"'), 'the dead token is dropped');
    const line = logs.find((l) => l.includes('needs re-consent'));
    assert.ok(line?.includes('link the mailbox again'), line);
    for (const token of stack.idp.issuedTokens()) assert.ok(!logs.some((l) => l.includes(token)));
    await assert.rejects(grants.broker.accessToken('bob', 'corp'), /needs-reconsent/, 'no more requests to the provider');
    // Re-consent: linked again, device passwords kept.
    const device = await grants.links.addDevicePassword('bob', 'scanner');
    await linkMailbox(grants.links, stack.idp, 'bob', 'bob');
    const relinked = await grants.links.get('bob');
    assert.equal(relinked?.state, 'linked');
    assert.deepEqual(
      relinked?.devicePasswords.map((d) => d.id),
      [device.id],
    );
    assert.ok((await grants.broker.accessToken('bob', 'corp')).length > 0);
  });

  it('an unreachable provider is TEMPORARY (the link stays linked); back up, it works', async () => {
    await linkMailbox(grants.links, stack.idp, 'alice', 'alice');
    await stack.idp.stop();
    try {
      await assert.rejects(grants.broker.accessToken('alice', 'corp'), (e: unknown) => e instanceof StoreError && e.code === 'TEMPORARY');
      assert.equal((await grants.links.get('alice'))?.state, 'linked');
      // A gateway that has not read the provider's metadata yet cannot start a link either.
      await load();
      await assert.rejects(grants.links.start('alice', 'corp'), (e: unknown) => e instanceof LinkError && e.kind === 'provider-unavailable');
    } finally {
      await stack.idp.start();
    }
    assert.ok((await grants.broker.accessToken('alice', 'corp')).length > 0);
  });

  it('revoking a link revokes the grant at the provider and drops the token; device passwords stay', async () => {
    await linkMailbox(grants.links, stack.idp, 'alice', 'alice');
    const token = await grants.broker.accessToken('alice', 'corp');
    await grants.links.addDevicePassword('alice', 'phone');
    const { link, revokedAtProvider } = await grants.links.revoke('alice', 'test');
    assert.equal(revokedAtProvider, true);
    assert.equal(link.state, 'revoked');
    assert.equal(link.devicePasswords.length, 1);
    assert.equal((await stack.idp.introspect(token)).active, false, 'revoking the refresh token ended the grant at the provider');
    await assert.rejects(grants.broker.accessToken('alice', 'corp'), (e: unknown) => e instanceof StoreError && e.code === 'AUTH_FAILED');
  });

  it('device passwords: added (shown once), checked, removed by id or name', async () => {
    await linkMailbox(grants.links, stack.idp, 'alice', 'alice');
    const a = await grants.links.addDevicePassword('alice', 'office scanner');
    const b = await grants.links.addDevicePassword('alice', 'old phone');
    const { logger } = collectingLogger();
    assert.equal((await grants.devices.verify('alice', a.password, 'corp', logger))?.address, 'alice@example.test');
    assert.equal(await grants.devices.verify('alice', a.password, 'other', logger), undefined, 'another provider');
    assert.equal(await grants.devices.verify('bob', a.password, 'corp', logger), undefined, 'another account');
    assert.equal(await grants.links.removeDevicePassword('alice', 'old phone'), 1);
    assert.equal(await grants.devices.verify('alice', b.password, 'corp', logger), undefined);
    assert.equal(await grants.links.removeDevicePassword('alice', a.id), 1);
    assert.equal(await grants.devices.verify('alice', a.password, 'corp', logger), undefined);
    assert.ok(!readFileSync(stack.grantsFile, 'utf8').includes(a.password));
    await assert.rejects(grants.links.addDevicePassword('nobody', 'x'), /no link/);
  });

  it('key rotation: a new current key re-seals every grant; the old key can then go', async () => {
    await linkMailbox(grants.links, stack.idp, 'alice', 'alice');
    await linkMailbox(grants.links, stack.idp, 'bob', 'bob');
    const oldKey = readFileSync(stack.keyFile, 'utf8').trim();
    const newKey = generateKeyText();
    writeFileSync(stack.keyFile, `${newKey}\n${oldKey}\n`);
    await load();
    const { changed, keyId } = await grants.links.rotateKeys();
    assert.equal(changed, 2);
    assert.equal(keyId, keyIdOf(Buffer.from(newKey, 'base64')));
    const kids = Object.values(
      (JSON.parse(readFileSync(stack.grantsFile, 'utf8')) as { grants: Record<string, { refreshToken: { kid: string } }> }).grants,
    ).map((g) => g.refreshToken.kid);
    assert.deepEqual(kids, [keyId, keyId]);
    assert.equal((await grants.links.rotateKeys()).changed, 0, 'nothing left to move');
    writeFileSync(stack.keyFile, `${newKey}\n`);
    await load();
    assert.ok((await grants.broker.accessToken('bob', 'corp')).length > 0, 'the grants open with the new key alone');
    writeFileSync(stack.keyFile, `${oldKey}\n`);
    await load();
    await assert.rejects(grants.broker.accessToken('alice', 'corp'), (e: unknown) => e instanceof StoreError && e.code === 'PERMANENT');
    assert.ok(logs.some((l) => l.includes('cannot be decrypted')));
  });
});
