import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startDovecot, type DovecotInstance } from '../helpers/dovecot.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { sampleMessage, toCrlf } from '../helpers/maildir.js';
import { Pop3TestClient } from '../helpers/pop3-client.js';

describe('IMAP adapter smoke test against a real Dovecot', () => {
  let dovecot: DovecotInstance;
  let gw: TestGateway;
  before(async () => {
    dovecot = await startDovecot({ protocols: ['imap'] });
    for (let i = 1; i <= 3; i++) dovecot.deliver('alice', sampleMessage(i));
    gw = await startTestGateway({
      users: {},
      tenantConfig: { adapter: 'imap', host: '127.0.0.1', port: dovecot.imapPort, tls: 'none' },
    });
  });
  after(async () => {
    await gw?.stop();
    await dovecot?.stop();
  });

  it('logs in with the IMAP password, lists, retrieves, deletes at QUIT', async () => {
    const c = await Pop3TestClient.connect(gw.port);
    await c.login('alice', 'alicepass');
    const sizes = [1, 2, 3].map((i) => toCrlf(sampleMessage(i)).length);
    assert.equal(await c.command('STAT'), `+OK 3 ${sizes.reduce((a, b) => a + b)}`);
    const uidl = await c.lines('UIDL');
    assert.equal(uidl.lines.length, 3);
    for (let i = 1; i <= 3; i++) {
      const r = await c.multiline(`RETR ${i}`);
      assert.equal(r.status, `+OK ${sizes[i - 1]} octets`);
      assert.deepEqual(r.body, toCrlf(sampleMessage(i)));
    }
    assert.match(await c.command('DELE 2'), /^\+OK/);
    assert.match(await c.quit(), /^\+OK/);
    const c2 = await Pop3TestClient.connect(gw.port);
    await c2.login('alice', 'alicepass');
    assert.equal(await c2.command('STAT'), `+OK 2 ${sizes[0]! + sizes[2]!}`);
    const uidl2 = await c2.lines('UIDL');
    assert.deepEqual(
      uidl2.lines.map((l) => l.split(' ')[1]),
      [uidl.lines[0], uidl.lines[2]].map((l) => l!.split(' ')[1]),
    );
    await c2.quit();
  });

  it('logs the latency of every IMAP command after login (debug level), by command name', () => {
    const entries = gw.logs
      .map((l) => JSON.parse(l) as { msg?: string; op?: string; ms?: number; status?: string })
      .filter((e) => e.msg === 'imap: backend command');
    const ops = new Set(entries.map((e) => e.op));
    for (const op of ['UID FETCH', 'SELECT', 'UID STORE', 'UID EXPUNGE', 'UID SEARCH', 'LOGOUT'])
      assert.ok(ops.has(op), `${op} was logged: ${[...ops].join(', ')}`);
    assert.ok(
      entries.every((e) => typeof e.ms === 'number' && e.ms >= 0 && e.status === 'OK'),
      JSON.stringify(entries.slice(0, 3)),
    );
  });

  it('refuses a wrong password with [AUTH]', async () => {
    const c = await Pop3TestClient.connect(gw.port);
    assert.equal(await c.command('USER alice'), '+OK');
    assert.equal(await c.command('PASS nope'), '-ERR [AUTH] Authentication failed.');
    await c.quit();
  });
});
