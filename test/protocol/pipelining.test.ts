import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { addMessage, sampleMessage } from '../helpers/maildir.js';
import { Pop3TestClient } from '../helpers/pop3-client.js';
import { expectedBody, expectedSize, resetMaildir, serverSockets, sleep, stuffed, waitForNoSessions } from '../helpers/tx-util.js';

/** A deterministic ~`size`-octet message with LF line ends, line-leading dots and 8-bit text. */
function bigMessage(seed: number, size: number): Buffer {
  let x = Math.imul(seed, 2654435761) >>> 0;
  const rnd = (n: number): number => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return (x >>> 8) % n;
  };
  const parts: string[] = [`From: big${seed}@example.com\nSubject: big message ${seed}\nMessage-ID: <big${seed}@example.com>\n\n`];
  let len = parts[0]!.length;
  while (len < size) {
    const kind = rnd(10);
    let line: string;
    if (kind === 0) line = '.' + 'd'.repeat(rnd(80));
    else if (kind === 1) line = '';
    else if (kind === 2) line = '..';
    else if (kind === 3) line = 'Grüße ' + 'ü'.repeat(rnd(30));
    else line = String.fromCharCode(97 + rnd(26)).repeat(1 + rnd(200));
    parts.push(line + '\n');
    len += Buffer.byteLength(line) + 1;
  }
  parts.push('.');
  return Buffer.from(parts.join(''), 'utf8');
}

describe('pipelined commands', () => {
  let gw: TestGateway;
  const open: Pop3TestClient[] = [];
  const connect = async (): Promise<Pop3TestClient> => {
    const c = await Pop3TestClient.connect(gw.port);
    open.push(c);
    return c;
  };
  before(async () => {
    gw = await startTestGateway();
  });
  after(() => gw.stop());
  afterEach(async () => {
    for (const c of open.splice(0)) c.destroy();
    await waitForNoSessions(gw);
    resetMaildir(gw.maildir('alice'));
  });

  it('answers USER, PASS, STAT, LIST, UIDL, RETR 1..20, TOP, NOOP, QUIT sent in one write, complete and in order', async () => {
    const md = gw.maildir('alice');
    const contents: Buffer[] = [];
    for (let i = 1; i <= 20; i++) {
      let m: string;
      if (i % 5 === 0) m = `Subject: ${i}\n\n.dots ${i}\n.\n..\nend`;
      else if (i % 5 === 1) m = `Subject: ${i}\r\n\r\ncrlf body ${i}\r\n.\r\n`;
      else m = sampleMessage(i, `Body ${i}\n`.repeat(i * 50));
      contents.push(Buffer.from(m));
      addMessage(md, m, { sizeFields: i % 2 === 0 });
    }
    const sizes = contents.map((m) => expectedSize(m));
    const c = await connect();
    const cmds = ['USER alice', 'PASS alicepass', 'STAT', 'LIST', 'UIDL'];
    for (let i = 1; i <= 20; i++) cmds.push(`RETR ${i}`);
    cmds.push('TOP 1 0', 'NOOP', 'QUIT');
    c.send(cmds.map((l) => l + '\r\n').join(''));

    assert.equal(await c.readLine(), '+OK');
    assert.match(await c.readLine(), /^\+OK/);
    assert.equal(await c.readLine(), `+OK 20 ${sizes.reduce((a, b) => a + b, 0)}`);
    assert.match(await c.readLine(), /^\+OK/);
    assert.deepEqual(
      (await c.readMultiline())
        .toString()
        .split('\r\n')
        .filter((l) => l !== ''),
      sizes.map((s, i) => `${i + 1} ${s}`),
    );
    assert.match(await c.readLine(), /^\+OK/);
    const uidls = (await c.readMultiline())
      .toString()
      .split('\r\n')
      .filter((l) => l !== '');
    assert.equal(uidls.length, 20);
    uidls.forEach((l, i) => assert.match(l, new RegExp(`^${i + 1} [\\x21-\\x7e]{1,70}$`)));
    for (let i = 1; i <= 20; i++) {
      assert.equal(await c.readLine(), `+OK ${sizes[i - 1]} octets`, `RETR ${i} status`);
      const raw = await c.readMultilineRaw();
      assert.ok(raw.equals(stuffed(expectedBody(contents[i - 1]!))), `RETR ${i} body`);
    }
    assert.equal(await c.readLine(), '+OK Top of message follows.');
    assert.equal((await c.readMultiline()).toString(), 'Subject: 1\r\n\r\n');
    assert.equal(await c.readLine(), '+OK');
    assert.equal(await c.readLine(), '+OK Logging out.');
    assert.equal(await c.closed(), '', 'nothing may follow the QUIT answer');
  });

  it('answers a burst of 500 short commands after login in order', async () => {
    const md = gw.maildir('alice');
    for (let i = 1; i <= 5; i++) addMessage(md, sampleMessage(i, 'x\n'.repeat(i)));
    const c = await connect();
    await c.login('alice', 'alicepass');
    const uidl = (await c.lines('UIDL')).lines.map((l) => l.split(' ')[1] as string);
    const sizes = [1, 2, 3, 4, 5].map((i) => expectedSize(sampleMessage(i, 'x\n'.repeat(i))));
    const total = sizes.reduce((a, b) => a + b, 0);
    const cmds: string[] = [];
    const want: string[] = [];
    for (let i = 0; i < 500; i++) {
      const k = (i % 5) + 1;
      switch (i % 6) {
        case 0:
        case 1:
          cmds.push('NOOP');
          want.push('+OK');
          break;
        case 2:
          cmds.push(`LIST ${k}`);
          want.push(`+OK ${k} ${sizes[k - 1]}`);
          break;
        case 3:
          cmds.push(`UIDL ${k}`);
          want.push(`+OK ${k} ${uidl[k - 1]}`);
          break;
        case 4:
          cmds.push('STAT');
          want.push(`+OK 5 ${total}`);
          break;
        default:
          cmds.push('LAST');
          want.push('+OK 0');
      }
    }
    c.send(cmds.map((l) => l + '\r\n').join(''));
    for (let i = 0; i < 500; i++) assert.equal(await c.readLine(), want[i], `answer ${i + 1} (${cmds[i]})`);
    await sleep(50);
    assert.equal(c.unread, '');
    assert.equal(await c.command('NOOP'), '+OK');
    await c.quit();
  });

  it('delivers pipelined RETRs of several 1 MB messages byte-exactly to a client that stops reading for a while', async () => {
    const md = gw.maildir('alice');
    const N = 8;
    const messages: Buffer[] = [];
    for (let i = 1; i <= N; i++) {
      const m = bigMessage(i, 1024 * 1024);
      messages.push(m);
      addMessage(md, m, { sizeFields: i % 2 === 1 });
    }
    const c = await connect();
    await c.login('alice', 'alicepass');
    const cmds: string[] = [];
    for (let i = 1; i <= N; i++) cmds.push(`RETR ${i}`);
    cmds.push('RETR 1', 'NOOP');
    c.socket.pause();
    c.send(cmds.map((l) => l + '\r\n').join(''));
    // While the client does not read, the server must stop writing instead of queueing everything.
    let maxQueued = 0;
    for (let t = 0; t < 30; t++) {
      await sleep(50);
      for (const s of serverSockets(gw)) maxQueued = Math.max(maxQueued, s.writableLength);
    }
    assert.equal(c.isEnded, false);
    assert.ok(maxQueued < 1024 * 1024, `server queued ${maxQueued} octets for a client that is not reading`);
    c.socket.resume();
    const order = [...Array.from({ length: N }, (_, i) => i + 1), 1];
    for (const n of order) {
      const m = messages[n - 1]!;
      assert.equal(await c.readLine(), `+OK ${expectedSize(m)} octets`, `RETR ${n} status`);
      const raw = await c.readMultilineRaw(20_000);
      assert.ok(raw.equals(stuffed(expectedBody(m))), `RETR ${n}: body differs (got ${raw.length} octets, want ${stuffed(expectedBody(m)).length})`);
    }
    assert.equal(await c.readLine(), '+OK');
    await c.quit();
  });
});
