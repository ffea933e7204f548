/** The `identity:` section and the tenants that use it: every mistake is a start-up error naming its key. */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config/loader.js';
import { ConfigError } from '../../src/errors.js';
import { identitySchema } from '../../src/identity/config.js';
import { Identity } from '../../src/identity/identity.js';
import { generateKeyText } from '../../src/identity/keyring.js';
import { providerSettings } from '../../src/identity/provider-settings.js';
import { createLogger } from '../../src/logger.js';
import { configIssues } from '../helpers/config-issues.js';

const base = (tenant: string, identity: string): string => `
listeners: [{ host: 127.0.0.1, port: 1110 }]
tenants:
  main: ${tenant}
${identity}`;

const imapGrant = '{ adapter: imap, host: 127.0.0.1, tls: none, auth: grant, provider: corp }';
const corp = `identity:
  providers:
    corp: { kind: oidc, issuer: 'https://id.example.com/realms/mail', clientId: popgate, clientSecretFile: corp.secret, redirectUrl: 'https://popgate.example.com/link/callback' }
  grants: { file: grants.json, keyFile: grants.key }
`;

const problems = (text: string): string => configIssues(text).join('\n');

describe('identity config', () => {
  it('accepts providers and a grants store; resolves their files against the config folder; fills the kinds defaults', () => {
    const cfg = parseConfig(base(imapGrant, corp), '/etc/popgate');
    assert.equal(cfg.identity?.grants?.file, '/etc/popgate/grants.json');
    assert.equal(cfg.identity?.grants?.keyFile, '/etc/popgate/grants.key');
    const p = cfg.identity?.providers.corp;
    assert.equal(p?.clientSecretFile, '/etc/popgate/corp.secret');
    assert.equal(p?.clientAuth, 'post');
    const ms = identitySchema.parse({
      providers: { m: { kind: 'microsoft', clientId: 'x', clientSecretEnv: 'MS_SECRET', tenant: 'contoso.onmicrosoft.com', appOnly: {} } },
    }).providers.m;
    assert.ok(ms !== undefined);
    const settings = providerSettings(ms);
    assert.equal(settings.issuer.href, 'https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0');
    assert.deepEqual(settings.scopes, [
      'openid',
      'email',
      'offline_access',
      'https://outlook.office.com/IMAP.AccessAsUser.All',
      'https://outlook.office.com/POP.AccessAsUser.All',
    ]);
    assert.deepEqual(settings.appOnlyScopes, ['https://outlook.office365.com/.default']);
    const g = identitySchema.parse({ providers: { g: { kind: 'google', clientId: 'x', clientSecretEnv: 'G' } } }).providers.g;
    assert.ok(g !== undefined);
    const google = providerSettings(g);
    assert.equal(google.issuer.href, 'https://accounts.google.com/');
    assert.ok(google.scopes.includes('https://mail.google.com/'));
    assert.deepEqual(google.authorizationParams, { access_type: 'offline', prompt: 'consent' });
  });

  it('names each mistake with its key', () => {
    assert.match(problems(base(imapGrant, '')), /^tenants\.main\.provider: names no identity provider \(identity\.providers: none\)/m);
    assert.match(problems(base(imapGrant, corp.replace(/ {2}grants: .*\n/, ''))), /^identity\.grants: required by tenant main \(auth: grant\)/m);
    assert.match(
      problems(base(imapGrant, corp.replace('clientSecretFile: corp.secret', 'clientSecretFile: a, clientSecretEnv: B'))),
      /^identity\.providers\.corp\.clientSecretFile: give exactly one/m,
    );
    assert.match(
      problems(base(imapGrant, corp.replace(', clientSecretFile: corp.secret', ''))),
      /^identity\.providers\.corp\.clientSecretFile: give exactly one/m,
    );
    assert.match(
      problems(base(imapGrant, corp.replace('https://id.example.com', 'http://id.example.com'))),
      /^identity\.providers\.corp\.issuer: must be https:\/\//m,
    );
    assert.match(
      problems(base(imapGrant, corp.replace('keyFile: grants.key', 'keyFile: k, keyEnv: K'))),
      /^identity\.grants\.keyFile: give exactly one of keyFile and keyEnv/m,
    );
    assert.match(problems(base('{ adapter: imap, host: 127.0.0.1, tls: none, auth: grant }', corp)), /^tenants\.main\.provider: required with auth: grant/m);
    assert.match(
      problems(base('{ adapter: imap, host: 127.0.0.1, tls: none, auth: grant, provider: corp, users: u.yaml }', corp)),
      /^tenants\.main\.users: not used with auth: grant/m,
    );
    assert.match(
      problems(base('{ adapter: imap, host: 127.0.0.1, tls: none, auth: appOnly, provider: corp, users: u.yaml }', corp)),
      /^tenants\.main\.provider: identity provider corp has no appOnly settings/m,
    );
    assert.match(
      problems(base('{ adapter: imap, host: 127.0.0.1, tls: none, auth: passthrough, provider: corp }', corp)),
      /^tenants\.main\.provider: only with auth: grant or appOnly/m,
    );
    assert.match(problems(base('{ adapter: gmail, auth: grant }', corp)), /^tenants\.main\.provider: required with auth: grant/m);
    assert.match(
      problems(base('{ adapter: rest, baseUrl: "https://x", auth: grant, provider: corp, secretFile: t }', corp)),
      /^tenants\.main\.secretFile: not used with auth: grant/m,
    );
    const multi = `identity:\n  providers:\n    m: { kind: microsoft, clientId: x, clientSecretEnv: S, appOnly: {} }\n`;
    assert.match(
      problems(base('{ adapter: imap, host: 127.0.0.1, tls: none, auth: appOnly, provider: m, users: u.yaml }', multi)),
      /^identity\.providers\.m\.tenant: app-only access needs the organisation's own tenant/m,
    );
  });

  it('reads client secrets and keys at start-up: a missing one is a ConfigError naming the key, and no secret is printed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'popgate-idcfg-'));
    writeFileSync(join(dir, 'corp.secret'), 'very-secret-client-secret\n', { mode: 0o600 });
    writeFileSync(join(dir, 'grants.key'), '# no key yet\n', { mode: 0o600 });
    const cfg = parseConfig(base(imapGrant, corp), dir);
    const silent = createLogger('silent');
    await assert.rejects(Identity.load(cfg.identity, silent), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.deepEqual(
        err.issues.map((i) => i.replace(dir, 'DIR')),
        ['identity.grants.keyFile: key file DIR/grants.key holds no key (generate one with `popgate keys generate`)'],
      );
      return true;
    });
    writeFileSync(join(dir, 'grants.key'), `${generateKeyText()}\n`);
    const envCfg = parseConfig(base(imapGrant, corp.replace('clientSecretFile: corp.secret', 'clientSecretEnv: POPGATE_TEST_UNSET_SECRET')), dir);
    await assert.rejects(
      Identity.load(envCfg.identity, silent),
      /identity\.providers\.corp\.clientSecretEnv: the environment variable POPGATE_TEST_UNSET_SECRET is not set/,
    );
    const identity = await Identity.load(cfg.identity, silent);
    assert.deepEqual([...identity.providers.keys()], ['corp']);
    assert.ok(!JSON.stringify(cfg).includes('very-secret-client-secret'), 'the parsed config holds no secret');
    assert.equal(await Identity.load(cfg.identity, silent, identity), identity, 'an unchanged section keeps its instance (and its caches) across a reload');
  });
});
