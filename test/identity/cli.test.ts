/** `popgate link`, `popgate device-password` and `popgate keys` on a config's grants store, as child processes. */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { parseConfig } from '../../src/config/loader.js';
import { Identity, type Grants } from '../../src/identity/identity.js';
import { keyIdOf } from '../../src/identity/keyring.js';
import { createLogger } from '../../src/logger.js';
import { cli } from '../helpers/cli-process.js';
import { linkMailbox, startIdentityStack, type IdentityStack } from '../helpers/identity-stack.js';

describe('popgate link | device-password | keys', () => {
  let stack: IdentityStack;
  let configPath: string;
  let grants: Grants;

  const reload = async (): Promise<Grants> => {
    const cfg = parseConfig(readFileSync(configPath, 'utf8'), stack.dir);
    return (await Identity.load(cfg.identity, createLogger('silent'))).grants as Grants;
  };

  before(async () => {
    stack = await startIdentityStack();
    configPath = join(stack.dir, 'popgate.yaml');
    writeFileSync(
      configPath,
      stringify({
        listeners: [{ host: '127.0.0.1', port: 0 }],
        tenants: { main: { adapter: 'imap', host: '127.0.0.1', port: 1, tls: 'none', auth: 'grant', provider: 'corp' } },
        identity: stack.config,
      }),
    );
    grants = await reload();
    await linkMailbox(grants.links, stack.idp, 'alice', 'alice');
  });
  after(async () => {
    await stack?.close();
  });

  it('link list shows each account with its provider, address and state', async () => {
    const r = await cli(['link', 'list', '-c', configPath]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^alice\tcorp\talice@example\.test\tlinked\tno device passwords\tupdated /m);
    const json = await cli(['link', 'list', '--json', '-c', configPath]);
    assert.equal((JSON.parse(json.stdout) as { state: string }[])[0]?.state, 'linked');
    assert.ok(!json.stdout.includes('refreshToken') && !json.stdout.includes('"hash"'), 'no sealed token and no hash in the listing');
  });

  it('device-password add prints the password once; it logs in; list shows it; remove takes it away', async () => {
    const add = await cli(['device-password', 'add', 'alice', '--name', 'office scanner', '-c', configPath]);
    assert.equal(add.code, 0, add.stderr);
    const password = add.stdout.trim();
    assert.match(password, /^[a-z2-9]{5}(-[a-z2-9]{5}){3}$/);
    assert.match(add.stderr, /shown only now/);
    assert.ok(!readFileSync(stack.grantsFile, 'utf8').includes(password));
    grants = await reload();
    assert.equal((await grants.devices.verify('alice', password, 'corp', createLogger('silent')))?.address, 'alice@example.test');
    const list = await cli(['device-password', 'list', 'alice', '-c', configPath]);
    assert.match(list.stdout, /^[0-9a-f]{16}\toffice scanner\tcreated .*\tlast used /m);
    const remove = await cli(['device-password', 'remove', 'alice', 'office scanner', '-c', configPath]);
    assert.equal(remove.code, 0, remove.stderr);
    assert.equal(await grants.devices.verify('alice', password, 'corp', createLogger('silent')), undefined);
    const again = await cli(['device-password', 'remove', 'alice', 'office scanner', '-c', configPath]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /has no device password office scanner/);
    const unknown = await cli(['device-password', 'add', 'nobody', '--name', 'x', '-c', configPath]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /nobody has no link/);
  });

  it('keys generate prints a key; keys rotate re-seals every grant with the new first key', async () => {
    const gen = await cli(['keys', 'generate']);
    assert.equal(gen.code, 0);
    const newKey = gen.stdout.trim();
    assert.equal(Buffer.from(newKey, 'base64').length, 32);
    const oldKey = readFileSync(stack.keyFile, 'utf8').trim();
    writeFileSync(stack.keyFile, `${newKey}\n${oldKey}\n`);
    const rotate = await cli(['keys', 'rotate', '-c', configPath]);
    assert.equal(rotate.code, 0, rotate.stderr);
    const id = keyIdOf(Buffer.from(newKey, 'base64'));
    assert.equal(rotate.stderr.trim(), `re-encrypted 1 grant with key ${id}`);
    assert.match(readFileSync(stack.grantsFile, 'utf8'), new RegExp(`"kid": "${id}"`));
    writeFileSync(stack.keyFile, `${newKey}\n`);
    grants = await reload();
    assert.ok((await grants.broker.accessToken('alice', 'corp')).length > 0, 'the grant opens with the new key alone');
  });

  it('link revoke revokes at the provider and marks the link revoked', async () => {
    const r = await cli(['link', 'revoke', 'alice', '-c', configPath]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^revoked the link of alice \(alice@example\.test at corp\)$/m);
    const list = await cli(['link', 'list', '-c', configPath]);
    assert.match(list.stdout, /^alice\tcorp\talice@example\.test\trevoked \(revoked by operator \(popgate link revoke\)\)/m);
    const none = await cli(['link', 'revoke', 'nobody', '-c', configPath]);
    assert.equal(none.code, 1);
  });

  it('a config without a grants store: a clear error', async () => {
    const bare = join(stack.dir, 'bare.yaml');
    writeFileSync(bare, stringify({ listeners: [{ host: '127.0.0.1', port: 0 }], tenants: { main: { adapter: 'memory', users: 'users.yaml' } } }));
    const r = await cli(['link', 'list', '-c', bare]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /the config has no identity\.grants/);
  });
});
