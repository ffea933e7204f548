import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { verifyLocal } from '../../src/auth/local-verifier.js';
import { hashPassword, verifyPassword } from '../../src/auth/password-hash.js';
import { UsersFile } from '../../src/auth/users-file.js';
import { createHash, createHmac } from 'node:crypto';

describe('password hashes and the users file', () => {
  it('hashes with scrypt and a random salt; verifies only the right password', async () => {
    const a = await hashPassword('secret pass');
    const b = await hashPassword('secret pass');
    assert.match(a, /^\$scrypt\$ln=14,r=8,p=1\$/);
    assert.notEqual(a, b);
    assert.equal(await verifyPassword('secret pass', a), true);
    assert.equal(await verifyPassword('secret pasS', a), false);
    assert.equal(await verifyPassword('secret pass', 'garbage'), false);
  });

  it('writes mode 0600, never the plaintext, and re-reads after changes', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'popgate-users-')), 'users.yaml');
    const file = new UsersFile(path);
    const hash = await hashPassword('hunter2');
    file.update((u) => u.set('bob', { password: hash, secret: 's3' }));
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.ok(!readFileSync(path, 'utf8').includes('hunter2'));
    assert.equal(await verifyLocal(file, 'bob', { kind: 'password', login: 'bob', password: 'hunter2' }), true);
    assert.equal(await verifyLocal(file, 'bob', { kind: 'password', login: 'bob', password: 'nope' }), false);
    assert.equal(await verifyLocal(file, 'nobody', { kind: 'password', login: 'nobody', password: 'hunter2' }), false);
    const ts = '<1.2@host>';
    const apop = createHash('md5')
      .update(ts + 's3')
      .digest('hex');
    assert.equal(await verifyLocal(file, 'bob', { kind: 'apop', login: 'bob', timestamp: ts, digest: apop }), true);
    assert.equal(await verifyLocal(file, 'bob', { kind: 'apop', login: 'bob', timestamp: ts, digest: apop.replace(/.$/, '0') }), apop.endsWith('0'));
    const cram = createHmac('md5', 's3').update('<c@h>').digest('hex');
    assert.equal(await verifyLocal(file, 'bob', { kind: 'cram-md5', login: 'bob', challenge: '<c@h>', digest: cram }), true);
    // An external edit is picked up without a restart.
    await new Promise((r) => setTimeout(r, 20));
    writeFileSync(path, 'users: {}\n');
    assert.equal(file.get('bob'), undefined);
  });

  it('rejects a file holding a plaintext password, naming the entry', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'popgate-users-')), 'users.yaml');
    writeFileSync(path, 'users:\n  carol:\n    password: plain\n');
    assert.throws(() => new UsersFile(path).check(), /users\.carol\.password/);
  });
});
