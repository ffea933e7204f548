/**
 * `identity.web`: defaults (loopback), paths resolved against the config folder, and the
 * mistakes refused at start-up with their keys: a non-loopback listener without TLS, a provider
 * whose redirectUrl is not the pages' callback, pages without a grants store; the files read
 * when the gateway starts (users file, session keys, certificate) and the warnings about them.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseConfig } from '../../src/config/loader.js';
import { ConfigError } from '../../src/errors.js';
import { generateKeyText } from '../../src/identity/keyring.js';
import { callbackUrlOf, webSchema } from '../../src/web/config.js';
import { loadWebResources } from '../../src/web/resources.js';
import { configIssues } from '../helpers/config-issues.js';
import { testCert } from '../helpers/tls.js';

const config = (web: string, opts: { redirectUrl?: string; grants?: boolean } = {}): string => `
listeners: [{ host: 127.0.0.1, port: 1110 }]
tenants:
  main: { adapter: imap, host: 127.0.0.1, tls: none, auth: grant, provider: corp }
identity:
  providers:
    corp: { kind: oidc, issuer: 'https://id.example.com/realms/mail', clientId: popgate, clientSecretFile: corp.secret, redirectUrl: '${opts.redirectUrl ?? 'https://popgate.example.com/link/callback'}' }
${opts.grants === false ? '' : '  grants: { file: grants.json, keyFile: grants.key }'}
  web: ${web}
`;

const problems = (text: string): string => configIssues(text).join('\n');

describe('identity.web config', () => {
  const dir = mkdtempSync(join(tmpdir(), 'popgate-web-config-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('defaults to loopback, resolves its files against the config folder, and takes the callback from publicUrl', () => {
    const cfg = parseConfig(
      config(
        `{ listen: { port: 8443 }, publicUrl: 'https://popgate.example.com', users: web-users.yaml, sessionKeyFile: web.key, tls: { cert: c.pem, key: k.pem } }`,
      ),
      '/etc/popgate',
    );
    const web = cfg.identity?.web;
    assert.ok(web !== undefined);
    assert.equal(web.listen.host, '127.0.0.1');
    assert.equal(web.users, '/etc/popgate/web-users.yaml');
    assert.equal(web.sessionKeyFile, '/etc/popgate/web.key');
    assert.deepEqual(web.tls, { cert: '/etc/popgate/c.pem', key: '/etc/popgate/k.pem' });
    assert.deepEqual(web.admins, []);
    assert.equal(web.sessionMinutes, 60);
    assert.deepEqual(web.signInLimit, { perAddress: 20, perName: 10, windowMinutes: 15 });
    assert.equal(web.publicUrl, 'https://popgate.example.com/');
    assert.equal(callbackUrlOf(web).href, 'https://popgate.example.com/link/callback');
    const local = webSchema.parse({ listen: { port: 8025 }, users: 'u.yaml' });
    assert.equal(callbackUrlOf(local).href, 'http://127.0.0.1:8025/link/callback', 'without publicUrl: the listener address');
  });

  it('a listener off loopback needs TLS here or an https publicUrl (a TLS proxy in front)', () => {
    assert.match(
      problems(config(`{ listen: { host: 0.0.0.0, port: 8443 }, users: u.yaml }`, { redirectUrl: 'http://0.0.0.0:8443/link/callback' })),
      /identity\.web\.listen\.host: '0\.0\.0\.0' is not a loopback address: set tls .* or an https:\/\/ publicUrl/,
    );
    parseConfig(
      config(`{ listen: { host: 0.0.0.0, port: 8443 }, tls: { cert: c.pem, key: k.pem }, users: u.yaml }`, {
        redirectUrl: 'https://0.0.0.0:8443/link/callback',
      }),
      '/etc',
    );
    parseConfig(config(`{ listen: { host: 10.0.0.5, port: 8080 }, publicUrl: 'https://popgate.example.com/', users: u.yaml }`), '/etc');
    assert.match(
      problems(
        config(`{ listen: { port: 8080 }, publicUrl: 'http://popgate.example.com/', users: u.yaml }`, {
          redirectUrl: 'http://popgate.example.com/link/callback',
        }),
      ),
      /identity\.web\.publicUrl: must be https:\/\//,
    );
  });

  it("each provider's redirectUrl must be the pages' callback; the pages need the grants store; unknown keys are refused", () => {
    assert.match(
      problems(config(`{ listen: { port: 8443 }, publicUrl: 'https://popgate.example.com/consent/', users: u.yaml }`)),
      /identity\.providers\.corp\.redirectUrl: must be the consent pages' callback https:\/\/popgate\.example\.com\/consent\/link\/callback/,
    );
    assert.match(
      problems(config(`{ listen: { port: 0 }, users: u.yaml }`, { redirectUrl: 'http://127.0.0.1:9/elsewhere' })),
      /redirectUrl: must be the consent pages' callback <publicUrl>link\/callback/,
      'port 0: only the path can be checked',
    );
    assert.match(
      problems(config(`{ listen: { port: 8443 }, publicUrl: 'https://popgate.example.com/', users: u.yaml }`, { grants: false })),
      /identity\.grants: required by identity\.web/,
    );
    assert.match(problems(config(`{ listen: { port: 8443 }, users: u.yaml, sessionKey: abc }`)), /identity\.web: Unrecognized key: "sessionKey"/);
  });

  it('at start: an unreadable certificate or a bad session key file is an error naming its key; warnings for admins not in the users file and a readable key', () => {
    const users = join(dir, 'web-users.yaml');
    writeFileSync(users, 'users:\n  alice: { password: "$scrypt$ln=14,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA==$AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=" }\n', {
      mode: 0o600,
    });
    const badKey = join(dir, 'bad.key');
    writeFileSync(badKey, 'not-a-key\n', { mode: 0o600 });
    try {
      loadWebResources(
        webSchema.parse({ listen: { port: 0 }, users, sessionKeyFile: badKey, tls: { cert: join(dir, 'missing.pem'), key: join(dir, 'missing.key') } }),
      );
      assert.fail('loaded');
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      const text = err.issues.join('\n');
      assert.match(text, /identity\.web\.sessionKeyFile: session key file .*bad\.key: key 1 is not 32 octets/);
      assert.match(text, /identity\.web\.tls\.cert: cannot read .*missing\.pem: ENOENT/);
    }
    const key = join(dir, 'web.key');
    writeFileSync(key, `${generateKeyText()}\n${generateKeyText()}\n`);
    chmodSync(key, 0o644);
    const cert = testCert();
    const loaded = loadWebResources(
      webSchema.parse({ listen: { port: 0 }, users, admins: ['alice', 'ops'], sessionKeyFile: key, tls: { cert: cert.certPath, key: cert.keyPath } }),
    );
    assert.equal(loaded.sessionKeys.length, 2, 'every key: the first seals, the others still open older cookies');
    assert.equal(loaded.secure, true);
    assert.ok(loaded.warnings.some((w) => w.includes('identity.web.admins: ops not in')));
    assert.ok(loaded.warnings.some((w) => w.includes('others can read it')));
    const noFile = loadWebResources(webSchema.parse({ listen: { port: 0 }, users: join(dir, 'nobody.yaml') }));
    assert.ok(noFile.warnings.some((w) => w.includes('nobody can sign in')));
    assert.equal(noFile.secure, false);
    assert.equal(noFile.sessionKeys[0]?.length, 32, 'a random key when no key file is given');
  });
});
