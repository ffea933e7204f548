/**
 * The login snapshot of an IMAP folder: numbering fixed for the session, sizes from RFC822.SIZE
 * equal to what RETR sends, and a 10,000 message folder listed in one go.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startDovecot, type DovecotInstance } from '../helpers/dovecot.js';
import type { TestGateway } from '../helpers/gateway.js';
import { assertBytes, closeImap, openImap, putMessages, startImapGateway, taggedMessage } from '../helpers/imap-harness.js';
import { Pop3TestClient } from '../helpers/pop3-client.js';
import { expectedBody, expectedSize, loggedIn } from '../helpers/tx-util.js';

describe('IMAP snapshot: numbering is fixed for the session', () => {
  let dovecot: DovecotInstance;
  let gw: TestGateway;
  const first = [1, 2, 3].map((i) => taggedMessage(`fixed-${i}`));
  before(async () => {
    dovecot = await startDovecot({ protocols: ['imap'] });
    putMessages(dovecot, first);
    gw = await startImapGateway(dovecot.imapPort);
  });
  after(async () => {
    await gw?.stop();
    await dovecot?.stop();
  });

  it('mail delivered during a session is not seen until the next login', async () => {
    const a = await loggedIn(gw);
    const stat = await a.command('STAT');
    assert.equal(stat, `+OK 3 ${first.reduce((n, m) => n + expectedSize(m), 0)}`);
    const uidlBefore = await a.lines('UIDL');

    const late = taggedMessage('fixed-late', 'Arrived during the session.\n');
    dovecot.deliver('alice', late);
    // The new message is really there for IMAP clients.
    const direct = await openImap(dovecot);
    try {
      const status = await direct.status('INBOX', { messages: true });
      assert.equal(status === false ? undefined : status.messages, 4);
    } finally {
      await closeImap(direct);
    }

    assert.equal(await a.command('STAT'), stat);
    assert.equal(await a.command('LIST 4'), '-ERR There is no such message.');
    assert.match(await a.command('RETR 4'), /^-ERR /);
    assert.deepEqual(
      (await a.lines('LIST')).lines,
      first.map((m, i) => `${i + 1} ${expectedSize(m)}`),
    );
    assert.deepEqual(await a.lines('UIDL'), uidlBefore);
    for (let i = 1; i <= 3; i++) assertBytes((await a.multiline(`RETR ${i}`)).body, expectedBody(first[i - 1] as string), `RETR ${i}`);
    assert.match(await a.quit(), /^\+OK/);

    const b = await loggedIn(gw);
    assert.equal(await b.command('STAT'), `+OK 4 ${[...first, late].reduce((n, m) => n + expectedSize(m), 0)}`);
    assertBytes((await b.multiline('RETR 4')).body, expectedBody(late), 'RETR 4');
    const uidlAfter = await b.lines('UIDL');
    assert.deepEqual(uidlAfter.lines.slice(0, 3), uidlBefore.lines, 'the old messages keep their numbers and UIDLs');
    await b.quit();
  });
});

describe('IMAP snapshot: sizes', () => {
  let dovecot: DovecotInstance;
  let gw: TestGateway;
  const b = (s: string): Buffer => Buffer.from(s, 'latin1');
  const messages: Buffer[] = [
    b(taggedMessage('size-lf', 'LF line ends\nsecond line\n')),
    b(taggedMessage('size-crlf', 'CRLF line ends\r\nsecond\r\n').replaceAll(/\r?\n/g, '\r\n')),
    b(taggedMessage('size-nofinal', 'no final newline')),
    b(taggedMessage('size-bare-cr', 'bare\rCR and a CR at the end\r')),
    b(taggedMessage('size-8bit', 'caf\xe9 \xff\xfe\x80 raw 8-bit octets\n', 'Content-Transfer-Encoding: 8bit\n')),
    b('no headers at all, just a line\nand another\n'),
    b(taggedMessage('size-dots', '.\n..\n.x\n')),
    b(taggedMessage('size-long', 'L'.repeat(70_000) + '\nshort\n')),
    b(taggedMessage('size-empty-body', '')),
  ];
  before(async () => {
    dovecot = await startDovecot({ protocols: ['imap'] });
    putMessages(dovecot, messages);
    gw = await startImapGateway(dovecot.imapPort);
  });
  after(async () => {
    await gw?.stop();
    await dovecot?.stop();
  });

  it('LIST and STAT sizes (RFC822.SIZE) equal the octets RETR announces and sends', async () => {
    const direct = await openImap(dovecot);
    const imapSizes: number[] = [];
    try {
      for await (const m of direct.fetch('1:*', { uid: true, size: true })) imapSizes.push(m.size as number);
    } finally {
      await closeImap(direct);
    }
    const c = await loggedIn(gw);
    const list = await c.lines('LIST');
    assert.deepEqual(
      list.lines,
      imapSizes.map((s, i) => `${i + 1} ${s}`),
      'LIST shows the IMAP server’s RFC822.SIZE',
    );
    assert.equal(await c.command('STAT'), `+OK ${messages.length} ${imapSizes.reduce((x, y) => x + y, 0)}`);
    for (const [i, msg] of messages.entries()) {
      const r = await c.multiline(`RETR ${i + 1}`);
      assert.equal(r.status, `+OK ${imapSizes[i]} octets`, `RETR ${i + 1}`);
      const expected = expectedBody(msg);
      assertBytes(r.body, expected, `RETR ${i + 1} body`);
      // The octets announced: the body without the CRLF added to a message lacking a final one.
      assert.equal(expectedSize(msg), imapSizes[i], `size of message ${i + 1}`);
    }
    await c.quit();
  });
});

describe('IMAP snapshot: 10,000 messages', () => {
  const COUNT = 10_000;
  let dovecot: DovecotInstance;
  let gw: TestGateway;
  const message = (i: number): string => taggedMessage(`bulk-${i}`, `Message number ${i} of the bulk test.\n`);
  let total = 0;
  before(async () => {
    dovecot = await startDovecot({ protocols: ['imap'] });
    const contents = Array.from({ length: COUNT }, (_, i) => message(i + 1));
    total = contents.reduce((n, m) => n + expectedSize(m), 0);
    putMessages(dovecot, contents);
    gw = await startImapGateway(dovecot.imapPort, { tenant: { commandTimeoutMs: 30_000 } });
  });
  after(async () => {
    await gw?.stop();
    await dovecot?.stop();
  });

  async function loginStatUidl(): Promise<{ c: Pop3TestClient; ms: number; stat: string; uidl: string[] }> {
    const started = Date.now();
    const c = await Pop3TestClient.connect(gw.port);
    await c.command('USER alice');
    const pass = await c.command('PASS alicepass', 30_000);
    assert.equal(pass, '+OK Logged in.');
    const stat = await c.command('STAT');
    const uidl = await c.lines('UIDL');
    assert.equal(uidl.status.startsWith('+OK'), true);
    return { c, ms: Date.now() - started, stat, uidl: uidl.lines };
  }

  it('STAT counts all of them, UIDL gives 10,000 unique lines, and login + UIDL takes well under 10 s', async () => {
    const { c, ms, stat, uidl } = await loginStatUidl();
    assert.equal(stat, `+OK ${COUNT} ${total}`);
    assert.equal(uidl.length, COUNT);
    const ids = uidl.map((l, i) => {
      const m = /^(\d+) ([\x21-\x7e]{1,70})$/.exec(l);
      assert.ok(m, `UIDL line ${JSON.stringify(l)}`);
      assert.equal(Number(m[1]), i + 1);
      return m[2];
    });
    assert.equal(new Set(ids).size, COUNT, 'UIDLs are unique');
    assert.ok(ms < 10_000, `login + STAT + UIDL took ${ms} ms (first login, Dovecot indexing included)`);
    // Numbering follows the folder order.
    for (const n of [1, 5000, COUNT]) assertBytes((await c.multiline(`RETR ${n}`)).body, expectedBody(message(n)), `RETR ${n}`);
    const list = await c.lines('LIST');
    assert.equal(list.lines.length, COUNT);
    assert.equal(list.lines[COUNT - 1], `${COUNT} ${expectedSize(message(COUNT))}`);
    await c.quit();
  });

  it('a second login (warm) is as complete and as fast, with the same UIDLs', async () => {
    const first = await loginStatUidl();
    await first.c.quit();
    const second = await loginStatUidl();
    assert.equal(second.stat, `+OK ${COUNT} ${total}`);
    assert.deepEqual(second.uidl, first.uidl);
    assert.ok(second.ms < 10_000, `login + STAT + UIDL took ${second.ms} ms`);
    await second.c.quit();
  });
});
