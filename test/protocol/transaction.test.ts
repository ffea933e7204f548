import assert from 'node:assert/strict';
import { existsSync, readFileSync, renameSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { addMessage, messageFiles, sampleMessage, toCrlf } from '../helpers/maildir.js';
import { Pop3TestClient, unstuff } from '../helpers/pop3-client.js';
import { expectedBody, expectedSize, filesIn, resetMaildir, stuffed, waitForNoSessions, writeNamed } from '../helpers/tx-util.js';

/** Limits for these tests: fast auth failures, and enough bad-command budget for the argument tests. */
const LIMITS = { authFailureDelayMs: 50, maxBadCommands: 1000 };

/** Tracks clients so a failing test cannot leave a session (and its lock) behind. */
function clientTracker() {
  const open: Pop3TestClient[] = [];
  return {
    async login(gw: TestGateway): Promise<Pop3TestClient> {
      const c = await Pop3TestClient.connect(gw.port);
      open.push(c);
      await c.login('alice', 'alicepass');
      return c;
    },
    async cleanup(gw: TestGateway): Promise<void> {
      for (const c of open.splice(0)) c.destroy();
      await waitForNoSessions(gw);
    },
  };
}

/** Retrieves message n, checks the status line and returns the wire bytes (still stuffed). */
async function retrRaw(c: Pop3TestClient, n: number, size: number): Promise<Buffer> {
  assert.equal(await c.command(`RETR ${n}`), `+OK ${size} octets`, `RETR ${n} status`);
  return c.readMultilineRaw();
}

/**
 * A message whose special spots fall exactly on the 64 KiB read-chunk boundaries of the Maildir
 * adapter: a line-leading dot as the first octet of a chunk, a CRLF split across two chunks, a
 * bare LF as the first octet of a chunk, a line-leading dot as the last octet of a chunk.
 */
function chunkBoundaryMessage(): Buffer {
  let s = 'From: big@example.com\nSubject: chunk boundaries\n\n';
  const padTo = (target: number): void => {
    let remaining = target - s.length;
    assert.ok(remaining >= 1, 'padTo went backwards');
    while (remaining > 100) {
      s += 'a'.repeat(99) + '\n';
      remaining -= 100;
    }
    s += 'b'.repeat(remaining - 1) + '\n';
  };
  const K = 65536;
  padTo(K);
  s += '.dot as first octet of the second chunk\n';
  padTo(2 * K - 1);
  s += '\r\n.dot after a CRLF split across chunks\n';
  padTo(3 * K);
  s += '\n.dot after a bare LF that starts a chunk\n';
  padTo(4 * K - 1);
  s += '.dot as last octet of a chunk\n';
  s += 'x'.repeat(5000) + '\n..two dots\nend without final newline';
  const buf = Buffer.from(s, 'latin1');
  assert.equal(buf[K], 0x2e);
  assert.equal(buf[2 * K - 1], 0x0d);
  assert.equal(buf[2 * K], 0x0a);
  assert.equal(buf[3 * K], 0x0a);
  assert.equal(buf[4 * K - 1], 0x2e);
  return buf;
}

describe('TRANSACTION state against the Maildir adapter', () => {
  let gw: TestGateway;
  let md: string;
  const clients = clientTracker();

  before(async () => {
    gw = await startTestGateway({ config: { limits: LIMITS } });
    md = gw.maildir('alice');
  });
  after(() => gw.stop());
  beforeEach(() => resetMaildir(md));
  afterEach(() => clients.cleanup(gw));

  describe('STAT, LIST and RETR: sizes and bytes', () => {
    const cases: { name: string; content: Buffer }[] = [
      { name: 'LF line ends', content: Buffer.from(sampleMessage(1)) },
      { name: 'CRLF line ends', content: Buffer.from('From: a@example.com\r\nSubject: crlf\r\n\r\nline one\r\nline two\r\n') },
      { name: 'mixed CRLF and LF', content: Buffer.from('Subject: mixed\r\n\nx\r\ny\n\n') },
      { name: 'no final newline', content: Buffer.from('Subject: nofinal\n\nlast line has no end') },
      { name: 'line-leading dots', content: Buffer.from('Subject: dots\n\n.\n..\n.hidden\nnormal . line\n. space\n') },
      {
        name: '8-bit and UTF-8',
        content: Buffer.concat([
          Buffer.from('Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\nContent-Transfer-Encoding: 8bit\n\nGrüße, 日本語, emoji 😀\n', 'utf8'),
          Buffer.from([0xe9, 0xff, 0x80, 0xfe, 0x0a]),
        ]),
      },
      { name: 'NUL octets', content: Buffer.from('Subject: nul\n\nbefore\0after\n\0\n', 'latin1') },
    ];

    it('announces in STAT, LIST, LIST n and RETR exactly the octets the client receives (with and without ,S=/,W=)', async () => {
      const added: { name: string; content: Buffer; sizeFields: boolean }[] = [];
      for (const sizeFields of [true, false]) {
        for (const k of cases) {
          addMessage(md, k.content, { sizeFields });
          added.push({ name: `${k.name} (sizeFields ${sizeFields})`, content: k.content, sizeFields });
        }
      }
      const sizes = added.map((a) => expectedSize(a.content));
      const c = await clients.login(gw);
      assert.equal(await c.command('STAT'), `+OK ${added.length} ${sizes.reduce((a, b) => a + b, 0)}`);
      const list = await c.lines('LIST');
      assert.match(list.status, /^\+OK/);
      assert.deepEqual(
        list.lines,
        sizes.map((s, i) => `${i + 1} ${s}`),
      );
      for (let i = 0; i < added.length; i++) {
        const a = added[i]!;
        const n = i + 1;
        assert.equal(await c.command(`LIST ${n}`), `+OK ${n} ${sizes[i]}`, `LIST ${n}: ${a.name}`);
        const raw = await retrRaw(c, n, sizes[i]!);
        const body = unstuff(raw);
        assert.deepEqual(body, expectedBody(a.content), `RETR ${n} body: ${a.name}`);
        assert.deepEqual(raw, stuffed(expectedBody(a.content)), `RETR ${n} wire bytes: ${a.name}`);
        // The announced size is the un-stuffed CRLF octets, minus a CRLF only the gateway added.
        const added2 = a.content.length > 0 && a.content[a.content.length - 1] !== 0x0a ? 2 : 0;
        assert.equal(body.length - added2, sizes[i], `size vs received octets: ${a.name}`);
      }
      assert.match(await c.quit(), /^\+OK/);
    });

    it('converts LF to CRLF and leaves CRLF, 8-bit octets and NUL octets unchanged', async () => {
      const lf = Buffer.from('Subject: lf\n\none\ntwo\n');
      const crlf = Buffer.from('Subject: crlf\r\n\r\none\r\ntwo\r\n');
      const eight = Buffer.concat([Buffer.from('Subject: 8bit\n\nÄÖÜ ß 日本\n', 'utf8'), Buffer.from([0x80, 0x81, 0xfe, 0xff, 0x0a])]);
      const nul = Buffer.from([...Buffer.from('Subject: nul\n\na'), 0x00, 0x62, 0x0a, 0x00, 0x0a]);
      for (const m of [lf, crlf, eight, nul]) addMessage(md, m);
      const c = await clients.login(gw);
      assert.deepEqual((await c.multiline('RETR 1')).body, Buffer.from('Subject: lf\r\n\r\none\r\ntwo\r\n'));
      assert.deepEqual((await c.multiline('RETR 2')).body, crlf);
      const r3 = await c.multiline('RETR 3');
      assert.deepEqual(r3.body, Buffer.concat([Buffer.from('Subject: 8bit\r\n\r\nÄÖÜ ß 日本\r\n', 'utf8'), Buffer.from([0x80, 0x81, 0xfe, 0xff, 0x0d, 0x0a])]));
      const r4 = await c.multiline('RETR 4');
      assert.equal(r4.status, `+OK ${nul.length + 4} octets`);
      assert.deepEqual(r4.body, Buffer.from([...Buffer.from('Subject: nul\r\n\r\na'), 0x00, 0x62, 0x0d, 0x0a, 0x00, 0x0d, 0x0a]));
      await c.quit();
    });

    it('dot-stuffs line-leading dots on the wire', async () => {
      addMessage(md, 'Subject: dots\n\n.\n..\n.hidden\nnormal . line\n. space\n');
      addMessage(md, '.Subject: starts with a dot\n\nbody\n.');
      const c = await clients.login(gw);
      assert.equal(await c.command('RETR 1'), `+OK ${expectedSize('Subject: dots\n\n.\n..\n.hidden\nnormal . line\n. space\n')} octets`);
      assert.equal((await c.readMultilineRaw()).toString('latin1'), 'Subject: dots\r\n\r\n..\r\n...\r\n..hidden\r\nnormal . line\r\n.. space\r\n');
      assert.equal(await c.command('RETR 2'), `+OK ${'.Subject: starts with a dot\r\n\r\nbody\r\n.'.length} octets`);
      // The final line "." (no line end) is stuffed, then a CRLF is added before the terminator.
      assert.equal((await c.readMultilineRaw()).toString('latin1'), '..Subject: starts with a dot\r\n\r\nbody\r\n..\r\n');
      await c.quit();
    });

    it('adds CRLF before the terminator for a message without a final newline, and does not count it', async () => {
      const m = 'Subject: nofinal\n\nlast line';
      addMessage(md, m);
      addMessage(md, m, { sizeFields: false });
      const c = await clients.login(gw);
      const size = 'Subject: nofinal\r\n\r\nlast line'.length;
      assert.equal(await c.command('STAT'), `+OK 2 ${2 * size}`);
      for (const n of [1, 2]) {
        assert.equal(await c.command(`LIST ${n}`), `+OK ${n} ${size}`);
        assert.equal(await c.command(`RETR ${n}`), `+OK ${size} octets`);
        assert.equal((await c.readMultilineRaw()).toString('latin1'), 'Subject: nofinal\r\n\r\nlast line\r\n');
      }
      await c.quit();
    });

    it('keeps announcing the same sizes in the next session after messages were retrieved', async () => {
      const contents = [
        Buffer.from('Subject: dots\n\n.\n..\n.x\n'),
        Buffer.from('Subject: crlf\r\n\r\n.a\r\nb\r\n'),
        Buffer.from('Subject: nofinal\n\n.last'),
        Buffer.from('Subject: nul\n\n\0.\n', 'latin1'),
      ];
      for (const m of contents) addMessage(md, m, { sizeFields: false });
      const sizes = contents.map((m) => expectedSize(m));
      const want = sizes.map((s, i) => `${i + 1} ${s}`);
      for (let session = 1; session <= 2; session++) {
        const c = await clients.login(gw);
        assert.deepEqual((await c.lines('LIST')).lines, want, `LIST in session ${session}`);
        for (let n = 1; n <= contents.length; n++) {
          const r = await c.multiline(`RETR ${n}`);
          assert.equal(r.status, `+OK ${sizes[n - 1]} octets`, `RETR ${n} in session ${session}`);
          assert.deepEqual(r.body, expectedBody(contents[n - 1]!));
          assert.equal(await c.command(`LIST ${n}`), `+OK ${want[n - 1]}`, `LIST ${n} after RETR in session ${session}`);
        }
        assert.equal(await c.command('STAT'), `+OK ${contents.length} ${sizes.reduce((a, b) => a + b, 0)}`);
        await c.quit();
      }
    });

    it('streams a message byte-exactly across the 64 KiB read-chunk boundaries (with and without size fields)', async () => {
      const big = chunkBoundaryMessage();
      addMessage(md, big);
      addMessage(md, big, { sizeFields: false });
      const c = await clients.login(gw);
      const size = expectedSize(big);
      assert.equal(await c.command('LIST 1'), `+OK 1 ${size}`);
      assert.equal(await c.command('LIST 2'), `+OK 2 ${size}`);
      for (const n of [1, 2]) {
        const raw = await retrRaw(c, n, size);
        assert.ok(raw.equals(stuffed(expectedBody(big))), `RETR ${n} differs from the expected wire bytes`);
      }
      const top = await c.multiline('TOP 2 99999999');
      assert.ok(top.body.equals(expectedBody(big)), 'TOP 2 99999999 differs from the whole message');
      await c.quit();
    });
  });

  describe('TOP', () => {
    const msg = 'From: a@example.com\nSubject: top\n\nl1\nl2\n.l3\nl4\n';

    it('TOP n 0 gives the header and the blank line, TOP n 2 two body lines, TOP n 99999999 all of it', async () => {
      addMessage(md, msg);
      addMessage(md, 'From: b@example.com\r\nSubject: crlf top\r\n\r\nc1\r\nc2\r\nc3\r\n');
      addMessage(md, 'Subject: short\n\nonly line without end', { sizeFields: false });
      const c = await clients.login(gw);
      const t0 = await c.multiline('TOP 1 0');
      assert.match(t0.status, /^\+OK/);
      assert.equal(t0.body.toString('latin1'), 'From: a@example.com\r\nSubject: top\r\n\r\n');
      assert.equal((await c.multiline('TOP 1 2')).body.toString('latin1'), 'From: a@example.com\r\nSubject: top\r\n\r\nl1\r\nl2\r\n');
      assert.equal(await c.command('TOP 1 3'), '+OK Top of message follows.');
      assert.equal((await c.readMultilineRaw()).toString('latin1'), 'From: a@example.com\r\nSubject: top\r\n\r\nl1\r\nl2\r\n..l3\r\n');
      assert.deepEqual((await c.multiline('TOP 1 99999999')).body, toCrlf(msg));
      assert.deepEqual((await c.multiline('TOP 1 4')).body, toCrlf(msg));
      assert.equal((await c.multiline('TOP 2 0')).body.toString('latin1'), 'From: b@example.com\r\nSubject: crlf top\r\n\r\n');
      assert.equal((await c.multiline('TOP 2 1')).body.toString('latin1'), 'From: b@example.com\r\nSubject: crlf top\r\n\r\nc1\r\n');
      assert.equal((await c.multiline('TOP 3 5')).body.toString('latin1'), 'Subject: short\r\n\r\nonly line without end\r\n');
      // TOP does not disturb later full retrievals.
      assert.deepEqual((await c.multiline('RETR 1')).body, toCrlf(msg));
      await c.quit();
    });

    it('answers -ERR to bad TOP arguments and the session goes on', async () => {
      addMessage(md, msg);
      const c = await clients.login(gw);
      for (const bad of ['TOP', 'TOP 1', 'TOP 1 x', 'TOP 1 -1', 'TOP x 1', 'TOP 0 1', 'TOP 99 1', 'TOP 1 2 3', 'TOP 1 1.5', 'TOP -1 0']) {
        assert.match(await c.command(bad), /^-ERR /, bad);
      }
      assert.equal(await c.command('NOOP'), '+OK');
      assert.equal((await c.multiline('TOP 1 0')).body.toString('latin1'), 'From: a@example.com\r\nSubject: top\r\n\r\n');
      await c.quit();
    });
  });

  describe('UIDL', () => {
    it('gives stable, unique, printable ids of 1-70 characters; odd names get a hashed "~" id', async () => {
      addMessage(md, sampleMessage(1));
      addMessage(md, sampleMessage(2), { sub: 'cur', flags: 'S' });
      addMessage(md, sampleMessage(3), { sizeFields: false });
      const odd = [
        `1700000500.${'x'.repeat(100)}.host`,
        '1700000501.M1P1.odd host name',
        '1700000502.M2P2.hôst',
        '1700000503.M3P3.tab\there',
        '~1700000504.tilde',
      ];
      for (const name of odd) writeNamed(md, 'new', name, sampleMessage(9));
      writeNamed(md, 'cur', `1700000505.${'y'.repeat(80)},S=10:2,S`, sampleMessage(10));
      const count = 3 + odd.length + 1;

      const c1 = await clients.login(gw);
      const l1 = await c1.lines('UIDL');
      assert.match(l1.status, /^\+OK/);
      assert.equal(l1.lines.length, count);
      const ids = l1.lines.map((line, i) => {
        const m = /^(\d+) (.*)$/.exec(line);
        assert.ok(m, `bad UIDL line ${JSON.stringify(line)}`);
        assert.equal(Number(m[1]), i + 1);
        return m[2] as string;
      });
      for (const id of ids) assert.match(id, /^[\x21-\x7e]{1,70}$/, `UIDL ${JSON.stringify(id)} is not 1-70 printable characters`);
      assert.equal(new Set(ids).size, ids.length, 'UIDLs are not unique');
      for (let n = 1; n <= count; n++) assert.equal(await c1.command(`UIDL ${n}`), `+OK ${n} ${ids[n - 1]}`);
      const hashed = ids.filter((id) => id.startsWith('~'));
      assert.equal(hashed.length, odd.length + 1, `expected ${odd.length + 1} hashed ids, got ${JSON.stringify(ids)}`);
      for (const id of hashed) assert.match(id, /^~[A-Za-z0-9_-]{43}$/);
      await c1.quit();

      // Second session: same ids for the same messages, even after a client moved one to cur/.
      const moved = filesIn(md, 'new').find((f) => f.includes('odd host name')) as string;
      renameSync(join(md, 'new', moved), join(md, 'cur', `${moved}:2,S`));
      const c2 = await clients.login(gw);
      const l2 = await c2.lines('UIDL');
      assert.deepEqual([...l2.lines].sort(), [...l1.lines].sort());
      assert.deepEqual(l2.lines, l1.lines);
      await c2.quit();
    });
  });

  describe('DELE, RSET and QUIT', () => {
    it('DELE marks a message: LIST/STAT/RETR/TOP/UIDL of it -> -ERR, DELE twice -> -ERR; RSET unmarks', async () => {
      const bodies = [1, 2, 3].map((i) => sampleMessage(i));
      for (const b of bodies) addMessage(md, b);
      const sizes = bodies.map((b) => expectedSize(b));
      const c = await clients.login(gw);
      assert.match(await c.command('DELE 2'), /^\+OK/);
      assert.equal(await c.command('STAT'), `+OK 2 ${sizes[0]! + sizes[2]!}`);
      assert.deepEqual((await c.lines('LIST')).lines, [`1 ${sizes[0]}`, `3 ${sizes[2]}`]);
      assert.match(await c.command('LIST 2'), /^-ERR /);
      assert.match(await c.command('RETR 2'), /^-ERR /);
      assert.match(await c.command('TOP 2 0'), /^-ERR /);
      assert.match(await c.command('UIDL 2'), /^-ERR /);
      assert.equal((await c.lines('UIDL')).lines.length, 2);
      assert.match(await c.command('DELE 2'), /^-ERR /);
      assert.equal(await c.command('NOOP'), '+OK');
      assert.match(await c.command('RSET'), /^\+OK/);
      assert.equal(await c.command('STAT'), `+OK 3 ${sizes.reduce((a, b) => a + b, 0)}`);
      assert.equal(await c.command('LIST 2'), `+OK 2 ${sizes[1]}`);
      assert.deepEqual((await c.multiline('RETR 2')).body, toCrlf(bodies[1]!));
      assert.match(await c.command('DELE 2'), /^\+OK/);
      assert.match(await c.command('RSET'), /^\+OK/);
      assert.equal(await c.command('QUIT'), '+OK Logging out.');
      await c.closed();
      assert.equal(messageFiles(md).length, 3, 'RSET should have unmarked every message');
    });

    it('QUIT deletes exactly the marked files', async () => {
      const names = [1, 2, 3, 4, 5].map((i) => addMessage(md, sampleMessage(i), { sizeFields: i % 2 === 0 }));
      names.push(addMessage(md, sampleMessage(6), { sub: 'cur', flags: 'S' }));
      const c = await clients.login(gw);
      const uidls = (await c.lines('UIDL')).lines;
      for (const n of [2, 4, 6]) assert.match(await c.command(`DELE ${n}`), /^\+OK/);
      const q = await c.quit();
      assert.match(q, /^\+OK/);
      assert.deepEqual(messageFiles(md), [`new/${names[0]}`, `new/${names[2]}`, `new/${names[4]}`].sort());
      const c2 = await clients.login(gw);
      assert.equal(await c2.command('STAT'), `+OK 3 ${[1, 3, 5].map((i) => expectedSize(sampleMessage(i))).reduce((a, b) => a + b, 0)}`);
      assert.deepEqual(
        (await c2.lines('UIDL')).lines.map((l) => l.split(' ')[1]),
        [uidls[0], uidls[2], uidls[4]].map((l) => l!.split(' ')[1]),
      );
      await c2.quit();
    });

    it('QUIT with nothing marked deletes nothing', async () => {
      for (let i = 1; i <= 3; i++) addMessage(md, sampleMessage(i));
      const before = messageFiles(md);
      const c = await clients.login(gw);
      await c.multiline('RETR 1');
      assert.equal(await c.quit(), '+OK Logging out.');
      assert.deepEqual(messageFiles(md), before);
    });

    it('a dropped connection after DELE deletes nothing', async () => {
      for (let i = 1; i <= 3; i++) addMessage(md, sampleMessage(i));
      const before = messageFiles(md);
      const c = await clients.login(gw);
      assert.match(await c.command('DELE 1'), /^\+OK/);
      assert.match(await c.command('DELE 3'), /^\+OK/);
      c.destroy();
      await waitForNoSessions(gw);
      assert.deepEqual(messageFiles(md), before);
      const c2 = await clients.login(gw);
      assert.match(await c2.command('STAT'), /^\+OK 3 /);
      await c2.quit();
    });
  });

  describe('LAST and NOOP', () => {
    it('LAST is the highest message number retrieved; RSET sets it back to 0', async () => {
      for (let i = 1; i <= 4; i++) addMessage(md, sampleMessage(i));
      const c = await clients.login(gw);
      assert.equal(await c.command('LAST'), '+OK 0');
      await c.multiline('RETR 2');
      assert.equal(await c.command('LAST'), '+OK 2');
      await c.multiline('RETR 1');
      assert.equal(await c.command('LAST'), '+OK 2');
      await c.multiline('RETR 3');
      assert.equal(await c.command('LAST'), '+OK 3');
      assert.match(await c.command('RSET'), /^\+OK/);
      assert.equal(await c.command('LAST'), '+OK 0');
      await c.multiline('RETR 1');
      assert.equal(await c.command('LAST'), '+OK 1');
      await c.quit();
    });

    it('NOOP answers +OK', async () => {
      addMessage(md, sampleMessage(1));
      const c = await clients.login(gw);
      assert.equal(await c.command('NOOP'), '+OK');
      assert.equal(await c.command('NOOP'), '+OK');
      assert.match(await c.command('STAT'), /^\+OK 1 /);
      await c.quit();
    });
  });

  describe('message-number arguments', () => {
    it('0, -1, 99, abc and 1.5 give -ERR for RETR/LIST/DELE/UIDL/TOP, mark nothing, and the session goes on', async () => {
      for (let i = 1; i <= 3; i++) addMessage(md, sampleMessage(i));
      const before = messageFiles(md);
      const c = await clients.login(gw);
      const stat = await c.command('STAT');
      for (const arg of ['0', '-1', '99', 'abc', '1.5', '4', '+1', '1e0', '0x1']) {
        for (const cmd of [`RETR ${arg}`, `LIST ${arg}`, `DELE ${arg}`, `UIDL ${arg}`, `TOP ${arg} 0`]) {
          assert.match(await c.command(cmd), /^-ERR /, cmd);
        }
      }
      assert.equal(await c.command('NOOP'), '+OK');
      assert.equal(await c.command('STAT'), stat);
      assert.deepEqual((await c.multiline('RETR 3')).body, toCrlf(sampleMessage(3)));
      assert.equal(await c.quit(), '+OK Logging out.');
      assert.deepEqual(messageFiles(md), before);
    });
  });

  describe('the Maildir snapshot', () => {
    it('lists messages in cur/ with flags as well as new/', async () => {
      const contents = [sampleMessage(1), sampleMessage(2), sampleMessage(3), sampleMessage(4)];
      addMessage(md, contents[0]!);
      addMessage(md, contents[1]!, { sub: 'cur', flags: 'S' });
      addMessage(md, contents[2]!, { sub: 'cur', flags: 'RS', sizeFields: false });
      addMessage(md, contents[3]!, { sub: 'cur' });
      const c = await clients.login(gw);
      assert.equal(await c.command('STAT'), `+OK 4 ${contents.map((m) => expectedSize(m)).reduce((a, b) => a + b, 0)}`);
      for (let n = 1; n <= 4; n++) assert.deepEqual((await c.multiline(`RETR ${n}`)).body, toCrlf(contents[n - 1]!));
      await c.quit();
    });

    it('does not show mail delivered after login until the next login', async () => {
      addMessage(md, sampleMessage(1));
      const c = await clients.login(gw);
      const stat = await c.command('STAT');
      addMessage(md, sampleMessage(2));
      addMessage(md, sampleMessage(3), { sub: 'cur', flags: 'S' });
      assert.equal(await c.command('STAT'), stat);
      assert.equal((await c.lines('LIST')).lines.length, 1);
      assert.equal((await c.lines('UIDL')).lines.length, 1);
      assert.match(await c.command('RETR 2'), /^-ERR /);
      assert.match(await c.command('LIST 2'), /^-ERR /);
      assert.equal(await c.quit(), '+OK Logging out.');
      const c2 = await clients.login(gw);
      assert.match(await c2.command('STAT'), /^\+OK 3 /);
      await c2.quit();
    });

    it('a message file removed after login gives -ERR for that message only', async () => {
      const names = [1, 2, 3].map((i) => addMessage(md, sampleMessage(i)));
      const c = await clients.login(gw);
      unlinkSync(join(md, 'new', names[1]!));
      assert.match(await c.command('RETR 2'), /^-ERR /);
      assert.match(await c.command('TOP 2 0'), /^-ERR /);
      assert.equal(await c.command('NOOP'), '+OK');
      assert.deepEqual((await c.multiline('RETR 1')).body, toCrlf(sampleMessage(1)));
      assert.deepEqual((await c.multiline('RETR 3')).body, toCrlf(sampleMessage(3)));
      assert.match(await c.command('DELE 1'), /^\+OK/);
      assert.match(await c.quit(), /^\+OK/);
      assert.deepEqual(messageFiles(md), [`new/${names[2]}`]);
    });

    it('a file moved from new/ to cur/ (":2,S") after login can still be retrieved and deleted', async () => {
      const names = [1, 2].map((i) => addMessage(md, sampleMessage(i), { sizeFields: i === 1 }));
      const c = await clients.login(gw);
      renameSync(join(md, 'new', names[0]!), join(md, 'cur', `${names[0]}:2,S`));
      renameSync(join(md, 'new', names[1]!), join(md, 'cur', `${names[1]}:2,S`));
      const r1 = await c.multiline('RETR 1');
      assert.equal(r1.status, `+OK ${expectedSize(sampleMessage(1))} octets`);
      assert.deepEqual(r1.body, toCrlf(sampleMessage(1)));
      assert.deepEqual((await c.multiline('RETR 2')).body, toCrlf(sampleMessage(2)));
      assert.equal((await c.multiline('TOP 2 0')).body.toString('latin1'), toCrlf(sampleMessage(2)).toString('latin1').split('\r\n\r\n')[0] + '\r\n\r\n');
      assert.match(await c.command('DELE 1'), /^\+OK/);
      assert.match(await c.quit(), /^\+OK/);
      assert.deepEqual(messageFiles(md), [`cur/${names[1]}:2,S`]);
    });
  });
});

describe('tenant setting deleteMode: move:.Trash', () => {
  let gw: TestGateway;
  const clients = clientTracker();
  before(async () => {
    gw = await startTestGateway({ config: { limits: LIMITS }, tenant: { deleteMode: 'move:.Trash' } });
  });
  after(() => gw.stop());
  afterEach(() => clients.cleanup(gw));

  it('moves deleted messages to <maildir>/.Trash/cur/ instead of unlinking them', async () => {
    const md = gw.maildir('alice');
    const n1 = addMessage(md, sampleMessage(1));
    const n2 = addMessage(md, sampleMessage(2));
    const n3 = addMessage(md, sampleMessage(3), { sub: 'cur', flags: 'S' });
    const c = await clients.login(gw);
    assert.match(await c.command('DELE 1'), /^\+OK/);
    assert.match(await c.command('DELE 3'), /^\+OK/);
    assert.match(await c.quit(), /^\+OK/);
    assert.deepEqual(messageFiles(md), [`new/${n2}`]);
    const trash = join(md, '.Trash', 'cur');
    assert.deepEqual(filesIn(md, '.Trash/cur'), [n1, n3].sort());
    assert.equal(readFileSync(join(trash, n1), 'utf8'), sampleMessage(1));
    assert.equal(readFileSync(join(trash, n3), 'utf8'), sampleMessage(3));
    assert.ok(existsSync(join(md, '.Trash', 'new')) && existsSync(join(md, '.Trash', 'tmp')), '.Trash should be a Maildir');
    const c2 = await clients.login(gw);
    assert.equal(await c2.command('STAT'), `+OK 1 ${expectedSize(sampleMessage(2))}`);
    await c2.quit();
  });
});

describe('workarounds: outlook-no-nuls', () => {
  let gw: TestGateway;
  const clients = clientTracker();
  before(async () => {
    gw = await startTestGateway({ config: { limits: LIMITS, workarounds: ['outlook-no-nuls'] } });
  });
  after(() => gw.stop());
  afterEach(() => clients.cleanup(gw));

  it('sends NUL octets as 0x80 with the same size', async () => {
    const md = gw.maildir('alice');
    const content = Buffer.from('Subject: nul\n\nbefore\0after\n\0\0\n', 'latin1');
    addMessage(md, content);
    addMessage(md, content, { sizeFields: false });
    const c = await clients.login(gw);
    const size = expectedSize(content);
    const want = Buffer.from('Subject: nul\r\n\r\nbefore\x80after\r\n\x80\x80\r\n', 'latin1');
    assert.equal(want.length, size);
    for (const n of [1, 2]) {
      assert.equal(await c.command(`LIST ${n}`), `+OK ${n} ${size}`);
      const r = await c.multiline(`RETR ${n}`);
      assert.equal(r.status, `+OK ${size} octets`);
      assert.deepEqual(r.body, want);
    }
    assert.deepEqual((await c.multiline('TOP 1 1')).body, Buffer.from('Subject: nul\r\n\r\nbefore\x80after\r\n', 'latin1'));
    await c.quit();
  });
});
