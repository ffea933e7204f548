/** The verified-credentials cache behind its interface: what it stores, when it is asked, and a store that fails. */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { verifyLocal } from '../../src/auth/local-verifier.js';
import { hashPassword } from '../../src/auth/password-hash.js';
import { UsersFile } from '../../src/auth/users-file.js';
import { InMemoryVerifiedCredentials, type VerifiedCredentials } from '../../src/auth/verified-credentials.js';

class Recording implements VerifiedCredentials {
  readonly inner = new InMemoryVerifiedCredentials();
  readonly asked: boolean[] = [];
  remembered = 0;
  keyOf(user: string, password: string, storedHash: string): string {
    return this.inner.keyOf(user, password, storedHash);
  }
  async has(key: string): Promise<boolean> {
    const hit = await this.inner.has(key);
    this.asked.push(hit);
    return hit;
  }
  async remember(key: string): Promise<void> {
    this.remembered++;
    await this.inner.remember(key);
  }
}

describe('verified credentials', () => {
  const password = (p: string) => ({ kind: 'password' as const, login: 'bob', password: p });

  it('a proven password is remembered under a keyed hash and answers the next login; a wrong one never is', async () => {
    const file = new UsersFile(join(mkdtempSync(join(tmpdir(), 'popgate-verified-')), 'users.yaml'));
    const hash = await hashPassword('hunter2');
    file.update((u) => u.set('bob', { password: hash }));
    const cache = new Recording();
    assert.equal(await verifyLocal(file, 'bob', password('hunter2'), cache), true);
    assert.equal(await verifyLocal(file, 'bob', password('hunter2'), cache), true);
    assert.equal(await verifyLocal(file, 'bob', password('wrong'), cache), false);
    assert.deepEqual(cache.asked, [false, true, false]);
    assert.equal(cache.remembered, 1);
    const key = cache.keyOf('bob', 'hunter2', hash);
    assert.ok(!key.includes('hunter2') && key !== cache.keyOf('bob', 'hunter2', 'another hash'), 'no password in the key; a new hash is a new key');
    assert.notEqual(new InMemoryVerifiedCredentials().keyOf('bob', 'hunter2', hash), key, 'keys differ between instances (their HMAC keys do)');
  });

  it('a failing store costs a hash, never a login', async () => {
    const file = new UsersFile(join(mkdtempSync(join(tmpdir(), 'popgate-verified-')), 'users.yaml'));
    const hash = await hashPassword('hunter2');
    file.update((u) => u.set('bob', { password: hash }));
    const broken: VerifiedCredentials = {
      keyOf: () => 'k',
      has: () => Promise.reject(new Error('down')),
      remember: () => Promise.reject(new Error('down')),
    };
    assert.equal(await verifyLocal(file, 'bob', password('hunter2'), broken), true);
    assert.equal(await verifyLocal(file, 'bob', password('nope'), broken), false);
  });
});
