/**
 * S3 tenant settings: what the schema accepts and refuses, and how a prefix template becomes a
 * mailbox prefix for a login (placeholders cannot reach outside their path segment).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderPrefix, templateProblem } from '../../adapters/s3/prefix.js';
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
    assert.equal(t.credentials, undefined, 'no credentials: the SDK default chain');
    assert.equal(t.users, '/etc/popgate/users.yaml', 'relative users file resolved');
  });

  it('accepts an endpoint, path style, static credentials, keep and move modes', () => {
    const t = parseConfig(
      config("bucket: b, prefix: '{user}/', endpoint: 'https://minio.internal:9000', forcePathStyle: true, credentials: { accessKeyId: AK, secretAccessKey: SK }, deleteMode: 'move:archive/{user}/'"),
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
  });

  it('refuses a move prefix inside the mailbox prefix (the next listing would find the moved mail)', () => {
    const cfg = parseConfig(config("bucket: b, prefix: 'inbound/{user}/', deleteMode: 'move:inbound/{user}/done/'"), '/');
    const tenant = cfg.tenants.mail;
    assert.equal(tenant?.adapter, 's3');
    assert.throws(() => new S3Store(tenant, createLogger('silent'), 600_000), (err: unknown) => err instanceof ConfigError && /must not contain one another/.test(err.message));
  });
});

describe('S3 prefix templates', () => {
  it('fills {user}, {local} and {domain} from the routed login', () => {
    assert.equal(renderPrefix('inbound/{domain}/{local}/', { user: 'john', local: 'john', domain: 'example.com' }), 'inbound/example.com/john/');
    assert.equal(renderPrefix('{user}/', { user: 'john@example.com', local: 'john', domain: 'example.com' }), 'john@example.com/');
  });

  it('takes local part and domain from a user@domain name when the router gave none', () => {
    assert.equal(renderPrefix('in/{domain}/{local}/', { user: 'Ann@Example.COM' }), 'in/example.com/Ann/');
    assert.equal(renderPrefix('in/{local}/', { user: 'ann' }), 'in/ann/');
  });

  it('fails with PERMANENT when {domain} is needed and the login has none', () => {
    assert.throws(
      () => renderPrefix('in/{domain}/{local}/', { user: 'ann' }),
      (err: unknown) => err instanceof StoreError && err.code === 'PERMANENT' && /has no domain/.test(err.message),
    );
  });

  it('never lets a value leave its path segment', () => {
    for (const user of ['a/b', '..', '.', 'a\nb']) {
      assert.throws(() => renderPrefix('in/{user}/', { user }), (err: unknown) => err instanceof StoreError && err.code === 'PERMANENT', user);
    }
  });

  it('says why a template is unusable', () => {
    assert.equal(templateProblem(''), undefined);
    assert.equal(templateProblem('inbound/'), undefined);
    assert.equal(templateProblem('a/{user}/{local}/{domain}/'), undefined);
    assert.match(templateProblem('a/{user}') ?? '', /end with/);
  });
});
