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

  it('answers a 300-octet line with -ERR and closes the connection, deleting nothing', async () => {
    const c = await clients.login(gw);
    assert.match(await c.command('DELE 1'), /^\+OK /);
    const line = 'NOOP ' + 'x'.repeat(293);
    assert.equal(Buffer.byteLength(line + '\r\n'), 300);
    assert.match(await c.command(line), /^-ERR Line too long .*closing connection\.$/);
    await c.closed(3000);
    const again = await clients.login(gw);
    assert.match(await again.command('STAT'), /^\+OK 3 /, 'the DELE before the long line must not be applied');
    await again.quit();
  });

  it('accepts a command line of exactly 255 octets including CRLF', async () => {
    const c = await clients.connect(gw);
    const line = 'USER ' + 'a'.repeat(248);
    assert.equal(Buffer.byteLength(line + '\r\n'), 255);
    assert.equal(await c.command(line), '+OK');
    await c.quit();
  });

  for (const state of ['before login', 'after login'] as const) {
    it(`answers a line without line end as soon as it passes 255 octets (${state}), and closes`, async () => {
      const c = state === 'before login' ? await clients.connect(gw) : await clients.login(gw);
      // Dovecot's rule: no waiting for a line end that may never come.
      c.send(Buffer.alloc(200, 'A'));
      await sleep(100);
      assert.equal(c.unread, '', 'nothing is answered while the line is within the limit');
      c.send(Buffer.alloc(60, 'A'));
      assert.match(await c.readLine(), /^-ERR Line too long \(over 255 octets\), closing connection\.$/);
      await c.closed(3000);
    });
  }

  it('answers a 64 KiB AUTH line without line end at once and closes; 64 KiB of another command before login too', async () => {
    const auth = await clients.connect(gw);
    auth.send(Buffer.concat([Buffer.from('AUTH PLAIN '), Buffer.alloc(66 * 1024, 'Q')]));
    assert.match(await auth.readLine(), /^-ERR Line too long \(over 65536 octets\), closing connection\.$/);
    await auth.closed(3000);
    const other = await clients.connect(gw);
    other.send(Buffer.alloc(64 * 1024, 'Z'));
    assert.match(await other.readLine(), /^-ERR Line too long \(over 255 octets\)/);
    await other.closed(3000);
  });

  it('answers a 100 KB line arriving in one write together with the next commands with one -ERR, runs none of them, and closes', async () => {
    const c = await clients.login(gw);
    c.send(Buffer.concat([Buffer.alloc(100 * 1024, 'B'), Buffer.from('\r\nDELE 1\r\nQUIT\r\n')]));
    assert.match(await c.readLine(), /^-ERR Line too long/);
    assert.equal(await c.closed(3000), '', 'nothing after the over-long line may run');
    const again = await clients.login(gw);
    assert.match(await again.command('STAT'), /^\+OK 3 /);
    await again.quit();
  });

  it('refuses arguments on commands that take none (NOOP, CAPA, QUIT, STAT, RSET, LAST, STLS), counted as bad commands', async () => {
    const c = await clients.connect(gw);
    assert.match(await c.command('CAPA x'), /^-ERR This command takes no arguments\.$/);
    assert.match(await c.command('QUIT x'), /^-ERR /);
    assert.match(await c.command('STLS x'), /^-ERR /);
    await c.login('alice', 'alicepass');
    for (const cmd of ['NOOP x', 'CAPA x', 'STAT 1', 'RSET x', 'LAST x']) assert.match(await c.command(cmd), /^-ERR /, cmd);
    // One trailing blank stays tolerated.
    assert.equal(await c.command('NOOP '), '+OK');
    assert.match(await c.command('QUIT x'), /^-ERR /, 'QUIT with an argument must not end the session');
    // Nine errors so far: the tenth ends the connection (maxBadCommands 10).
    assert.match(await c.command('RETR'), /^-ERR .*Too many errors, closing connection\.$/);
    await c.closed(3000);
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
    c.send(`NOOP ${'marker130'.repeat(20)}\r\n`);
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
