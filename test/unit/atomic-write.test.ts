/**
 * The users file's atomic write never follows or reuses a file planted in its directory: the
 * temporary file is created exclusively under a random name (O_EXCL, O_NOFOLLOW), retried on a
 * taken name.
 */
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdtempSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, it } from 'node:test';
import { writeFileAtomically } from '../../src/auth/atomic-write.js';
import { hashPassword } from '../../src/auth/password-hash.js';
import { UsersFile } from '../../src/auth/users-file.js';

const VICTIM_TEXT = 'root:x:0:0:do not touch\n';

describe('atomic writes of the users file', () => {
  let dir: string;
  let victim: string;
  let target: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'popgate-atomic-'));
    const elsewhere = mkdtempSync(join(tmpdir(), 'popgate-victim-'));
    victim = join(elsewhere, 'victim');
    writeFileSync(victim, VICTIM_TEXT, { mode: 0o644 });
    target = join(dir, 'users.yaml');
  });

  const assertVictimUntouched = (): void => {
    assert.equal(readFileSync(victim, 'utf8'), VICTIM_TEXT);
    assert.equal(statSync(victim).mode & 0o777, 0o644);
  };

  it('a symlink planted at the old predictable name <file>.tmp-<pid> is not followed', async () => {
    symlinkSync(victim, `${target}.tmp-${process.pid}`);
    const hash = await hashPassword('pw');
    new UsersFile(target).update((u) => u.set('bob', { password: hash }));
    assertVictimUntouched();
    assert.ok(lstatSync(`${target}.tmp-${process.pid}`).isSymbolicLink());
    assert.equal(statSync(target).mode & 0o777, 0o600);
    assert.deepEqual(new UsersFile(target).names(), ['bob']);
  });

  it('a symlink (or a dangling one, or a file) at the chosen name makes it try another name', () => {
    const names = ['one', 'two', 'three', 'four'];
    const used: string[] = [];
    const suffix = (): string => {
      const next = names.shift() ?? 'exhausted';
      used.push(next);
      return next;
    };
    symlinkSync(victim, join(dir, '.users.yaml.tmp-one'));
    symlinkSync(join(dir, 'nowhere', 'created'), join(dir, '.users.yaml.tmp-two'));
    writeFileSync(join(dir, '.users.yaml.tmp-three'), 'someone else', { mode: 0o644 });
    writeFileAtomically(target, 'users: {}\n', 0o600, suffix);
    assert.deepEqual(used, ['one', 'two', 'three', 'four']);
    assertVictimUntouched();
    assert.equal(existsSync(join(dir, 'nowhere')), false);
    assert.equal(readFileSync(join(dir, '.users.yaml.tmp-three'), 'utf8'), 'someone else');
    assert.equal(readFileSync(target, 'utf8'), 'users: {}\n');
    assert.equal(statSync(target).mode & 0o777, 0o600);
    assert.equal(existsSync(join(dir, '.users.yaml.tmp-four')), false, 'the temporary file was renamed away');
  });

  it('gives up with EEXIST when every name is taken, leaving the target and the victim alone', () => {
    writeFileSync(target, 'old\n', { mode: 0o600 });
    symlinkSync(victim, join(dir, '.users.yaml.tmp-same'));
    let calls = 0;
    assert.throws(
      () =>
        writeFileAtomically(target, 'new\n', 0o600, () => {
          calls++;
          return 'same';
        }),
      (err: NodeJS.ErrnoException) => err.code === 'EEXIST',
    );
    assert.ok(calls > 1, 'it retried');
    assertVictimUntouched();
    assert.equal(readFileSync(target, 'utf8'), 'old\n');
  });

  it('with its own random names it leaves only the target behind, mode 0600 whatever the umask', () => {
    const umask = process.umask(0o077);
    try {
      writeFileAtomically(target, 'first\n');
      writeFileAtomically(target, 'final\n');
    } finally {
      process.umask(umask);
    }
    assert.deepEqual(readdirSync(dir), ['users.yaml']);
    assert.equal(readFileSync(target, 'utf8'), 'final\n');
    assert.equal(statSync(target).mode & 0o777, 0o600);
  });
});
