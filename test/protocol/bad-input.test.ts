import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { addMessage, messageFiles, sampleMessage, toCrlf } from '../helpers/maildir.js';
import { Pop3TestClient } from '../helpers/pop3-client.js';
import { sleep, waitForNoSessions } from '../helpers/tx-util.js';

function tracker() {
  const open: Pop3TestClient[] = [];
  return {
    async connect(gw: TestGateway): Promise<Pop3TestClient> {
      const c = await Pop3TestClient.connect(gw.port);
      open.push(c);
      return c;
    },
    async login(gw: TestGateway): Promise<Pop3TestClient> {
      const c = await this.connect(gw);
      await c.login('alice', 'alicepass');
      return c;
    },
    async cleanup(gw: TestGateway): Promise<void> {
      for (const c of open.splice(0)) c.destroy();
      await waitForNoSessions(gw);
    },
  };
}

describe('bad and unusual client input', () => {
  let gw: TestGateway;
  const clients = tracker();
  before(async () => {
    gw = await startTestGateway();
    for (let i = 1; i <= 3; i++) addMessage(gw.maildir('alice'), sampleMessage(i));
  });
  after(() => gw.stop());
  afterEach(() => clients.cleanup(gw));

  it('accepts command names in any case', async () => {
    const c = await clients.connect(gw);
    assert.equal(await c.command('user alice'), '+OK');
    assert.match(await c.command('pAsS alicepass'), /^\+OK/);
    assert.match(await c.command('stat'), /^\+OK 3 \d+$/);
    const r = await c.multiline('Retr 1');
    assert.match(r.status, /^\+OK \d+ octets$/);
    assert.deepEqual(r.body, toCrlf(sampleMessage(1)));
    assert.match(await c.command('list 2'), /^\+OK 2 \d+$/);
    assert.match(await c.command('uIdL 2'), /^\+OK 2 \S+$/);
    assert.equal(await c.command('nOoP'), '+OK');
    assert.equal(await c.command('quit'), '+OK Logging out.');
  });

  it('tolerates extra spaces between and around arguments', async () => {
    const c = await clients.connect(gw);
    assert.equal(await c.command('  USER alice'), '+OK');
    assert.match(await c.command('PASS alicepass'), /^\+OK/);
    const size = toCrlf(sampleMessage(1)).length;
    for (const line of ['RETR  1', 'RETR 1 ', '  RETR 1', 'RETR   1   ', '\tRETR\t1']) {
      const r = await c.multiline(line);
      assert.equal(r.status, `+OK ${size} octets`, JSON.stringify(line));
      assert.deepEqual(r.body, toCrlf(sampleMessage(1)), JSON.stringify(line));
    }
    assert.equal(await c.command('LIST  2 '), `+OK 2 ${toCrlf(sampleMessage(2)).length}`);
    assert.equal(await c.command('TOP  1   0 ').then((s) => s.slice(0, 3)), '+OK');
    await c.readMultiline();
    assert.equal(await c.command(' NOOP '), '+OK');
    await c.quit();
  });

  it('answers a 300-octet line with -ERR and goes on', async () => {
    const c = await clients.login(gw);
    const line = 'NOOP ' + 'x'.repeat(293);
    assert.equal(Buffer.byteLength(line + '\r\n'), 300);
    assert.match(await c.command(line), /^-ERR /);
    assert.equal(await c.command('NOOP'), '+OK');
    assert.match(await c.command('STAT'), /^\+OK 3 /);
    await c.quit();
  });

  it('accepts a command line of exactly 255 octets including CRLF', async () => {
    const c = await clients.connect(gw);
    const line = 'USER ' + 'a'.repeat(248);
    assert.equal(Buffer.byteLength(line + '\r\n'), 255);
    assert.equal(await c.command(line), '+OK');
    await c.quit();
  });

  it('answers a 100 KB line sent in pieces without LF, then LF, with exactly one -ERR and goes on', async () => {
    const c = await clients.login(gw);
    const stat = await c.command('STAT');
    const piece = Buffer.alloc(10 * 1024, 'A');
    for (let i = 0; i < 10; i++) {
      c.send(piece);
      await sleep(10);
    }
    await sleep(100);
    assert.equal(c.unread, '', 'nothing should be answered before the line ends');
    // The end of the over-long line looks like a command; it is still part of the bad line.
    c.send(' DELE 1');
    await sleep(50);
    c.send('\r\nNOOP\r\n');
    assert.match(await c.readLine(), /^-ERR /);
    assert.equal(await c.readLine(), '+OK');
    assert.equal(await c.command('NOOP'), '+OK');
    assert.equal(await c.command('STAT'), stat, 'the tail of the over-long line was run as a command');
    await sleep(50);
    assert.equal(c.unread, '');
    await c.quit();
  });

  it('answers a 100 KB line arriving in one write together with the next command with exactly one -ERR', async () => {
    const c = await clients.login(gw);
    c.send(Buffer.concat([Buffer.alloc(100 * 1024, 'B'), Buffer.from('\r\nNOOP\r\nSTAT\r\n')]));
    assert.match(await c.readLine(), /^-ERR /);
    assert.equal(await c.readLine(), '+OK');
    assert.match(await c.readLine(), /^\+OK 3 /);
    await sleep(50);
    assert.equal(c.unread, '');
    await c.quit();
  });

  it('answers an unknown command with -ERR', async () => {
    const c = await clients.connect(gw);
    assert.match(await c.command('XYZZY'), /^-ERR /);
    assert.match(await c.command('RETRX 1'), /^-ERR /);
    await c.login('alice', 'alicepass');
    assert.match(await c.command('FROB 1 2'), /^-ERR /);
    assert.equal(await c.command('NOOP'), '+OK');
    await c.quit();
  });

  it('answers commands in the wrong state with -ERR (STAT before login, USER/PASS after login)', async () => {
    const c = await clients.connect(gw);
    // Six errors here plus two below stay under the default maxBadCommands (10).
    for (const cmd of ['STAT', 'LIST', 'RETR 1', 'DELE 1', 'NOOP', 'TOP 1 0']) {
      assert.match(await c.command(cmd), /^-ERR /, `${cmd} before login`);
    }
    await c.login('alice', 'alicepass');
    assert.match(await c.command('USER alice'), /^-ERR /);
    assert.match(await c.command('PASS alicepass'), /^-ERR /);
    assert.equal(await c.command('NOOP'), '+OK');
    assert.match(await c.command('STAT'), /^\+OK 3 /);
    await c.quit();
  });

  it('answers a NUL octet in a command with -ERR', async () => {
    const c = await clients.connect(gw);
    c.send(Buffer.from('USER al\0ice\r\n', 'latin1'));
    assert.match(await c.readLine(), /^-ERR /);
    await c.login('alice', 'alicepass');
    c.send(Buffer.from('NO\0OP\r\nSTAT\0\r\nRETR 1\0\r\n', 'latin1'));
    assert.match(await c.readLine(), /^-ERR /);
    assert.match(await c.readLine(), /^-ERR /);
    assert.match(await c.readLine(), /^-ERR /);
    assert.equal(await c.command('NOOP'), '+OK');
    await c.quit();
  });

  it('answers invalid UTF-8 in a command with -ERR', async () => {
    const c = await clients.connect(gw);
    c.send(Buffer.concat([Buffer.from('USER '), Buffer.from([0xff, 0xfe]), Buffer.from('\r\n')]));
    assert.match(await c.readLine(), /^-ERR /);
    await c.login('alice', 'alicepass');
    c.send(Buffer.from([0xff, 0xfe, 0x0d, 0x0a]));
    assert.match(await c.readLine(), /^-ERR /);
    c.send(Buffer.concat([Buffer.from('RETR 1'), Buffer.from([0xc3]), Buffer.from('\r\n')]));
    assert.match(await c.readLine(), /^-ERR /);
    assert.equal(await c.command('NOOP'), '+OK');
    await c.quit();
  });

  it('answers an empty line (or only blanks) with -ERR', async () => {
    const c = await clients.connect(gw);
    assert.match(await c.command(''), /^-ERR /);
    assert.match(await c.command('   '), /^-ERR /);
    await c.login('alice', 'alicepass');
    assert.match(await c.command(''), /^-ERR /);
    assert.equal(await c.command('NOOP'), '+OK');
    await c.quit();
  });

  it('accepts bare LF line ends from the client', async () => {
    const c = await clients.connect(gw);
    c.send('USER alice\nPASS alicepass\nSTAT\nLIST 1\n');
    assert.equal(await c.readLine(), '+OK');
    assert.match(await c.readLine(), /^\+OK/);
    assert.match(await c.readLine(), /^\+OK 3 \d+$/);
    assert.equal(await c.readLine(), `+OK 1 ${toCrlf(sampleMessage(1)).length}`);
    c.send('RETR 2\n');
    assert.match(await c.readLine(), /^\+OK \d+ octets$/);
    assert.deepEqual(await c.readMultiline(), toCrlf(sampleMessage(2)));
    c.send('QUIT\n');
    assert.equal(await c.readLine(), '+OK Logging out.');
    await c.closed();
  });

  it('never echoes what the client sent in a bad command', async () => {
    const c = await clients.connect(gw);
    assert.match(await c.command('XYZZY <script>marker123'), /^-ERR /);
    assert.match(await c.command('STAT <b>marker124'), /^-ERR /);
    await c.login('alice', 'alicepass');
    const replies: string[] = [];
    for (const cmd of ['XYZZY <script>marker123', 'marker125', 'RETR marker126', 'TOP 1 marker127', 'LIST 1 marker128', 'DELE <marker129>']) {
      const r = await c.command(cmd);
      assert.match(r, /^-ERR /, cmd);
      replies.push(r);
    }
    c.send(`NOOP ${'marker130'.repeat(40)}\r\n`);
    replies.push(await c.readLine());
    for (const r of [...replies]) {
      assert.doesNotMatch(r, /marker|<script>|<b>/, `reply echoes client input: ${r}`);
    }
    assert.equal(await c.command('NOOP'), '+OK');
    await c.quit();
  });
});

describe('limits.maxBadCommands', () => {
  let gw: TestGateway;
  const clients = tracker();
  before(async () => {
    gw = await startTestGateway({ config: { limits: { authFailureDelayMs: 50, maxBadCommands: 3 } } });
    for (let i = 1; i <= 2; i++) addMessage(gw.maildir('alice'), sampleMessage(i));
  });
  after(() => gw.stop());
  afterEach(() => clients.cleanup(gw));

  it('closes the connection after maxBadCommands errors', async () => {
    const c = await clients.connect(gw);
    assert.match(await c.command('XYZZY'), /^-ERR /);
    assert.match(await c.command(''), /^-ERR /);
    assert.equal(c.isEnded, false);
    c.send('FROB\r\n');
    assert.match(await c.readLine(), /^-ERR /);
    await c.closed(3000);
    // The count is per connection: a new one starts at zero.
    const c2 = await clients.connect(gw);
    assert.match(await c2.command('XYZZY'), /^-ERR /);
    await c2.login('alice', 'alicepass');
    assert.equal(await c2.command('NOOP'), '+OK');
    await c2.quit();
  });

  it('closing for too many errors in TRANSACTION deletes nothing', async () => {
    const before = messageFiles(gw.maildir('alice'));
    const c = await clients.login(gw);
    assert.match(await c.command('DELE 1'), /^\+OK/);
    c.send('RETR abc\r\nXYZZY\r\nLIST -1\r\n');
    for (let i = 0; i < 3; i++) assert.match(await c.readLine(), /^-ERR /);
    await c.closed(3000);
    await waitForNoSessions(gw);
    assert.deepEqual(messageFiles(gw.maildir('alice')), before);
  });
});

describe('limits.idleTimeoutSeconds', () => {
  let gw: TestGateway;
  const clients = tracker();
  before(async () => {
    gw = await startTestGateway({ config: { limits: { authFailureDelayMs: 50, idleTimeoutSeconds: 1 } } });
    for (let i = 1; i <= 3; i++) addMessage(gw.maildir('alice'), sampleMessage(i));
  });
  after(() => gw.stop());
  afterEach(() => clients.cleanup(gw));

  it('closes an idle connection with an -ERR line', async () => {
    const c = await clients.connect(gw);
    const started = Date.now();
    assert.match(await c.readLine(5000), /^-ERR /);
    await c.closed(3000);
    assert.ok(Date.now() - started >= 900, 'closed before the idle timeout');
  });

  it('an idle timeout with DELE marked deletes nothing', async () => {
    const md = gw.maildir('alice');
    const before = messageFiles(md);
    const c = await clients.login(gw);
    assert.match(await c.command('DELE 1'), /^\+OK/);
    assert.match(await c.command('DELE 2'), /^\+OK/);
    assert.match(await c.readLine(5000), /^-ERR /);
    await c.closed(3000);
    await waitForNoSessions(gw);
    assert.deepEqual(messageFiles(md), before);
  });

  it('activity keeps a session alive beyond the idle timeout', async () => {
    const c = await clients.login(gw);
    for (let i = 0; i < 5; i++) {
      await sleep(400);
      assert.equal(await c.command('NOOP'), '+OK');
    }
    assert.equal(c.isEnded, false);
    await c.quit();
  });
});
