/**
 * Messages deleted in Gmail after the login's listing (messages.get answers 404), in a
 * pipelined session: one gone before the size scan (LIST and STAT count it as 0 octets), one
 * gone after it (the read-ahead meets the 404 first, then RETR does). Each is -ERR for itself
 * alone; every other message arrives byte for byte, DELE of a gone one is accepted and QUIT
 * counts it as removed. (failures.test.ts: one RETR of a message gone before any size; the
 * contract suite: gone after STAT, one command at a time.)
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { wireBody, wireSize } from '../helpers/client-corpus.js';
import type { TestGateway } from '../helpers/gateway.js';
import { ALICE_GMAIL, startGmailGateway } from '../helpers/gmail-gateway.js';
import { startGmailStandin, type GmailStandin } from '../helpers/gmail-standin.js';
import { loggedIn, readLines } from '../helpers/tx-util.js';

const U = ALICE_GMAIL.user;
const GONE = '-ERR Message was removed by another client.';

/** Dot lines, bare LF, 8-bit text, and no final line end on every other message. */
const mail = Array.from({ length: 6 }, (_, i) =>
  Buffer.from(`Subject: m${i + 1}\n\n.dot\n..dots\nÄrger ${'y'.repeat(500 * i)}\r\nend${i % 2 === 0 ? '\n' : ''}`, 'utf8'),
);

describe('gmail: messages deleted since the listing', () => {
  let g: GmailStandin;
  let gw: TestGateway;
  before(async () => {
    g = await startGmailStandin();
    gw = await startGmailGateway(g);
  });
  after(async () => {
    await gw?.stop();
    await g?.close();
  });

  it('pipelined: -ERR for each gone message alone (size 0 in LIST), every other RETR byte for byte, DELE + QUIT +OK', async () => {
    const ids = mail.map((m) => g.add(U, m));
    const c = await loggedIn(gw, U, ALICE_GMAIL.password);
    g.remove(U, ids[1] as string);
    const list = await c.lines('LIST');
    assert.match(list.status, /^\+OK/);
    assert.deepEqual(
      list.lines,
      mail.map((m, i) => `${i + 1} ${i === 1 ? 0 : wireSize(m)}`),
    );
    g.remove(U, ids[4] as string);
    c.send(`${mail.map((_, i) => `RETR ${i + 1}\r\n`).join('')}TOP 5 0\r\nDELE 2\r\nDELE 5\r\nDELE 1\r\nSTAT\r\n`);
    for (const [i, m] of mail.entries()) {
      const status = await c.readLine();
      if (i === 1 || i === 4) {
        assert.equal(status, GONE, `RETR ${i + 1}`);
        continue;
      }
      assert.match(status, /^\+OK /, `RETR ${i + 1}`);
      assert.ok((await c.readMultiline()).equals(wireBody(m)), `RETR ${i + 1} byte for byte`);
    }
    const [top, ...rest] = await readLines(c, 5);
    assert.equal(top, GONE, 'TOP 5 0');
    assert.deepEqual(
      rest.map((l) => l.split(' ', 1)[0]),
      ['+OK', '+OK', '+OK', '+OK'],
      `DELE 2, DELE 5, DELE 1, STAT: ${rest.join(' | ')}`,
    );
    assert.equal(rest[3], `+OK 3 ${wireSize(mail[2] as Buffer) + wireSize(mail[3] as Buffer) + wireSize(mail[5] as Buffer)}`);
    assert.match(await c.quit(), /^\+OK/, 'the gone ones count as removed');
    assert.deepEqual(
      g.inbox(U).map((m) => m.id),
      [ids[2], ids[3], ids[5]],
    );
    assert.equal(
      g
        .messages(U)
        .find((m) => m.id === ids[0])
        ?.labels.has('TRASH'),
      true,
    );
  });
});
