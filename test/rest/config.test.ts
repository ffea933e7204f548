/** The REST tenant's settings: what the schema refuses, and the secret kept out of the config. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tenantSchema } from '../../src/config/schema.js';

const base = { adapter: 'rest', baseUrl: 'https://store.example/api/', auth: 'bearer', secretEnv: 'STORE_TOKEN', users: '/etc/popgate/users.yaml' };

function issues(extra: Record<string, unknown>, without: readonly string[] = []): string[] {
  const raw: Record<string, unknown> = { ...base, ...extra };
  for (const k of without) delete raw[k];
  const r = tenantSchema.safeParse(raw);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('REST tenant settings', () => {
  it('defaults: mailbox {user}, delete, 64 sockets, 4 attempts, pages of 1000; the base URL loses its final slash', () => {
    const t = tenantSchema.parse(base);
    assert.equal(t.adapter, 'rest');
    if (t.adapter !== 'rest') return;
    assert.equal(t.baseUrl, 'https://store.example/api');
    assert.deepEqual([t.mailbox, t.deleteMode, t.maxSockets, t.maxAttempts, t.pageSize], ['{user}', 'delete', 64, 4, 1000]);
  });

  it('refuses an inline secret, a missing users file, both or neither secret source, and unknown placeholders', () => {
    assert.ok(issues({ token: 'abc' }).some((i) => /token|Unrecognized/i.test(i)));
    assert.ok(issues({}, ['users']).some((i) => i.startsWith('users: required with auth: bearer')));
    assert.ok(issues({ secretFile: '/run/token' }).some((i) => i.startsWith('secretFile: auth: bearer needs exactly one')));
    assert.ok(issues({}, ['secretEnv']).some((i) => i.startsWith('secretFile:')));
    assert.ok(issues({ mailbox: '{login}' }).some((i) => i.includes('unknown placeholder')));
    assert.ok(issues({ deleteMode: 'trash' }).length > 0);
    assert.ok(issues({ baseUrl: 'ftp://x' }).length > 0);
  });

  it('basic needs a username; passthrough needs no users file and takes no secret', () => {
    assert.ok(issues({ auth: 'basic' }).some((i) => i.startsWith('username: required')));
    assert.deepEqual(issues({ auth: 'passthrough' }, ['users', 'secretEnv']), []);
    assert.ok(issues({ auth: 'passthrough' }, ['users']).some((i) => i.startsWith('secretEnv: not used')));
  });
});
