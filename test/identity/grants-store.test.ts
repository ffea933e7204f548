/** The pieces of the grants store without a provider: sealing, keys, the file, device passwords. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { hashPassword } from '../../src/auth/password-hash.js';
import { generateDevicePassword, devicePasswordRecord, matchDevicePassword } from '../../src/identity/device-passwords.js';
import { FileGrantStore } from '../../src/identity/file-grant-store.js';
import type { GrantRecord } from '../../src/identity/grant-record.js';
import { KeySource } from '../../src/identity/key-source.js';
import { Keyring, UnsealError, generateKeyText, keyIdOf, parseKeys } from '../../src/identity/keyring.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'popgate-grants-'));

function record(account: string, over: Partial<GrantRecord> = {}): GrantRecord {
  const now = new Date().toISOString();
  return {
    account,
    provider: 'corp',
    address: `${account}@example.test`,
    subject: account,
    scopes: ['openid'],
    state: 'linked',
    linkedAt: now,
    updatedAt: now,
    devicePasswords: [],
    ...over,
  };
}

describe('keyring: AES-256-GCM sealing of refresh tokens', () => {
  const k1 = randomBytes(32);
  const k2 = randomBytes(32);

  it('seals with the first key, opens with any key of the ring, and names the key in every value', () => {
    const ring = new Keyring([k1, k2]);
    const sealed = ring.seal('refresh-token-value', 'alice');
    assert.equal(sealed.kid, keyIdOf(k1));
    assert.ok(!JSON.stringify(sealed).includes('refresh-token-value'));
    assert.equal(ring.unseal(sealed, 'alice'), 'refresh-token-value');
    assert.equal(new Keyring([k2, k1]).unseal(sealed, 'alice'), 'refresh-token-value', 'an older key still opens what it sealed');
    assert.notEqual(ring.seal('refresh-token-value', 'alice').iv, sealed.iv, 'a fresh IV each time');
  });

  it('refuses a value copied to another account, a changed value, and an unknown key', () => {
    const ring = new Keyring([k1]);
    const sealed = ring.seal('rt', 'alice');
    assert.throws(() => ring.unseal(sealed, 'bob'), UnsealError);
    const data = Buffer.from(sealed.data, 'base64');
    data[0] = (data[0] as number) ^ 1;
    assert.throws(() => ring.unseal({ ...sealed, data: data.toString('base64') }, 'alice'), UnsealError);
    assert.throws(() => new Keyring([k2]).unseal(sealed, 'alice'), /not in the keyring/);
  });

  it('reads key text: comments, several keys, and clear errors for bad ones', () => {
    const a = generateKeyText();
    const b = generateKeyText();
    assert.deepEqual(
      parseKeys(`# current\n${a}\n\n${b} # old\n`, 'f').map((k) => k.toString('base64')),
      [a, b],
    );
    assert.throws(() => parseKeys('# nothing\n', 'key file x'), /key file x holds no key/);
    assert.throws(() => parseKeys('c2hvcnQ=', 'key file x'), /key 1 is not 32 octets/);
  });

  it('re-reads the key file when a record names a key it does not have yet', () => {
    const dir = tmp();
    const path = join(dir, 'grants.key');
    const a = generateKeyText();
    writeFileSync(path, `${a}\n`, { mode: 0o600 });
    const keys = new KeySource({ keyFile: path });
    const first = keys.keyring();
    const b = generateKeyText();
    writeFileSync(path, `${b}\n${a}\n`, { mode: 0o600 });
    const newId = keyIdOf(Buffer.from(b, 'base64'));
    assert.equal(keys.keyringWith(first.currentId), first, 'a known key: no re-read');
    assert.equal(keys.keyringWith(newId).currentId, newId);
    chmodSync(path, 0o644);
    assert.match(keys.permissionWarning() ?? '', /mode 0644/);
  });
});

describe('the grants file', () => {
  it('is written whole, mode 0600, re-read when another process changed it', async () => {
    const path = join(tmp(), 'grants.json');
    const one = new FileGrantStore(path);
    const other = new FileGrantStore(path);
    assert.equal(await one.get('alice'), undefined, 'no file yet: no grants');
    await one.update('alice', () => record('alice'));
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal((await other.get('alice'))?.address, 'alice@example.test');
    await other.update('alice', (r) => (r === undefined ? r : { ...r, state: 'needs-reconsent', stateReason: 'invalid_grant' }));
    assert.equal((await one.get('alice'))?.state, 'needs-reconsent');
    assert.equal(await one.update('nobody', (r) => r), undefined, 'no change, no write');
    await one.update('alice', () => undefined);
    assert.deepEqual(await other.all(), []);
  });

  it('loses no change when two stores (two processes) change it at once', async () => {
    const path = join(tmp(), 'grants.json');
    const a = new FileGrantStore(path);
    const b = new FileGrantStore(path);
    await a.update('alice', () => record('alice'));
    const hash = await hashPassword('x');
    const adds = Array.from({ length: 20 }, (_, i) =>
      (i % 2 === 0 ? a : b).update('alice', (r) =>
        r === undefined
          ? r
          : {
              ...r,
              devicePasswords: [...r.devicePasswords, { id: `dev${String(i).padStart(5, '0')}`, name: `d${i}`, hash, hint: '0000', createdAt: r.linkedAt }],
            },
      ),
    );
    await Promise.all(adds);
    assert.equal((await new FileGrantStore(path).get('alice'))?.devicePasswords.length, 20);
  });

  it('takes over a lock left by a dead process once it is old, and refuses a file others can write', async () => {
    const dir = tmp();
    const path = join(dir, 'grants.json');
    writeFileSync(`${path}.lock`, '999999\n');
    utimesSync(`${path}.lock`, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    await new FileGrantStore(path).update('bob', () => record('bob'));
    assert.equal((await new FileGrantStore(path).get('bob'))?.account, 'bob');
    chmodSync(path, 0o666);
    await assert.rejects(new FileGrantStore(path).check(), /writable by others/);
    chmodSync(path, 0o640);
    assert.match(new FileGrantStore(path).permissionWarning() ?? '', /mode 0640/);
  });

  it('refuses a file that is not a grants file, naming the problem', async () => {
    const path = join(tmp(), 'grants.json');
    writeFileSync(path, JSON.stringify({ version: 1, grants: { alice: { account: 'alice' } } }));
    await assert.rejects(new FileGrantStore(path).check(), /grants file .*grants\.json: grants\.alice\./);
    writeFileSync(path, '{nope');
    await assert.rejects(new FileGrantStore(path).check(), /not JSON/);
  });
});

describe('device passwords', () => {
  it('are 20 characters of an unambiguous alphabet in groups of five; typed any case, with or without dashes', async () => {
    const plain = generateDevicePassword();
    assert.match(plain, /^[a-km-np-z2-9]{5}(-[a-km-np-z2-9]{5}){3}$/);
    const dev = await devicePasswordRecord(plain, 'scanner');
    assert.ok(!JSON.stringify(dev).includes(plain.replaceAll('-', '')), 'only a hash is kept');
    const r = record('alice', { devicePasswords: [dev] });
    assert.equal((await matchDevicePassword(r, plain))?.id, dev.id);
    assert.equal((await matchDevicePassword(r, plain.toUpperCase().replaceAll('-', ' ')))?.id, dev.id);
    assert.equal(await matchDevicePassword(r, generateDevicePassword()), undefined);
    assert.equal(await matchDevicePassword(undefined, plain), undefined);
  });

  it('a login costs one scrypt whether the account exists or not, and however many passwords it has', async () => {
    const many = await Promise.all(Array.from({ length: 8 }, (_, i) => devicePasswordRecord(generateDevicePassword(), `d${i}`)));
    const r = record('alice', { devicePasswords: many });
    const time = async (rec: GrantRecord | undefined): Promise<number> => {
      const started = process.hrtime.bigint();
      await matchDevicePassword(rec, generateDevicePassword());
      return Number(process.hrtime.bigint() - started) / 1e6;
    };
    await time(undefined);
    const unknown = Math.min(await time(undefined), await time(undefined), await time(undefined));
    const known = Math.min(await time(r), await time(r), await time(r));
    // Eight scrypt checks would take eight times as long; one check each is within noise.
    assert.ok(known < unknown * 2.5 && unknown < known * 2.5, `unknown account ${unknown.toFixed(1)} ms, account with 8 passwords ${known.toFixed(1)} ms`);
  });

  it('the grants file never holds the plain password', async () => {
    const path = join(tmp(), 'grants.json');
    const plain = generateDevicePassword();
    const dev = await devicePasswordRecord(plain, 'scanner');
    await new FileGrantStore(path).update('alice', () => record('alice', { devicePasswords: [dev] }));
    const text = readFileSync(path, 'utf8');
    assert.ok(!text.includes(plain) && !text.includes(plain.replaceAll('-', '')));
    assert.match(text, /\$scrypt\$/);
  });
});
