/** Per-tenant settings: SASL mechanisms, maxConnections, LOGIN-DELAY, EXPIRE, recent: (Maildir), deleteMode keep. */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { addMessage } from '../helpers/maildir.js';
import { Pop3TestClient } from '../helpers/pop3-client.js';
import { startMultiTenantGateway, type MultiTenantGateway } from '../helpers/tenants.js';

const plain = (user: string, password: string): string => Buffer.from(`\0${user}\0${password}`).toString('base64');
const b64 = (s: string): string => Buffer.from(s).toString('base64');

async function capa(c: Pop3TestClient): Promise<string[]> {
  return (await c.lines('CAPA')).lines;
}

describe('per-tenant settings', () => {
  let gw: MultiTenantGateway;
  const now = Math.floor(Date.now() / 1000);
  let recentName: string;

  before(async () => {
    gw = await startMultiTenantGateway({
      defaultTenant: 'home',
      maildir: {
        home: { users: { alice: 'alicepw' }, settings: { recent: { enabled: true, days: 30 } } },
        shop: {
          users: { john: 'johnpw', mary: 'marypw' },
          settings: { domains: ['shop.test'], mechanisms: ['PLAIN'], maxConnections: 1, loginDelaySeconds: 60, expire: 30 },
        },
        plain: { users: { bob: 'bobpw' }, settings: { domains: ['plain.test'], mechanisms: ['LOGIN'], expire: 'never', deleteMode: 'keep' } },
      },
      config: { limits: { authFailureDelayMs: 50, maxBadCommands: 100 } },
    });
    addMessage(gw.mailOf('home', 'alice'), 'Subject: old\n\nsixty days ago\n', { time: now - 60 * 86_400 });
    recentName = addMessage(gw.mailOf('home', 'alice'), 'Subject: new\n\nyesterday\n', { time: now - 86_400 });
    gw.deliverTagged('shop', 'john');
    gw.deliverTagged('plain', 'bob');
  });
  after(async () => {
    await gw?.stop();
  });

  it('before login CAPA offers every mechanism some tenant allows, and LOGIN-DELAY/EXPIRE as the lowest value with USER', async () => {
    const c = await Pop3TestClient.connect(gw.port);
    const caps = await capa(c);
    assert.ok(caps.includes('SASL PLAIN LOGIN'), caps.join('|'));
    assert.ok(caps.includes('LOGIN-DELAY 0 USER'), caps.join('|'));
    assert.ok(caps.includes('EXPIRE 30 USER'), caps.join('|'));
    c.destroy();
  });

  it("a mechanism the user's tenant does not allow fails like a wrong password; the allowed one works", async () => {
    const c = await Pop3TestClient.connect(gw.port);
    // plain.test allows LOGIN only.
    assert.equal(await c.command(`AUTH PLAIN ${plain('bob@plain.test', 'bobpw')}`), '-ERR [AUTH] Authentication failed.');
    assert.equal(await c.command('AUTH LOGIN'), `+ ${b64('Username:')}`);
    assert.equal(await c.command(b64('bob@plain.test')), `+ ${b64('Password:')}`);
    assert.equal(await c.command(b64('bobpw')), '+OK Logged in.');
    const caps = await capa(c);
    assert.ok(caps.includes('EXPIRE NEVER'), `after login the tenant's own value: ${caps.join('|')}`);
    assert.ok(!caps.some((l) => l.startsWith('LOGIN-DELAY')), caps.join('|'));
    await c.quit();
  });

  it('maxConnections caps one tenant only; after login CAPA shows the tenant LOGIN-DELAY, which then refuses a second login too soon', async () => {
    const john = await Pop3TestClient.connect(gw.port);
    assert.equal(await john.command(`AUTH PLAIN ${plain('john@shop.test', 'johnpw')}`), '+OK Logged in.');
    const caps = await capa(john);
    assert.ok(caps.includes('LOGIN-DELAY 60') && caps.includes('EXPIRE 30'), caps.join('|'));

    const mary = await Pop3TestClient.connect(gw.port);
    assert.equal(await mary.command('USER mary@shop.test'), '+OK');
    assert.equal(await mary.command('PASS marypw'), '-ERR [SYS/TEMP] Too many sessions for this domain; try again later.');
    const bob = await Pop3TestClient.connect(gw.port);
    await bob.login('bob@plain.test', 'bobpw');
    assert.match(await bob.command('STAT'), /^\+OK 1 /, 'another tenant is not capped');
    await bob.quit();

    assert.match(await john.quit(), /^\+OK/);
    await mary.login('mary@shop.test', 'marypw');
    assert.match(await mary.command('STAT'), /^\+OK 0 /, 'the slot is free again once the session ended');
    await mary.quit();

    const again = await Pop3TestClient.connect(gw.port);
    assert.equal(await again.command('USER john@shop.test'), '+OK');
    assert.equal(await again.command('PASS johnpw'), '-ERR [LOGIN-DELAY] Logged in too recently; try again later.');
    again.destroy();
  });

  it('recent:alice lists only the mail delivered in the last 30 days (Maildir names carry the delivery time)', async () => {
    const all = await Pop3TestClient.connect(gw.port);
    await all.login('alice', 'alicepw');
    assert.match(await all.command('STAT'), /^\+OK 2 /);
    const allUidls = (await all.lines('UIDL')).lines.map((l) => l.split(' ')[1]);
    await all.quit();
    const recent = await Pop3TestClient.connect(gw.port);
    await recent.login('recent:alice', 'alicepw');
    assert.match(await recent.command('STAT'), /^\+OK 1 /);
    const top = await recent.multiline('TOP 1 0');
    assert.match(top.body.toString(), /Subject: new/);
    const uidl = (await recent.command('UIDL 1')).split(' ')[2];
    assert.ok(allUidls.includes(uidl), 'the same UIDL as in a normal session');
    await recent.quit();
    assert.ok(existsSync(join(gw.mailOf('home', 'alice'), 'new', recentName)));
  });

  it('deleteMode: keep answers QUIT +OK and leaves the Maildir as it was', async () => {
    const c = await Pop3TestClient.connect(gw.port);
    await c.login('bob@plain.test', 'bobpw');
    assert.match(await c.command('DELE 1'), /^\+OK/);
    assert.match(await c.quit(), /^\+OK/);
    const again = await Pop3TestClient.connect(gw.port);
    await again.login('bob@plain.test', 'bobpw');
    assert.match(await again.command('STAT'), /^\+OK 1 /);
    await again.quit();
  });
});
