/**
 * Only regular files in new/ and cur/ are messages. A directory (a user or tool that made
 * `cur/` hold a folder), a symlink and a FIFO with message-like names are not listed; before,
 * each was listed with size 0 and RETR of a directory closed the connection (EISDIR).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { addMessage, sampleMessage, toCrlf } from '../helpers/maildir.js';
import { Pop3TestClient } from '../helpers/pop3-client.js';
import { requireProgram } from '../helpers/programs.js';

describe('Maildir: only regular files are messages', () => {
  let gw: TestGateway;
  let secret: string;
  before(async () => {
    requireProgram('mkfifo');
    gw = await startTestGateway();
    const box = gw.maildir('alice');
    addMessage(box, sampleMessage(1), { time: 1_700_000_100 });
    // Names that parse as Maildir messages, delivered earlier so they would be listed first.
    mkdirSync(join(box, 'cur', '1700000001.M1P1.dir:2,S'));
    mkdirSync(join(box, 'new', '1700000002.M2P2.dir'));
    secret = join(gw.dir, 'outside.txt');
    writeFileSync(secret, 'Subject: not mail\n\nsecret outside the Maildir\n');
    symlinkSync(secret, join(box, 'new', '1700000003.M3P3.link'));
    execFileSync('mkfifo', [join(box, 'new', '1700000004.M4P4.fifo')]);
  });
  after(async () => gw?.stop());

  it('STAT, LIST and UIDL show the one real message; RETR 1 is it; RETR 2 does not exist', async () => {
    const c = await Pop3TestClient.connect(gw.port);
    await c.login('alice', 'alicepass');
    const expected = toCrlf(sampleMessage(1));
    assert.equal(await c.command('STAT'), `+OK 1 ${expected.length}`);
    assert.deepEqual((await c.lines('LIST')).lines, [`1 ${expected.length}`]);
    assert.equal((await c.lines('UIDL')).lines.length, 1);
    const retr = await c.multiline('RETR 1');
    assert.match(retr.status, /^\+OK/);
    assert.deepEqual(retr.body, expected);
    assert.match(await c.command('RETR 2'), /^-ERR /);
    assert.match(await c.quit(), /^\+OK/);
  });
});
