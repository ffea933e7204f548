import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config/loader.js';
import { configIssues } from '../helpers/config-issues.js';

const valid = `
listeners: [{ host: 127.0.0.1, port: 1110 }]
tenants:
  main: { adapter: maildir, path: 'mail/{user}', users: users.yaml }
`;

const issues = (text: string): string[] => configIssues(text);

describe('config validation', () => {
  it('accepts a minimal config, fills defaults and resolves relative paths', () => {
    const cfg = parseConfig(valid, '/etc/popgate');
    assert.equal(cfg.allowPlaintextAuth, 'tls-only');
    assert.equal(cfg.limits.idleTimeoutSeconds, 600);
    assert.equal(cfg.listeners[0]?.tls, 'none');
    const main = cfg.tenants.main;
    assert.equal(main?.adapter, 'maildir');
    assert.equal(main.path, '/etc/popgate/mail/{user}');
    assert.equal(main.users, '/etc/popgate/users.yaml');
  });

  it('names the key and the problem', () => {
    assert.match(issues(valid + 'limits: { idleTimeoutSeconds: ten }\n').join('\n'), /^limits\.idleTimeoutSeconds: /m);
    assert.match(issues(valid + 'allowPlaintextAuth: sometimes\n').join('\n'), /^allowPlaintextAuth: /m);
    assert.match(issues(valid + 'defaultTenant: nope\n').join('\n'), /^defaultTenant: names no tenant/m);
    assert.match(issues(valid + 'bogus: 1\n').join('\n'), /bogus/);
    assert.match(issues(valid.replace('port: 1110', 'port: 70000')).join('\n'), /^listeners\.0\.port: /m);
    assert.match(issues(valid.replace("'mail/{user}'", 'mail/fixed')).join('\n'), /^tenants\.main\.path: must contain \{user\}/m);
    assert.match(issues(valid.replace('port: 1110 }', 'port: 1110, tls: starttls }')).join('\n'), /^listeners\.0\.tls: 'starttls' needs the top-level tls/m);
  });

  it('reports YAML syntax errors and duplicate keys', () => {
    assert.match(issues('listeners: [\n').join('\n'), /^yaml: /m);
    assert.match(issues(valid + 'defaultTenant: main\ndefaultTenant: main\n').join('\n'), /^yaml: /m);
  });

  it('checks the per-tenant keys: deleteMode, separators, mechanisms, recent, certificate', () => {
    const tenant = (extra: string): string =>
      `listeners: [{ port: 1110 }]\ntenants:\n  main: { adapter: maildir, path: 'mail/{user}', users: users.yaml, ${extra} }\n`;
    assert.match(issues(tenant('deleteMode: trash')).join('\n'), /^tenants\.main\.deleteMode: .*move:\.<Maildir\+\+ folder>/m);
    assert.match(issues(tenant("deleteMode: 'move:Trash'")).join('\n'), /^tenants\.main\.deleteMode: /m);
    assert.match(issues(tenant("separators: ['#']")).join('\n'), /^tenants\.main\.separators\.0: /m);
    assert.match(issues(tenant('separators: []')).join('\n'), /^tenants\.main\.separators: /m);
    assert.match(issues(tenant('mechanisms: [NTLM]')).join('\n'), /^tenants\.main\.mechanisms\.0: /m);
    assert.match(issues(tenant('recent: { enabled: true, days: 0 }')).join('\n'), /^tenants\.main\.recent\.days: /m);
    assert.match(issues(tenant('certificate: { cert: a.pem }')).join('\n'), /^tenants\.main\.certificate\.key: /m);
    const cfg = parseConfig(tenant("deleteMode: 'move:.Trash', separators: ['@', '+'], maxConnections: 5"), '/etc/popgate');
    const main = cfg.tenants.main;
    assert.equal(main?.adapter === 'maildir' && main.deleteMode, 'move:.Trash');
    assert.deepEqual(main?.separators, ['@', '+']);
    assert.deepEqual(main?.recent, { enabled: false, days: 30 });
    const withCert = parseConfig(tenant('certificate: { cert: tls/a.pem, key: /k/a.key }'), '/etc/popgate').tenants.main;
    assert.deepEqual(withCert?.certificate, { cert: '/etc/popgate/tls/a.pem', key: '/k/a.key' }, 'relative to the config file');
  });

  it('redis: a URL that cannot work is refused with what to write instead, never echoing it; tls needs rediss://', () => {
    const redis = (settings: string): string => valid + `redis: ${settings}\n`;
    const refused: [string, RegExp][] = [
      [
        "{ url: 'http://:hunter2@cache:6379' }",
        /^redis\.url: must start with redis:\/\/ or rediss:\/\/ \(redis:\/\/\[\[user\]:password@\]host\[:port\]\[\/db\]/m,
      ],
      ["{ url: 'cache.internal:6379' }", /^redis\.url: must start with redis:\/\//m],
      ["{ url: 'not a url' }", /^redis\.url: not a URL; expected redis:\/\//m],
      ["{ url: 'redis://' }", /^redis\.url: names no host/m],
      ["{ url: 'redis://:hunter2@cache/zero' }", /^redis\.url: the path must be a database number/m],
      ["{ url: 'redis://cache?db=1' }", /^redis\.url: takes no query or fragment/m],
      ["{ url: 'redis://cache', tls: { ca: ca.pem } }", /^redis\.tls: needs a rediss:\/\/ url/m],
      ["{ url: 'redis://cache', keyPrefix: 'two words' }", /^redis\.keyPrefix: /m],
      ["{ url: 'redis://cache', password: x }", /^redis: .*password/m],
      ['{ keyPrefix: x }', /^redis\.url: /m],
    ];
    for (const [settings, want] of refused) {
      const found = issues(redis(settings)).join('\n');
      assert.match(found, want, settings);
      assert.ok(!found.includes('hunter2'), `the URL's password is not repeated: ${found}`);
    }
    const cfg = parseConfig(redis("{ url: 'rediss://:pw@cache.internal:6380/2', tls: { ca: tls/redis-ca.pem } }"), '/etc/popgate');
    assert.deepEqual(cfg.redis, {
      url: 'rediss://:pw@cache.internal:6380/2',
      keyPrefix: 'popgate:',
      tls: { ca: '/etc/popgate/tls/redis-ca.pem' },
      sessionState: 'redis',
      lockTtlSeconds: 30,
    });
    assert.equal(parseConfig(valid, '/etc/popgate').redis, undefined, 'no redis unless configured');
    assert.match(issues(redis("{ url: 'redis://cache', sessionState: shared }")).join('\n'), /^redis\.sessionState: /m);
    assert.match(issues(redis("{ url: 'redis://cache', lockTtlSeconds: 1 }")).join('\n'), /^redis\.lockTtlSeconds: /m);
  });

  it('workers: above 1 (or auto) needs the session state in Redis, and says which key to set', () => {
    assert.equal(parseConfig(valid, '/etc/popgate').workers, 1);
    assert.match(issues(valid + 'workers: 2\n').join('\n'), /^workers: 2 runs several processes, .*maildrop locks.*: set redis\.url, or use workers: 1$/m);
    assert.match(issues(valid + 'workers: auto\n').join('\n'), /^workers: auto runs several processes, .*: set redis\.url/m);
    assert.match(
      issues(valid + "workers: 2\nredis: { url: 'redis://cache', sessionState: process }\n").join('\n'),
      /^workers: .*set redis\.sessionState to 'redis' \(it is 'process'\)/m,
    );
    assert.match(issues(valid + 'workers: 0\n').join('\n'), /^workers: /m);
    assert.match(issues(valid + 'workers: many\n').join('\n'), /^workers: /m);
    assert.equal(parseConfig(valid + "workers: 4\nredis: { url: 'redis://cache' }\n", '/etc/popgate').workers, 4);
    assert.equal(parseConfig(valid + "workers: auto\nredis: { url: 'redis://cache' }\n", '/etc/popgate').workers, 'auto');
  });

  it("checks a listener's proxyProtocol: CIDR blocks or addresses, at least one, and a bounded timeout", () => {
    const listener = (extra: string): string => valid.replace('port: 1110 }', `port: 1110, proxyProtocol: ${extra} }`);
    const cfg = parseConfig(listener("{ trusted: ['10.0.0.0/8', '::1', '2001:db8::/32'] }"), '/etc/popgate');
    assert.deepEqual(cfg.listeners[0]?.proxyProtocol, { trusted: ['10.0.0.0/8', '::1', '2001:db8::/32'], timeoutMs: 3000 });
    assert.match(issues(listener("{ trusted: ['10.0.0.0/33'] }")).join('\n'), /^listeners\.0\.proxyProtocol\.trusted\.0: .*prefix length must be 0\.\.32/m);
    assert.match(issues(listener("{ trusted: ['haproxy.local'] }")).join('\n'), /^listeners\.0\.proxyProtocol\.trusted\.0: .*not an IPv4 or IPv6 address/m);
    assert.match(issues(listener("{ trusted: ['fe80::1%eth0'] }")).join('\n'), /^listeners\.0\.proxyProtocol\.trusted\.0: /m);
    assert.match(issues(listener('{ trusted: [] }')).join('\n'), /^listeners\.0\.proxyProtocol\.trusted: /m);
    assert.match(issues(listener("{ trusted: ['::1'], timeoutMs: 0 }")).join('\n'), /^listeners\.0\.proxyProtocol\.timeoutMs: /m);
  });
});
