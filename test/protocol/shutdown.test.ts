import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { addMessage, messageFiles, sampleMessage, toCrlf } from '../helpers/maildir.js';
import { Pop3TestClient } from '../helpers/pop3-client.js';
import { sleep } from '../helpers/tx-util.js';

const USERS = { alice: { password: 'alicepass' }, bob: { password: 'bobpass' } };

/** What a new connection attempt gets: 'refused' (no listener), or the first line the server sent. */
function tryConnect(port: number): Promise<{ outcome: 'refused' } | { outcome: 'line'; line: string; closed: boolean }> {
  return new Promise((resolve) => {
    let buf = '';
    let settled = false;
    const s = connect({ host: '127.0.0.1', port });
    const finish = (v: { outcome: 'refused' } | { outcome: 'line'; line: string; closed: boolean }): void => {
      if (settled) return;
      settled = true;
      s.destroy();
      resolve(v);
    };
    s.on('error', () => finish(buf === '' ? { outcome: 'refused' } : { outcome: 'line', line: buf.split('\r\n')[0] as string, closed: true }));
    s.on('data', (d: Buffer) => {
      buf += d.toString('utf8');
    });
    s.on('close', () => finish(buf === '' ? { outcome: 'refused' } : { outcome: 'line', line: buf.split('\r\n')[0] as string, closed: true }));
    setTimeout(() => finish({ outcome: 'line', line: buf.split('\r\n')[0] as string, closed: false }), 3000).unref();
  });
}

describe('graceful shutdown (gateway.stop(graceMs))', () => {
  let gw: TestGateway | undefined;
  const open: Pop3TestClient[] = [];
  const login = async (user = 'alice', password = 'alicepass'): Promise<Pop3TestClient> => {
    const c = await Pop3TestClient.connect((gw as TestGateway).port);
    open.push(c);
    await c.login(user, password);
    return c;
  };
  afterEach(async () => {
    for (const c of open.splice(0)) c.destroy();
    await gw?.stop();
    gw = undefined;
  });

  it('closes a session with DELE marked after the grace period with an -ERR line, deleting nothing', async () => {
    gw = await startTestGateway({ users: USERS });
    const md = gw.maildir('alice');
    for (let i = 1; i <= 3; i++) addMessage(md, sampleMessage(i));
    const before = messageFiles(md);
    const c = await login();
    assert.match(await c.command('DELE 1'), /^\+OK/);
    assert.match(await c.command('DELE 3'), /^\+OK/);
    const started = Date.now();
    let stopped = false;
    const stopping = gw.gateway.stop(700).then(() => {
      stopped = true;
    });
    // The session goes on during the grace period.
    await sleep(100);
    assert.equal(await c.command('NOOP'), '+OK');
    assert.deepEqual((await c.multiline('RETR 2')).body, toCrlf(sampleMessage(2)));
    assert.equal(stopped, false);
    const line = await c.readLine(5000);
    const elapsed = Date.now() - started;
    assert.match(line, /^-ERR /);
    assert.ok(elapsed >= 600, `closed after ${elapsed} ms, before the 700 ms grace period`);
    assert.equal(await c.closed(3000), '');
    await stopping;
    assert.deepEqual(messageFiles(md), before);
  });

  it('refuses new connections once stop has begun', async () => {
    gw = await startTestGateway({ users: USERS });
    const c = await login();
    const port = gw.port;
    const stopping = gw.gateway.stop(800);
    await sleep(50);
    const attempt = await tryConnect(port);
    if (attempt.outcome === 'line') {
      assert.match(attempt.line, /^-ERR /, 'a connection made after stop began was served');
      assert.equal(attempt.closed, true, 'a refused connection must be closed');
    }
    // The running session is unaffected until the grace period ends.
    assert.equal(await c.command('NOOP'), '+OK');
    assert.match(await c.readLine(5000), /^-ERR /);
    await c.closed(3000);
    await stopping;
    assert.equal((await tryConnect(port)).outcome, 'refused');
  });

  it('applies the deletions of a session that QUITs during the grace period; closes the other without deleting', async () => {
    gw = await startTestGateway({ users: USERS });
    const mdA = gw.maildir('alice');
    const mdB = gw.maildir('bob');
    const namesA = [1, 2, 3].map((i) => addMessage(mdA, sampleMessage(i)));
    for (let i = 4; i <= 5; i++) addMessage(mdB, sampleMessage(i));
    const beforeB = messageFiles(mdB);
    const a = await login();
    const b = await login('bob', 'bobpass');
    assert.match(await a.command('DELE 1'), /^\+OK/);
    assert.match(await a.command('DELE 2'), /^\+OK/);
    assert.match(await b.command('DELE 1'), /^\+OK/);
    const started = Date.now();
    const stopping = gw.gateway.stop(1000);
    await sleep(100);
    assert.equal(await a.command('QUIT'), '+OK Logging out, 2 messages deleted.');
    await a.closed(3000);
    assert.deepEqual(messageFiles(mdA), [`new/${namesA[2]}`]);
    assert.match(await b.readLine(5000), /^-ERR /);
    await b.closed(3000);
    await stopping;
    assert.ok(Date.now() - started >= 900, 'bob was closed before the grace period ended');
    assert.deepEqual(messageFiles(mdB), beforeB);
  });

  it('returns as soon as every session has QUIT, without waiting out the grace period', async () => {
    gw = await startTestGateway({ users: USERS });
    const md = gw.maildir('alice');
    const names = [1, 2].map((i) => addMessage(md, sampleMessage(i)));
    const a = await login();
    assert.match(await a.command('DELE 2'), /^\+OK/);
    const started = Date.now();
    const stopping = gw.gateway.stop(10_000);
    await sleep(50);
    assert.match(await a.quit(), /^\+OK/);
    await stopping;
    assert.ok(Date.now() - started < 3000, `stop took ${Date.now() - started} ms after the last session quit`);
    assert.deepEqual(messageFiles(md), [`new/${names[0]}`]);
  });

  it('closes a session still in AUTHORIZATION at the end of the grace period', async () => {
    gw = await startTestGateway({ users: USERS });
    const c = await Pop3TestClient.connect(gw.port);
    open.push(c);
    assert.equal(await c.command('USER alice'), '+OK');
    const stopping = gw.gateway.stop(200);
    assert.match(await c.readLine(5000), /^-ERR /);
    await c.closed(3000);
    await stopping;
  });
});
