/**
 * Dovecot folds user names (`auth_username_format = %Lu`): `alice`, `ALICE` and `Alice` open one
 * mailbox. The maildrop lock and LOGIN-DELAY must see one mailbox too, or two sessions run at
 * once and both commit their DELEs.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { Clients } from '../helpers/auth-helpers.js';
import { startDovecot, type DovecotInstance } from '../helpers/dovecot.js';
import type { TestGateway } from '../helpers/gateway.js';
import { putMessages, startImapGateway, taggedMessage } from '../helpers/imap-harness.js';
import type { Pop3TestClient } from '../helpers/pop3-client.js';

async function tryLogin(c: Pop3TestClient, user: string): Promise<string> {
  assert.equal(await c.command(`USER ${user}`), '+OK');
  return c.command('PASS alicepass');
}

describe('case variants of an IMAP user name share the maildrop lock and LOGIN-DELAY', () => {
  let dovecot: DovecotInstance;
  let gw: TestGateway;
  let delayed: TestGateway;
  let sensitive: TestGateway;
  const clients = new Clients();
  before(async () => {
    dovecot = await startDovecot({ protocols: ['imap'], users: { alice: 'alicepass' } });
    putMessages(dovecot, [taggedMessage('case-1'), taggedMessage('case-2')]);
    gw = await startImapGateway(dovecot.imapPort);
    delayed = await startImapGateway(dovecot.imapPort, { tenant: { loginDelaySeconds: 600 } });
    // The opt-out keeps the old behaviour: proves the key really is what decides.
    sensitive = await startImapGateway(dovecot.imapPort, { tenant: { caseInsensitiveUsers: false } });
  });
  afterEach(() => clients.closeAll());
  after(async () => {
    await gw?.stop();
    await delayed?.stop();
    await sensitive?.stop();
    await dovecot?.stop();
  });

  it('Dovecot itself takes ALICE as alice (the premise)', async () => {
    const c = await clients.connect(sensitive.port);
    assert.equal(await tryLogin(c, 'ALICE'), '+OK Logged in.');
    assert.match(await c.command('STAT'), /^\+OK 2 /);
    assert.match(await c.quit(), /^\+OK/);
  });

  it('ALICE and Alice get -ERR [IN-USE] while alice is logged in; after alice QUITs, ALICE logs in', async () => {
    const first = await clients.connect(gw.port);
    assert.equal(await tryLogin(first, 'alice'), '+OK Logged in.');
    for (const variant of ['ALICE', 'Alice']) {
      const second = await clients.connect(gw.port);
      assert.match(await tryLogin(second, variant), /^-ERR \[IN-USE\] /, variant);
    }
    assert.match(await first.quit(), /^\+OK/);
    const third = await clients.connect(gw.port);
    assert.equal(await tryLogin(third, 'ALICE'), '+OK Logged in.');
    const again = await clients.connect(gw.port);
    assert.match(await tryLogin(again, 'alice'), /^-ERR \[IN-USE\] /);
    assert.match(await third.quit(), /^\+OK/);
  });

  it('LOGIN-DELAY counts alice and ALICE as one maildrop', async () => {
    const first = await clients.connect(delayed.port);
    assert.equal(await tryLogin(first, 'alice'), '+OK Logged in.');
    assert.match(await first.quit(), /^\+OK/);
    const second = await clients.connect(delayed.port);
    assert.match(await tryLogin(second, 'ALICE'), /^-ERR \[LOGIN-DELAY\] /);
  });

  it('with caseInsensitiveUsers: false the variants are separate keys (what the default prevents)', async () => {
    const first = await clients.connect(sensitive.port);
    assert.equal(await tryLogin(first, 'alice'), '+OK Logged in.');
    const second = await clients.connect(sensitive.port);
    assert.equal(await tryLogin(second, 'ALICE'), '+OK Logged in.');
    assert.match(await second.quit(), /^\+OK/);
    assert.match(await first.quit(), /^\+OK/);
  });
});
