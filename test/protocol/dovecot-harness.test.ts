import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { startDovecot, type DovecotInstance } from '../helpers/dovecot.js';
import { crlfLength, sampleMessage, toCrlf } from '../helpers/maildir.js';
import { Pop3TestClient } from '../helpers/pop3-client.js';

describe('the private Dovecot harness', () => {
  let dovecot: DovecotInstance;
  before(async () => {
    dovecot = await startDovecot({ pop3Tuning: true, pop3UidlFormat: '%f', mailMaxUseripConnections: 20 });
  });
  after(() => dovecot?.stop());

  it('serves a delivered message over POP3 and stops cleanly', async () => {
    const body = sampleMessage(1, 'First line.\n.a line that starts with a dot\n');
    const name = dovecot.deliver('alice', body);
    const c = await Pop3TestClient.connect(dovecot.pop3Port);
    assert.match(c.greeting, /^\+OK /);
    await c.login('alice', dovecot.users.alice as string);
    assert.equal(await c.command('STAT'), `+OK 1 ${crlfLength(Buffer.from(body))}`);
    const uidl = await c.lines('UIDL');
    assert.deepEqual(uidl.lines, [`1 ${name}`]);
    const retr = await c.multiline('RETR 1');
    assert.deepEqual(retr.body, toCrlf(body));
    assert.match(await c.quit(), /^\+OK/);
    assert.match(await dovecot.doveadm(['mailbox', 'status', '-u', 'alice', 'messages', 'INBOX']), /messages=1/);
  });

  it('answers IMAP on its own port', async () => {
    const c = await Pop3TestClient.connect(dovecot.imapPort);
    assert.match(c.greeting, /^\* OK /);
    c.destroy();
  });

  it('refuses a wrong password', async () => {
    const c = await Pop3TestClient.connect(dovecot.pop3Port);
    assert.match(await c.command('USER alice'), /^\+OK/);
    assert.match(await c.command('PASS wrong'), /^-ERR/);
    c.destroy();
  });

  it('reports start-up failures with the tail of the log', async () => {
    await assert.rejects(startDovecot({ extraConfig: 'no_such_setting = 1' }), /startDovecot: dovecot exited[\s\S]*no_such_setting/);
  });

  it('removes its directory on stop', async () => {
    const other = await startDovecot({ protocols: ['pop3'] });
    assert.ok(existsSync(other.configPath));
    await other.stop();
    assert.equal(existsSync(other.dir), false);
  });
});
