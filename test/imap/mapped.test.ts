import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startDovecot, type DovecotInstance } from '../helpers/dovecot.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { sampleMessage, toCrlf } from '../helpers/maildir.js';
import { Pop3TestClient } from '../helpers/pop3-client.js';

describe('IMAP auth: mapped (gateway account -> stored IMAP credentials)', () => {
  let dovecot: DovecotInstance;
  let gw: TestGateway;
  before(async () => {
    dovecot = await startDovecot({ protocols: ['imap'], users: { alice: 'alicepass', bob: 'bobpass' } });
    dovecot.deliver('alice', sampleMessage(1));
    gw = await startTestGateway({
      users: {
        scanner: { password: 'scanpass', secret: 'scansecret', backend: { user: 'alice', password: 'alicepass' } },
        stale: { password: 'stalepass', backend: { user: 'bob', password: 'old-password' } },
        nobackend: { password: 'nbpass' },
      },
      tenantConfig: ({ usersFile }) => ({ adapter: 'imap', host: '127.0.0.1', port: dovecot.imapPort, tls: 'none', auth: 'mapped', users: usersFile }),
      config: { allowPlaintextAuth: 'always', auth: { apop: true, mechanisms: ['PLAIN', 'LOGIN', 'CRAM-MD5'] } },
    });
  });
  after(async () => {
    await gw?.stop();
    await dovecot?.stop();
  });

  it('the gateway password opens the mapped IMAP mailbox; the IMAP password itself does not', async () => {
    const c = await Pop3TestClient.connect(gw.port);
    await c.login('scanner', 'scanpass');
    const r = await c.multiline('RETR 1');
    assert.deepEqual(r.body, toCrlf(sampleMessage(1)));
    await c.quit();
    const d = await Pop3TestClient.connect(gw.port);
    assert.equal(await d.command('USER alice'), '+OK');
    assert.equal(await d.command('PASS alicepass'), '-ERR [AUTH] Authentication failed.');
    await d.quit();
  });

  it('APOP works for a mapped account with a shared secret (impossible with passthrough)', async () => {
    const c = await Pop3TestClient.connect(gw.port);
    const stamp = /<[^>]+>/.exec(c.greeting)?.[0];
    assert.ok(stamp, `greeting has an APOP timestamp: ${c.greeting}`);
    const digest = createHash('md5')
      .update(stamp + 'scansecret')
      .digest('hex');
    assert.equal(await c.command(`APOP scanner ${digest}`), '+OK Logged in.');
    assert.match(await c.command('STAT'), /^\+OK 1 /);
    await c.quit();
  });

  it('stored credentials the IMAP server refuses, or none at all, give [SYS/PERM], not [AUTH]', async () => {
    for (const [user, pass] of [
      ['stale', 'stalepass'],
      ['nobackend', 'nbpass'],
    ] as const) {
      const c = await Pop3TestClient.connect(gw.port);
      assert.equal(await c.command(`USER ${user}`), '+OK');
      assert.match(await c.command(`PASS ${pass}`), /^-ERR \[SYS\/PERM\] /, user);
      await c.quit();
    }
  });
});
