/** The router on its own: every login-name form, bad names, domains, templates, SNI, config errors. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../src/config/loader.js';
import { routerFor } from '../../src/route-cli.js';
import { ConfigError } from '../../src/errors.js';
import { normaliseDomain } from '../../src/routing/domain-name.js';
import type { RoutableTenant, RouteResult } from '../../src/routing/router.js';

const CONFIG = `
listeners: [{ port: 1110 }]
defaultTenant: home
tenants:
  home: { adapter: maildir, path: 'mail/{user}', users: users.yaml }
  shop:
    adapter: maildir
    path: 'shop/{user}'
    users: users.yaml
    domains: [Example.COM, 'bücher.de']
    separators: ['@', '%', '+']
  plain:
    adapter: maildir
    path: 'plain/{user}'
    users: users.yaml
    domains: [plain.test]
  org:
    adapter: imap
    host: imap.example.org
    domains: ['*.example.org', 'deep.a.example.org']
    userName: '{local}@{domain}'
    recent: { enabled: true, days: 7 }
  s3ish:
    adapter: maildir
    path: 'p/{user}'
    users: users.yaml
    domains: ['*.a.example.org']
    userName: '{domain}/{local}'
`;

const router = routerFor(parseConfig(CONFIG, '/etc/popgate'));

function ok(r: RouteResult<RoutableTenant>): Exclude<RouteResult<RoutableTenant>, { ok: false }> {
  assert.ok(r.ok, `expected a route, got: ${r.ok ? '' : r.reason}`);
  return r;
}

function refused(login: string): string {
  const r = router.route(login);
  assert.ok(!r.ok, `${JSON.stringify(login)} should not route, went to ${r.ok ? r.tenant.name : ''}`);
  return r.reason;
}

describe('login-name routing', () => {
  it('local@host, local%host and local+host pick the tenant listing the host; the backend sees the local part', () => {
    for (const login of ['john@example.com', 'john%example.com', 'john+example.com']) {
      const r = ok(router.route(login));
      assert.equal(r.tenant.name, 'shop', login);
      assert.equal(r.user, 'john', login);
      assert.equal(r.domain, 'example.com', login);
      assert.equal(r.separator, login[4], login);
    }
  });

  it('domains compare case-insensitively and a trailing dot is ignored', () => {
    assert.equal(ok(router.route('John@EXAMPLE.com.')).tenant.name, 'shop');
    assert.equal(ok(router.route('John@EXAMPLE.com.')).user, 'John', 'the local part keeps its case');
  });

  it('internationalised domains match in A-label form, whichever form is configured or typed', () => {
    for (const login of ['anna@bücher.de', 'anna@BÜCHER.DE', 'anna@xn--bcher-kva.de', 'anna+bücher.de']) {
      const r = ok(router.route(login));
      assert.equal(r.tenant.name, 'shop', login);
      assert.equal(r.domain, 'xn--bcher-kva.de', login);
    }
  });

  it('a wildcard matches names below it, not the name itself; the most specific pattern wins; exact beats wildcard', () => {
    assert.equal(ok(router.route('j@mail.example.org')).tenant.name, 'org');
    assert.equal(ok(router.route('j@x.y.example.org')).tenant.name, 'org');
    assert.equal(ok(router.route('j@b.a.example.org')).tenant.name, 's3ish');
    assert.equal(ok(router.route('j@deep.a.example.org')).tenant.name, 'org', 'exact entry beats the longer wildcard');
    assert.equal(ok(router.route('j@example.org')).tenant.name, 'home', '*.example.org does not match example.org');
  });

  it('userName templates build the backend name: {local}@{domain}, {domain}/{local}', () => {
    assert.equal(ok(router.route('Kim@Mail.Example.org')).user, 'Kim@mail.example.org');
    assert.equal(ok(router.route('kim@b.a.example.org')).user, 'b.a.example.org/kim');
  });

  it('a separator a tenant has not turned on leaves + in the name: john+work@plain.test keeps its local part, john+plain.test goes to the default tenant whole', () => {
    const tagged = ok(router.route('john+work@plain.test'));
    assert.equal(tagged.tenant.name, 'plain');
    assert.equal(tagged.user, 'john+work');
    const notSplit = ok(router.route('john+plain.test'));
    assert.equal(notSplit.tenant.name, 'home');
    assert.equal(notSplit.user, 'john+plain.test');
    const tagAtShop = ok(router.route('john+tag@example.com'));
    assert.equal(tagAtShop.tenant.name, 'shop');
    assert.equal(tagAtShop.user, 'john+tag', '@ is tried before +');
  });

  it('a name without a host part, or in a domain nobody serves, goes whole to the default tenant', () => {
    for (const login of ['john', 'john@nowhere.test', 'john+nowhere.test', 'Ünïcode']) {
      const r = ok(router.route(login));
      assert.equal(r.tenant.name, 'home', login);
      assert.equal(r.user, login, login);
      assert.equal(r.domain, undefined, login);
      assert.equal(r.via, 'default');
    }
  });

  it('bad names are refused: empty local part, empty host, several @, bad domains, over-long names, control characters', () => {
    assert.match(refused(''), /not a usable login/);
    assert.match(refused('@example.com'), /empty local part/);
    assert.match(refused('john@'), /empty local part or domain/);
    assert.match(refused('a@b@example.com'), /more than one @/);
    assert.match(refused('john@exa_mple.com'), /not a domain name/);
    assert.match(refused('john@-bad.com'), /not a domain name/);
    assert.match(refused('john@ex%41mple.com'), /not a domain name/);
    assert.match(refused(`${'a'.repeat(64)}@${'b'.repeat(300)}.com`), /not a usable login/);
    assert.match(refused(`john@${'b'.repeat(64)}.com`), /not a domain name/, 'a label over 63 octets');
    for (const ctl of ['\u0000', '\t', '\u001b', '\u007f', '\u0085', ' ']) assert.match(refused(`jo${ctl}hn@example.com`), /not a usable login/);
  });

  it('recent: is honoured only where the tenant turned it on; the prefix is not part of the name', () => {
    const r = ok(router.route('recent:kim@mail.example.org'));
    assert.equal(r.recent, true);
    assert.equal(r.user, 'kim@mail.example.org');
    assert.equal(ok(router.route('RECENT:kim@mail.example.org')).recent, true);
    assert.match(refused('recent:john@example.com'), /does not accept recent/);
    assert.equal(ok(router.route('kim@mail.example.org')).recent, false);
  });

  it('normaliseDomain returns A-labels and rejects what DNS cannot hold', () => {
    assert.equal(normaliseDomain('Bücher.DE.'), 'xn--bcher-kva.de');
    for (const bad of ['', '.', 'a..b', 'a b.com', '[::1]', 'x'.repeat(254), 'a.-b.com', 'a%2e.com']) assert.equal(normaliseDomain(bad), undefined, bad);
  });
});

describe('routing config errors', () => {
  function problems(yaml: string): string[] {
    try {
      routerFor(parseConfig(yaml, '/etc/popgate'));
    } catch (err) {
      assert.ok(err instanceof ConfigError, String(err));
      return [...err.issues];
    }
    assert.fail('expected a config error');
  }
  const two = (a: string, b: string): string => `
listeners: [{ port: 1110 }]
tenants:
  one: { adapter: maildir, path: 'a/{user}', users: u.yaml, ${a} }
  two: { adapter: maildir, path: 'b/{user}', users: u.yaml, ${b} }
`;

  it('the same domain (in any case or form) in two tenants is a collision, named with both tenants', () => {
    const p = problems(two('domains: [Example.com]', 'domains: [example.COM.]'));
    assert.deepEqual(p, ['tenants.two.domains.0: example.com is already a domain of tenant one']);
    assert.equal(problems(two("domains: ['*.x.test']", "domains: ['*.X.test']")).length, 1);
    assert.equal(problems(two("domains: ['bücher.de']", 'domains: [xn--bcher-kva.de]')).length, 1);
  });

  it('invalid domain patterns and userName templates are named', () => {
    const p = problems(two("domains: ['bad domain', 'a.*.b']", "userName: '{user}@{host}'"));
    assert.ok(
      p.some((x) => x.startsWith("tenants.one.domains.0: 'bad domain' is not")),
      p.join('\n'),
    );
    assert.ok(
      p.some((x) => x.startsWith('tenants.one.domains.1:')),
      p.join('\n'),
    );
    assert.ok(
      p.some((x) => x === 'tenants.two.userName: unknown placeholder {user} (use {local}, {domain} or {login})'),
      p.join('\n'),
    );
    assert.ok(
      p.some((x) => x.startsWith('tenants.two.userName: must be')),
      p.join('\n'),
    );
  });

  it('a template that needs {domain} refuses logins without one (at login, with the reason)', () => {
    const r = routerFor(parseConfig(`${two("userName: '{domain}/{local}'", 'domains: [x.test]')}defaultTenant: one\n`, '/etc')).route('john');
    assert.ok(!r.ok && /needs a domain/.test(r.reason));
  });

  it('without defaultTenant and with several tenants, a name no domain matches has no route', () => {
    const r = routerFor(parseConfig(two('domains: [a.test]', 'domains: [b.test]'), '/etc')).route('john');
    assert.ok(!r.ok && /no defaultTenant/.test(r.reason));
  });
});
