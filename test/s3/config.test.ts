/**
 * S3 tenant settings: what the schema accepts and refuses, and how a prefix template becomes a
 * mailbox prefix for a login (placeholders cannot reach outside their path segment).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderPrefix, templateProblem, userSegmentsOf } from '../../adapters/s3/prefix.js';
import { S3Store } from '../../adapters/s3/store.js';
import { parseConfig } from '../../src/config/loader.js';
import { configIssues } from '../helpers/config-issues.js';
import { ConfigError, StoreError } from '../../src/errors.js';
import { createLogger } from '../../src/logger.js';

const config = (tenant: string): string => `
listeners: [{ host: 127.0.0.1, port: 1110 }]
tenants:
  mail: { adapter: s3, users: users.yaml, ${tenant} }
`;

const issues = (text: string): string[] => configIssues(text);

describe('S3 tenant config', () => {
  it('accepts a minimal tenant and fills the defaults', () => {
    const cfg = parseConfig(config("bucket: inbound-mail, prefix: 'inbound/{domain}/{local}/'"), '/etc/popgate');
    const t = cfg.tenants.mail;
    assert.equal(t?.adapter, 's3');
    assert.equal(t.region, 'us-east-1');
    assert.equal(t.forcePathStyle, false);
    assert.equal(t.deleteMode, 'delete');
    assert.equal(t.maxAttempts, 5);
    assert.equal(t.maxSockets, 256, 'sized for many sessions each holding a connection while its client reads');
    assert.equal(t.sizes, 'exact', 'what LIST says is what RETR sends');
    assert.equal(t.credentials, undefined, 'no credentials: the SDK default chain');
    assert.equal(t.users, '/etc/popgate/users.yaml', 'relative users file resolved');
  });

  it('accepts an endpoint, path style, static credentials, keep and move modes', () => {
    const t = parseConfig(
      config(
        "bucket: b, prefix: '{user}/', endpoint: 'https://minio.internal:9000', forcePathStyle: true, credentials: { accessKeyId: AK, secretAccessKey: SK }, deleteMode: 'move:archive/{user}/'",
      ),
      '/',
    ).tenants.mail;
    assert.equal(t?.adapter, 's3');
    assert.equal(t.endpoint, 'https://minio.internal:9000');
    assert.deepEqual(t.credentials, { accessKeyId: 'AK', secretAccessKey: 'SK' });
    assert.equal(t.deleteMode, 'move:archive/{user}/');
    assert.equal(parseConfig(config("bucket: b, prefix: '', deleteMode: keep"), '/').tenants.mail?.deleteMode, 'keep');
  });

  it('refuses bad prefixes, unknown placeholders, bad delete modes, partial credentials and unknown keys', () => {
    assert.match(issues(config("bucket: b, prefix: 'inbound/{user}'")).join('\n'), /prefix: must end with "\/"/);
    assert.match(issues(config("bucket: b, prefix: '/inbound/{user}/'")).join('\n'), /must not start with "\/"/);
    assert.match(issues(config("bucket: b, prefix: 'inbound/{name}/'")).join('\n'), /unknown placeholder \{name\}/);
    assert.match(issues(config("bucket: b, prefix: 'inbound/{user/'")).join('\n'), /unmatched/);
    assert.match(issues(config("bucket: b, prefix: '{user}/', deleteMode: expunge")).join('\n'), /deleteMode/);
    assert.match(issues(config("bucket: b, prefix: '{user}/', deleteMode: 'move:archive'")).join('\n'), /deleteMode.*must end with/);
    assert.match(issues(config("bucket: b, prefix: '{user}/', credentials: { accessKeyId: AK }")).join('\n'), /credentials\.secretAccessKey/);
    assert.match(issues(config("bucket: b, prefix: '{user}/', endpoint: 'ftp://x'")).join('\n'), /endpoint/);
    assert.match(issues(config("bucket: b, prefix: '{user}/', trash: x")).join('\n'), /trash/);
    assert.match(issues(config("prefix: '{user}/'")).join('\n'), /bucket/);
    assert.match(issues(config("bucket: b, prefix: '{user}/', sizes: guess")).join('\n'), /sizes/);
    assert.match(issues(config("bucket: b, prefix: '{user}/', maxSockets: 0")).join('\n'), /maxSockets/);
  });

  const storeFor = (tenantText: string): S3Store => {
    const tenant = parseConfig(config(tenantText), '/').tenants.mail;
    assert.equal(tenant?.adapter, 's3');
    return new S3Store(tenant, { logger: createLogger('silent'), sessionIdleMs: 600_000 });
  };
  const overlapRefused = (err: unknown): boolean =>
    err instanceof ConfigError && /deleteMode: the move prefix and the mailbox prefix must not overlap/.test(err.message);

  it('refuses a move prefix inside the mailbox prefix (the next listing would find the moved mail)', () => {
    assert.throws(() => storeFor("bucket: b, prefix: 'inbound/{user}/', deleteMode: 'move:inbound/{user}/done/'"), overlapRefused);
  });

  it('refuses move and mailbox templates whose renderings could overlap, though their texts do not start alike', () => {
    // User "archive" would list every user's archive.
    assert.throws(() => storeFor("bucket: b, prefix: 'inbound/{user}/', deleteMode: 'move:inbound/archive/{user}/'"), overlapRefused);
    // The mailbox of user "archive" would be inside every archive's parent, and the other way round.
    assert.throws(() => storeFor("bucket: b, prefix: 'archive/{user}/', deleteMode: 'move:archive/old/{user}/'"), overlapRefused);
    assert.throws(() => storeFor("bucket: b, prefix: 'mail/{domain}/{local}/', deleteMode: 'move:mail/{user}/'"), overlapRefused);
    // A whole-bucket mailbox contains every other prefix.
    assert.throws(() => storeFor("bucket: b, prefix: '', deleteMode: 'move:archive/{user}/'"), overlapRefused);
  });

  it('accepts move and mailbox templates that differ before their first placeholder', () => {
    storeFor("bucket: b, prefix: 'inbound/{user}/', deleteMode: 'move:archive/{user}/'");
    storeFor("bucket: b, prefix: 'inbound/{domain}/{local}/', deleteMode: 'move:inbound-archive/{domain}/{local}/'");
    storeFor("bucket: b, prefix: 'mail/new/{user}/', deleteMode: 'move:mail/old/{user}/'");
  });

  it('refuses a placeholder that does not fill a whole path segment', () => {
    // `a.b`@`c` and `a`@`b.c` would share inbound/a.b.c/.
    assert.match(issues(config("bucket: b, prefix: 'inbound/{local}.{domain}/'")).join('\n'), /prefix: \{local\} must fill a whole path segment/);
    // User `bob-archive` would read bob's archive.
    assert.match(
      issues(config("bucket: b, prefix: 'inbound/{user}/', deleteMode: 'move:inbound/{user}-archive/'")).join('\n'),
      /deleteMode.*\{user\} must fill a whole path segment/,
    );
    assert.match(issues(config("bucket: b, prefix: 'in/x{user}/'")).join('\n'), /whole path segment/);
    assert.match(issues(config("bucket: b, prefix: 'in//{user}/'")).join('\n'), /empty path segment/);
  });
});

describe('S3 prefix templates', () => {
  it('fills {user}, {local} and {domain} from the routed login', () => {
    assert.equal(renderPrefix('inbound/{domain}/{local}/', { user: 'john', local: 'john', domain: 'example.com' }), 'inbound/example.com/john/');
    assert.equal(renderPrefix('{user}/', { user: 'john@example.com', local: 'john', domain: 'example.com' }), 'john@example.com/');
  });

  it('uses local and domain exactly as routing gave them: a default-tenant login has no domain, whatever its name holds', () => {
    // The router gives a login routed to the default tenant the whole name as its local part.
    assert.equal(renderPrefix('in/{local}/', { user: 'john@other.org', local: 'john@other.org' }), 'in/john@other.org/');
    assert.throws(
      () => renderPrefix('in/{domain}/{local}/', { user: 'john@other.org', local: 'john@other.org' }),
      (err: unknown) => err instanceof StoreError && err.code === 'PERMANENT' && /has no domain/.test(err.message),
    );
    assert.throws(
      () => renderPrefix('in/{local}/', { user: 'ann' }),
      (err: unknown) => err instanceof StoreError && err.code === 'PERMANENT' && /has no local/.test(err.message),
    );
  });

  it('fails with PERMANENT when {domain} is needed and the login has none', () => {
    assert.throws(
      () => renderPrefix('in/{domain}/{local}/', { user: 'ann', local: 'ann' }),
      (err: unknown) => err instanceof StoreError && err.code === 'PERMANENT' && /has no domain/.test(err.message),
    );
  });

  it('never lets a value leave its path segment', () => {
    for (const user of ['a/b', '..', '.', 'a\nb', '']) {
      assert.throws(
        () => renderPrefix('in/{user}/', { user }),
        (err: unknown) => err instanceof StoreError && err.code === 'PERMANENT',
        JSON.stringify(user),
      );
    }
    for (const local of ['a/b', '..', 'x\u007f']) {
      assert.throws(
        () => renderPrefix('in/{domain}/{local}/', { user: 'u', local, domain: 'example.com' }),
        (err: unknown) => err instanceof StoreError && err.code === 'PERMANENT',
        JSON.stringify(local),
      );
    }
  });

  it("lets {user} span as many segments as the tenant's userName gives it, each one safe", () => {
    assert.equal(userSegmentsOf('{domain}/{local}'), 2);
    assert.equal(userSegmentsOf('local'), 1);
    assert.equal(userSegmentsOf('full'), 1);
    assert.equal(userSegmentsOf('{local}@{domain}'), 1);
    assert.equal(renderPrefix('inbound/{user}/', { user: 'example.com/john', local: 'john', domain: 'example.com' }, 2), 'inbound/example.com/john/');
    // Fewer or more segments would make one mailbox a prefix of another: example.com/ holds example.com/john/.
    for (const user of ['example.com', 'example.com/a/b', 'example.com/..', 'example.com/', '/john', 'example.com/a\tb']) {
      assert.throws(
        () => renderPrefix('inbound/{user}/', { user }, 2),
        (err: unknown) => err instanceof StoreError && err.code === 'PERMANENT',
        JSON.stringify(user),
      );
    }
  });

  it('says why a template is unusable', () => {
    assert.equal(templateProblem(''), undefined);
    assert.equal(templateProblem('inbound/'), undefined);
    assert.equal(templateProblem('a/{user}/{local}/{domain}/'), undefined);
    assert.match(templateProblem('a/{user}') ?? '', /end with/);
  });
});
