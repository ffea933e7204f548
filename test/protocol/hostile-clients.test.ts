/**
 * Attacks a stranger can make before logging in (and a few after), each a regression test:
 * silent TLS connects, deadlines, idle bytes, renegotiation, and password-check floods.
 */
import assert from 'node:assert/strict';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { HashBusy, HashGate } from '../../src/auth/hash-gate.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { addMessage, sampleMessage } from '../helpers/maildir.js';
import { Pop3TestClient } from '../helpers/pop3-client.js';
import { sleep, waitUntil } from '../helpers/tx-util.js';

function rawConnect(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = netConnect({ host: '127.0.0.1', port }, () => resolve(s));
    s.once('error', reject);
  });
}

/** Resolves with how long the server took to close the socket (ms from now). */
function closedWithin(socket: Socket, timeoutMs: number): Promise<number> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    if (socket.destroyed) return resolve(0);
    const timer = setTimeout(() => reject(new Error(`still open after ${timeoutMs} ms`)), timeoutMs);
    socket.on('error', () => undefined);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(Date.now() - started);
    });
  });
}

describe('connections that never log in', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway({
      listeners: [{ tls: 'none' }, { tls: 'implicit' }, { tls: 'starttls' }],
      config: { limits: { authFailureDelayMs: 0, loginTimeoutSeconds: 1, tlsHandshakeTimeoutSeconds: 1, maxConnectionsPerIp: 3, idleTimeoutSeconds: 2 } },
    });
    addMessage(gw.maildir('alice'), sampleMessage(1));
  });
  after(() => gw.stop());

  it('silent connects to the implicit-TLS port count toward maxConnectionsPerIp and are cut after the handshake timeout', async () => {
    const [plainPort, tlsPort] = gw.ports as [number, number];
    const silent = await Promise.all([rawConnect(tlsPort), rawConnect(tlsPort), rawConnect(tlsPort)]);
    await waitUntil(() => gw.gateway.server.openSockets === 3, 'the server to count the silent sockets');
    const refused = await Pop3TestClient.connect(plainPort);
    assert.match(refused.greeting, /^-ERR \[SYS\/TEMP\] Too many connections from your address\./);
    refused.destroy();
    const waited = await Promise.all(silent.map((s) => closedWithin(s, 3000)));
    assert.ok(Math.max(...waited) >= 500, `closed too early: ${waited.join(', ')} ms`);
    await waitUntil(() => gw.gateway.server.openSockets === 0, 'the server to count them down');
    const ok = await Pop3TestClient.connect(plainPort);
    assert.match(ok.greeting, /^\+OK /);
    await ok.quit();
  });

  it('a TLS client that stalls mid-handshake is cut too, and does not stop a real TLS client', async () => {
    const tlsPort = gw.ports[1] as number;
    const stalled = await rawConnect(tlsPort);
    stalled.write(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x40])); // a record header, then nothing
    const real = await Pop3TestClient.connect(tlsPort, { tls: { rejectUnauthorized: false } });
    assert.match(real.greeting, /^\+OK /);
    await real.quit();
    await closedWithin(stalled, 3000);
  });

  it('a silent plain connection gets -ERR and is closed at the login deadline', async () => {
    const c = await Pop3TestClient.connect(gw.ports[0] as number);
    const started = Date.now();
    assert.match(await c.readLine(4000), /^-ERR Login timed out, closing connection\.$/);
    await c.closed(2000);
    assert.ok(Date.now() - started >= 700, 'closed before the deadline');
  });

  it('neither single bytes without a line end nor complete commands stretch the login deadline', async () => {
    const dribbler = await Pop3TestClient.connect(gw.ports[0] as number);
    const chatty = await Pop3TestClient.connect(gw.ports[0] as number);
    const started = Date.now();
    const timer = setInterval(() => {
      if (!dribbler.isEnded) dribbler.send('N');
      if (!chatty.isEnded) chatty.send('CAPA\r\n');
    }, 200);
    let dribbled: string;
    try {
      dribbled = await dribbler.closed(4000);
      await chatty.closed(4000);
    } finally {
      clearInterval(timer);
    }
    assert.ok(Date.now() - started < 2500, `took ${Date.now() - started} ms`);
    assert.match(dribbled, /-ERR Login timed out/);
  });

  it('STLS followed by silence is closed after the handshake timeout', async () => {
    const c = await Pop3TestClient.connect(gw.ports[2] as number);
    assert.match(await c.command('STLS'), /^\+OK /);
    const started = Date.now();
    await c.closed(3000);
    assert.ok(Date.now() - started < 2500);
  });

  it('after login, bytes without a line end are not activity: the idle timeout still ends the session', async () => {
    const c = await Pop3TestClient.connect(gw.ports[0] as number);
    await c.login('alice', 'alicepass');
    const timer = setInterval(() => c.isEnded || c.send('N'), 200);
    try {
      assert.match(await c.readLine(4000), /^-ERR Disconnected for inactivity\.$/);
      await c.closed(2000);
    } finally {
      clearInterval(timer);
    }
  });

  it('a TLS 1.2 client that renegotiates is cut off, not served on', async () => {
    const tlsPort = gw.ports[1] as number;
    const socket = await new Promise<TLSSocket>((resolve, reject) => {
      const s = tlsConnect({ host: '127.0.0.1', port: tlsPort, rejectUnauthorized: false, maxVersion: 'TLSv1.2' }, () => resolve(s));
      s.once('error', reject);
    });
    socket.on('error', () => undefined);
    // Each renegotiation makes the server redo a handshake: one connection could make it do
    // that without end. It is refused outright (a fatal no_renegotiation alert).
    const outcome = await new Promise<string>((resolve) => {
      const started = socket.renegotiate({ rejectUnauthorized: false }, (err) => resolve(err === null || err === undefined ? 'renegotiated' : 'refused'));
      if (!started) resolve('not started');
      socket.once('close', () => resolve('closed'));
      socket.once('error', () => resolve('refused'));
      setTimeout(() => resolve('no answer'), 3000).unref();
    });
    assert.ok(outcome === 'refused' || outcome === 'closed', `renegotiation: ${outcome}`);
    socket.destroy();
  });
});

describe('pipelined replies nobody reads', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway({
      users: { alice: { password: 'alicepass' }, bob: { password: 'bobpass' } },
      config: { limits: { authFailureDelayMs: 0, loginTimeoutSeconds: 30 } },
    });
    addMessage(gw.maildir('alice'), sampleMessage(1));
  });
  after(() => gw.stop());

  it('before login: at most 50 commands, then the connection is closed (pipelined CAPA without reading)', async () => {
    const c = await Pop3TestClient.connect(gw.port);
    c.send('CAPA\r\n'.repeat(200));
    const text = await c.closed(5000);
    assert.equal(text.split('+OK Capability list follows.').length - 1, 50);
    assert.match(text, /-ERR Too many commands without logging in, closing connection\.\r\n$/);
  });

  it('after login: stops reading a connection whose replies pile up (LIST flood without reading)', async () => {
    const c = await Pop3TestClient.connect(gw.port);
    await c.login('alice', 'alicepass');
    const socket = c.socket;
    socket.pause(); // never read again
    const flood = Buffer.from('LIST\r\n'.repeat(4 << 20)); // 24 MiB: ~200 MiB of replies if all were answered
    socket.write(flood);
    await sleep(1500);
    // The server read its input cap plus what the kernel buffers hold; the rest waits on our side.
    assert.ok(socket.writableLength > flood.length / 2, `the server went on reading: ${flood.length - socket.writableLength} octets taken`);
    // Meanwhile another client is served at once.
    const started = Date.now();
    const other = await Pop3TestClient.connect(gw.port);
    await other.login('bob', 'bobpass');
    assert.match(await other.command('STAT'), /^\+OK /);
    assert.ok(Date.now() - started < 1000);
    await other.quit();
    c.destroy();
  });
});

describe('password-check floods', () => {
  it('the hash gate runs at most its concurrency and sheds past its queue at once', async () => {
    const gate = new HashGate(2, 3);
    let running = 0;
    let peak = 0;
    const work = async (): Promise<void> => {
      running++;
      peak = Math.max(peak, running);
      await sleep(30);
      running--;
    };
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => gate.run(work)));
    assert.equal(peak, 2);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 5);
    for (const r of results.filter((x) => x.status === 'rejected')) assert.ok(r.reason instanceof HashBusy);
  });

  it('200 strangers pipelining wrong passwords: a known user still logs in and downloads within a second', async () => {
    const gw = await startTestGateway({
      config: { limits: { authFailureDelayMs: 0, maxConnectionsPerIp: 500, maxBadCommands: 1000, loginQueueWaitMs: 500 }, log: { level: 'info' } },
    });
    try {
      addMessage(gw.maildir('alice'), sampleMessage(1));
      // A first login puts alice's password in the verified cache, as a device polling all day has.
      const first = await Pop3TestClient.connect(gw.port);
      await first.login('alice', 'alicepass');
      await first.quit();
      const attackers = await Promise.all(Array.from({ length: 200 }, () => rawConnect(gw.port)));
      // The kernel completes the connects at once; the server accepts them one per event-loop turn.
      await waitUntil(() => gw.gateway.server.openSockets === 200, 'the server to accept the strangers');
      for (const [i, s] of attackers.entries()) {
        s.on('error', () => undefined);
        s.on('data', () => undefined);
        s.write(`USER nobody${i}\r\nPASS wrong\r\n`.repeat(20));
      }
      await sleep(200);
      const started = Date.now();
      const c = await Pop3TestClient.connect(gw.port);
      await c.login('alice', 'alicepass');
      const { status } = await c.multiline('RETR 1');
      assert.match(status, /^\+OK /);
      const ms = Date.now() - started;
      await c.quit();
      assert.ok(ms < 1000, `login + RETR took ${ms} ms`);
      // Checks that cannot start within loginQueueWaitMs are answered [SYS/TEMP], not queued.
      await waitUntil(() => gw.logs.some((l) => l.includes('"outcome":"logins-busy"')), 'the flood to be shed');
      for (const s of attackers) s.destroy();
    } finally {
      await gw.stop();
    }
  });
});
