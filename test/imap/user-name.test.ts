import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startDovecot, type DovecotInstance } from '../helpers/dovecot.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { sampleMessage } from '../helpers/maildir.js';
import { Pop3TestClient } from '../helpers/pop3-client.js';

describe('which user name IMAP sees for a user@domain login (userName: local | full)', () => {
  let dovecot: DovecotInstance;
  let gw: TestGateway;
  before(async () => {
    dovecot = await startDovecot({ protocols: ['imap'], users: { alice: 'alicepass', 'bob@example.org': 'bobpass' } });
    dovecot.deliver('alice', sampleMessage(1));
    dovecot.deliver('bob@example.org', sampleMessage(2));
    dovecot.deliver('bob@example.org', sampleMessage(3));
    const imap = { adapter: 'imap', host: '127.0.0.1', port: dovecot.imapPort, tls: 'none' };
    gw = await startTestGateway({
      users: {},
      config: {
        tenants: {
          stripped: { ...imap, domains: ['example.com'] },
          whole: { ...imap, domains: ['example.org'], userName: 'full' },
        },
        defaultTenant: 'stripped',
      },
    });
  });
  after(async () => {
    await gw?.stop();
    await dovecot?.stop();
  });

  async function stat(login: string, password: string): Promise<string> {
    const c = await Pop3TestClient.connect(gw.port);
    assert.equal(await c.command(`USER ${login}`), '+OK');
    const pass = await c.command(`PASS ${password}`);
    const answer = pass.startsWith('+OK') ? await c.command('STAT') : pass;
    await c.quit();
    return answer;
  }

  it('local (default): alice@example.com logs in to IMAP as alice', async () => {
    assert.match(await stat('alice@example.com', 'alicepass'), /^\+OK 1 /);
  });

  it('full: bob@example.org logs in to IMAP as bob@example.org', async () => {
    assert.match(await stat('bob@example.org', 'bobpass'), /^\+OK 2 /);
  });

  it('a login without a routed domain goes whole to the default tenant', async () => {
    assert.match(await stat('alice', 'alicepass'), /^\+OK 1 /);
    assert.equal(await stat('bob', 'bobpass'), '-ERR [AUTH] Authentication failed.');
  });
});
