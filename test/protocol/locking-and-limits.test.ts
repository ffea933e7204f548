import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { addMessage, messageFiles, sampleMessage } from '../helpers/maildir.js';
import { Pop3TestClient } from '../helpers/pop3-client.js';
import { serverSockets, sleep, waitForNoSessions, waitUntil } from '../helpers/tx-util.js';

const USERS = { alice: { password: 'alicepass' }, bob: { password: 'bobpass' } };

function tracker() {
  const open: Pop3TestClient[] = [];
  return {
    async connect(gw: TestGateway, localAddress?: string): Promise<Pop3TestClient> {
      const c = await Pop3TestClient.connect(gw.port, localAddress === undefined ? {} : { localAddress });
      open.push(c);
      return c;
    },
    async cleanup(gw: TestGateway): Promise<void> {
      for (const c of open.splice(0)) c.destroy();
      await waitForNoSessions(gw);
    },
  };
}

/** USER + PASS; returns the PASS answer. */
async function tryLogin(c: Pop3TestClient, user = 'alice', password = 'alicepass'): Promise<string> {
  assert.equal(await c.command(`USER ${user}`), '+OK');
  return c.command(`PASS ${password}`);
}

describe('the maildrop lock', () => {
  let gw: TestGateway;
  const clients = tracker();
  before(async () => {
    gw = await startTestGateway({ users: USERS });
    for (let i = 1; i <= 2; i++) addMessage(gw.maildir('alice'), sampleMessage(i));
    addMessage(gw.maildir('bob'), sampleMessage(3));
  });
  after(() => gw.stop());
  afterEach(() => clients.cleanup(gw));

  it('refuses a second login to an open mailbox with -ERR [IN-USE]; after the first QUITs the second can log in', async () => {
    const a = await clients.connect(gw);
    assert.match(await tryLogin(a), /^\+OK/);
    assert.match(await a.command('DELE 1'), /^\+OK/);
    const b = await clients.connect(gw);
    assert.match(await tryLogin(b), /^-ERR \[IN-USE\] /);
    // The refused session stays in AUTHORIZATION and may try again; the first is unaffected.
    assert.match(await b.command('STAT'), /^-ERR /);
    assert.match(await a.command('STAT'), /^\+OK 1 /);
    assert.match(await tryLogin(b), /^-ERR \[IN-USE\] /);
    assert.match(await a.quit(), /^\+OK/);
    assert.match(await tryLogin(b), /^\+OK/);
    assert.match(await b.command('STAT'), /^\+OK 1 /);
    await b.quit();
  });

  it('locks per mailbox: another user logs in while the first session is open', async () => {
    const a = await clients.connect(gw);
    assert.match(await tryLogin(a), /^\+OK/);
    const b = await clients.connect(gw);
    assert.match(await tryLogin(b, 'bob', 'bobpass'), /^\+OK/);
    assert.match(await b.command('STAT'), /^\+OK 1 /);
    await b.quit();
    await a.quit();
  });

  it('a failed password does not take the lock', async () => {
    const a = await clients.connect(gw);
    assert.match(await tryLogin(a, 'alice', 'wrong'), /^-ERR /);
    const b = await clients.connect(gw);
    assert.match(await tryLogin(b), /^\+OK/);
    await b.quit();
  });

  it('releases the lock when the first session is dropped (socket destroyed)', async () => {
    const before = messageFiles(gw.maildir('alice'));
    const a = await clients.connect(gw);
    assert.match(await tryLogin(a), /^\+OK/);
    assert.match(await a.command('DELE 1'), /^\+OK/);
    const b = await clients.connect(gw);
    assert.match(await tryLogin(b), /^-ERR \[IN-USE\] /);
    a.destroy();
    await waitUntil(() => gw.gateway.server.activeConnections === 1, 'the dropped session to end');
    assert.match(await tryLogin(b), /^\+OK/);
    assert.equal((await b.lines('LIST')).lines.length, before.length);
    await b.quit();
    assert.deepEqual(messageFiles(gw.maildir('alice')), before);
  });

  it('releases the lock when a client is dropped while a RETR is blocked on back-pressure', async () => {
    const md = gw.maildir('alice');
    const big = addMessage(md, 'Subject: big\n\n' + ('z'.repeat(99) + '\n').repeat(80_000));
    const a = await clients.connect(gw);
    assert.match(await tryLogin(a), /^\+OK/);
    const n = (await a.lines('LIST')).lines.length;
    a.socket.pause();
    a.send(`RETR ${n}\r\n`);
    await waitUntil(() => serverSockets(gw).some((s) => s.writableLength > 0), 'the server to be blocked on output');
    await sleep(100);
    a.destroy();
    await waitForNoSessions(gw);
    const b = await clients.connect(gw);
    assert.match(await tryLogin(b), /^\+OK/);
    assert.equal((await b.lines('LIST')).lines.length, n, 'nothing may be deleted');
    assert.match(await b.command(`DELE ${n}`), /^\+OK/);
    assert.match(await b.quit(), /^\+OK/);
    assert.ok(!messageFiles(md).some((f) => f.endsWith(big)));
  });

  it('releases the lock when the holder sends QUIT and closes at once, and when it is closed by too many errors', async () => {
    const a = await clients.connect(gw);
    assert.match(await tryLogin(a), /^\+OK/);
    a.send('QUIT\r\n');
    a.destroy();
    await waitForNoSessions(gw);
    const b = await clients.connect(gw);
    assert.match(await tryLogin(b), /^\+OK/);
    for (let i = 0; i < 10; i++) b.send('XYZZY\r\n');
    await b.closed();
    await waitForNoSessions(gw);
    const c = await clients.connect(gw);
    assert.match(await tryLogin(c), /^\+OK/);
    await c.quit();
  });
});

describe('the maildrop lock and the idle timeout', () => {
  let gw: TestGateway;
  const clients = tracker();
  before(async () => {
    gw = await startTestGateway({ users: USERS, config: { limits: { authFailureDelayMs: 50, idleTimeoutSeconds: 1 } } });
    addMessage(gw.maildir('alice'), sampleMessage(1));
  });
  after(() => gw.stop());
  afterEach(() => clients.cleanup(gw));

  it('releases the lock after an idle timeout', async () => {
    const a = await clients.connect(gw);
    assert.match(await tryLogin(a), /^\+OK/);
    const b = await clients.connect(gw);
    assert.match(await tryLogin(b), /^-ERR \[IN-USE\] /);
    b.destroy();
    assert.match(await a.readLine(5000), /^-ERR /);
    await a.closed(3000);
    const c = await clients.connect(gw);
    assert.match(await tryLogin(c), /^\+OK/);
    assert.match(await c.command('STAT'), /^\+OK 1 /);
    await c.quit();
  });
});

describe('limits.maxConnections', () => {
  let gw: TestGateway;
  const clients = tracker();
  before(async () => {
    gw = await startTestGateway({ users: USERS, config: { limits: { authFailureDelayMs: 50, maxConnections: 3, maxConnectionsPerIp: 100 } } });
  });
  after(() => gw.stop());
  afterEach(() => clients.cleanup(gw));

  it('refuses connections beyond maxConnections with -ERR [SYS/TEMP], and accepts again when one closes', async () => {
    const open = [await clients.connect(gw, '127.0.0.1'), await clients.connect(gw, '127.0.0.2'), await clients.connect(gw, '127.0.0.3')];
    for (const c of open) assert.match(c.greeting, /^\+OK /);
    for (const addr of ['127.0.0.4', '127.0.0.1']) {
      const extra = await clients.connect(gw, addr);
      assert.match(extra.greeting, /^-ERR \[SYS\/TEMP\] /, `connection from ${addr} beyond the limit`);
      await extra.closed(3000);
    }
    assert.equal(gw.gateway.server.openSockets, 3);
    // Closing one by QUIT and one by a dropped socket frees two places.
    assert.match(await open[0]!.quit(), /^\+OK/);
    open[1]!.destroy();
    await waitUntil(() => gw.gateway.server.openSockets === 1, 'the server to count the closed connections');
    const again = [await clients.connect(gw, '127.0.0.5'), await clients.connect(gw, '127.0.0.1')];
    for (const c of again) assert.match(c.greeting, /^\+OK /);
    assert.match(await tryLogin(again[0]!), /^\+OK/);
    const refused = await clients.connect(gw, '127.0.0.6');
    assert.match(refused.greeting, /^-ERR \[SYS\/TEMP\] /);
    await refused.closed(3000);
    // Refused connections were never counted.
    assert.equal(gw.gateway.server.openSockets, 3);
  });
});

describe('limits.maxConnectionsPerIp', () => {
  let gw: TestGateway;
  const clients = tracker();
  before(async () => {
    gw = await startTestGateway({ users: USERS, config: { limits: { authFailureDelayMs: 50, maxConnections: 100, maxConnectionsPerIp: 2 } } });
  });
  after(() => gw.stop());
  afterEach(() => clients.cleanup(gw));

  it('refuses a third connection from one address with -ERR [SYS/TEMP], not from another, and accepts again when one closes', async () => {
    const a1 = await clients.connect(gw, '127.0.0.1');
    const a2 = await clients.connect(gw, '127.0.0.1');
    assert.match(a1.greeting, /^\+OK /);
    assert.match(a2.greeting, /^\+OK /);
    const a3 = await clients.connect(gw, '127.0.0.1');
    assert.match(a3.greeting, /^-ERR \[SYS\/TEMP\] /);
    await a3.closed(3000);
    const b1 = await clients.connect(gw, '127.0.0.2');
    const b2 = await clients.connect(gw, '127.0.0.2');
    assert.match(b1.greeting, /^\+OK /);
    assert.match(b2.greeting, /^\+OK /);
    assert.match(await tryLogin(a1), /^\+OK/);
    // The lock holder closes by QUIT; the per-address count goes down.
    assert.match(await a1.quit(), /^\+OK/);
    await waitUntil(() => gw.gateway.server.openSockets === 3, 'the server to count the closed connection');
    const a4 = await clients.connect(gw, '127.0.0.1');
    assert.match(a4.greeting, /^\+OK /);
    const a5 = await clients.connect(gw, '127.0.0.1');
    assert.match(a5.greeting, /^-ERR \[SYS\/TEMP\] /);
    await a5.closed(3000);
    // A dropped connection is counted down too.
    a2.destroy();
    await waitUntil(() => gw.gateway.server.openSockets === 3, 'the server to count the dropped connection');
    const a6 = await clients.connect(gw, '127.0.0.1');
    assert.match(a6.greeting, /^\+OK /);
    assert.match(await tryLogin(a6), /^\+OK/);
    await a6.quit();
  });

  it('counts down a connection the server closed for too many errors', async () => {
    const a1 = await clients.connect(gw, '127.0.0.1');
    const a2 = await clients.connect(gw, '127.0.0.1');
    for (let i = 0; i < 10; i++) a1.send('XYZZY\r\n');
    await a1.closed(3000);
    await waitUntil(() => gw.gateway.server.openSockets === 1, 'the server to count the closed connection');
    const a3 = await clients.connect(gw, '127.0.0.1');
    assert.match(a3.greeting, /^\+OK /);
    await sleep(10);
    a2.destroy();
    a3.destroy();
  });
});
