/**
 * popgate behind a real HAProxy 2.6 (TCP mode) with `send-proxy` (v1) and `send-proxy-v2`, on
 * a plain listener and on an implicit-TLS one that popgate terminates: a client bound to
 * 127.0.0.x shows up as 127.0.0.x in popgate's log and per-address limits. HAProxy's health
 * checks (v2 LOCAL, then a reset) are served without an error. Directly, without HAProxy: a
 * header from an untrusted peer, a missing or malformed one from a trusted peer, all closed.
 */
import assert from 'node:assert/strict';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { startHaproxy, type HaproxyInstance } from '../helpers/haproxy.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { Pop3TestClient } from '../helpers/pop3-client.js';
import { testCert } from '../helpers/tls.js';

interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly peer?: string;
  readonly via?: string;
  readonly proxied?: string;
  readonly tls?: boolean;
  readonly session?: string;
}

const parsed = (gw: TestGateway): LogLine[] => gw.logs.map((l) => JSON.parse(l) as LogLine);

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The session id of the `connect` line for this client address, once it is logged. */
function sessionOf(gw: TestGateway, peer: string): Promise<LogLine> {
  return waitFor(`a connect line for ${peer}`, () => parsed(gw).find((l) => l.msg === 'connect' && l.peer === peer));
}

function rawSocket(port: number, localAddress = '127.0.0.1'): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = netConnect({ host: '127.0.0.1', port, localAddress }, () => resolve(s));
    s.once('error', reject);
  });
}

/** Everything the server sends until it closes, and how long that took. */
function untilClosed(socket: Socket): Promise<{ data: string; ms: number }> {
  const started = Date.now();
  let data = '';
  socket.on('data', (c: Buffer) => (data += c.toString('latin1')));
  socket.on('error', () => undefined);
  return new Promise((resolve) => socket.once('close', () => resolve({ data, ms: Date.now() - started })));
}

describe('PROXY protocol behind HAProxy', () => {
  let gw: TestGateway;
  let haproxy: HaproxyInstance;
  /** popgate listeners: plain and implicit TLS, both behind the proxy. */
  let plainPort: number;
  let tlsPort: number;
  /** HAProxy frontends. */
  let v1Plain: number;
  let v2Plain: number;
  let v2Tls: number;
  let v1Tls: number;
  let checked: number;
  const ca = testCert().cert;

  before(async () => {
    gw = await startTestGateway({
      listeners: [
        { tls: 'none', proxyProtocol: { trusted: ['127.0.0.1/32'], timeoutMs: 500 } },
        { tls: 'implicit', proxyProtocol: { trusted: ['127.0.0.0/8', '::1'] } },
      ],
      config: { limits: { authFailureDelayMs: 50, maxConnectionsPerIp: 2 } },
    });
    [plainPort, tlsPort] = gw.ports as [number, number];
    haproxy = await startHaproxy([
      { port: plainPort, server: 'send-proxy' },
      { port: plainPort, server: 'send-proxy-v2' },
      { port: tlsPort, server: 'send-proxy-v2' },
      { port: tlsPort, server: 'send-proxy' },
      // A POP3-aware health check; its connections carry a v2 LOCAL header (RECIPES-2 §2).
      { port: plainPort, server: 'send-proxy-v2 check inter 100ms fall 2 rise 1', backend: ['option tcp-check', 'tcp-check expect rstring ^\\+OK'] },
    ]);
    [v1Plain, v2Plain, v2Tls, v1Tls, checked] = haproxy.ports as [number, number, number, number, number];
  });

  after(async () => {
    await haproxy?.stop();
    await gw?.stop();
  });

  for (const [name, frontend, version, client] of [
    ['send-proxy (v1)', () => v1Plain, 'v1 TCP4', '127.0.0.5'],
    ['send-proxy-v2', () => v2Plain, 'v2 TCP4', '127.0.0.6'],
  ] as const) {
    it(`plain, ${name}: a client bound to ${client} logs in and is logged as ${client}`, async () => {
      const c = await Pop3TestClient.connect(frontend(), { localAddress: client });
      assert.match(c.greeting, /^\+OK/);
      await c.login('alice', 'alicepass');
      assert.match(await c.command('STAT'), /^\+OK 0 0/);
      await c.quit();
      const connect = await sessionOf(gw, client);
      assert.equal(connect.proxied, version);
      assert.equal(connect.via, '127.0.0.1', 'the proxy is logged as the connection it came through');
      const login = await waitFor('the login line', () => parsed(gw).find((l) => l.session === connect.session && l.msg === 'login'));
      assert.equal(login.peer, client);
    });
  }

  for (const [name, frontend, version, client] of [
    ['send-proxy-v2', () => v2Tls, 'v2 TCP4', '127.0.0.7'],
    ['send-proxy (v1)', () => v1Tls, 'v1 TCP4', '127.0.0.8'],
  ] as const) {
    it(`implicit TLS terminated by popgate, ${name}: the header comes before the handshake; the client is ${client}`, async () => {
      const c = await Pop3TestClient.connect(frontend(), { localAddress: client, tls: { ca, servername: 'localhost' } });
      assert.match(c.greeting, /^\+OK/);
      await c.login('alice', 'alicepass');
      await c.quit();
      const connect = await sessionOf(gw, client);
      assert.equal(connect.tls, true);
      assert.equal(connect.proxied, version);
    });
  }

  it("HAProxy's health checks (v2 LOCAL, then a reset) are served as the proxy's own connections, without an error", async () => {
    const locals = await waitFor('three health checks', () => {
      const found = parsed(gw).filter((l) => l.msg === 'connect' && l.proxied === 'v2 LOCAL');
      return found.length >= 3 ? found : undefined;
    });
    for (const l of locals) assert.equal(l.peer, '127.0.0.1', 'LOCAL: the socket peer is the client');
    // The check passed (the server is UP), so the frontend routes to it.
    const c = await Pop3TestClient.connect(checked, { localAddress: '127.0.0.11' });
    assert.match(c.greeting, /^\+OK/);
    await c.quit();
    assert.deepEqual(
      parsed(gw).filter((l) => l.level >= 50),
      [],
      'no error lines',
    );
  });

  it('maxConnectionsPerIp counts the client addresses the headers give, not the proxy', async () => {
    const first = await Pop3TestClient.connect(v2Plain, { localAddress: '127.0.0.9' });
    const second = await Pop3TestClient.connect(v2Plain, { localAddress: '127.0.0.9' });
    const third = await Pop3TestClient.connect(v2Plain, { localAddress: '127.0.0.9' });
    assert.match(third.greeting, /^-ERR \[SYS\/TEMP\] Too many connections from your address/);
    const other = await Pop3TestClient.connect(v2Plain, { localAddress: '127.0.0.10' });
    assert.match(other.greeting, /^\+OK/, 'another client behind the same proxy is not refused');
    for (const c of [first, second, other]) await c.quit();
    third.destroy();
  });
});

describe('PROXY protocol: who may send a header, and what is refused', () => {
  let gw: TestGateway;
  let plainPort: number;
  let tlsPort: number;
  let otherPort: number;
  const ca = testCert().cert;
  const v1 = (src: string): string => `PROXY TCP4 ${src} 127.0.0.1 40000 110\r\n`;

  before(async () => {
    gw = await startTestGateway({
      listeners: [
        { tls: 'none', proxyProtocol: { trusted: ['127.0.0.1'], timeoutMs: 400 } },
        { tls: 'implicit', proxyProtocol: { trusted: ['127.0.0.1'], timeoutMs: 400 } },
        { tls: 'none', proxyProtocol: { trusted: ['10.0.0.0/8', '2001:db8::/32'] } },
      ],
    });
    [plainPort, tlsPort, otherPort] = gw.ports as [number, number, number];
  });

  after(() => gw?.stop());

  it('a header from a peer outside `trusted` is closed at once, without a greeting', async () => {
    const s = await rawSocket(otherPort);
    const closed = untilClosed(s);
    s.write(v1('192.0.2.1'));
    const { data } = await closed;
    assert.equal(data, '');
    assert.ok(parsed(gw).some((l) => l.msg === 'connection refused: not a trusted PROXY protocol source' && l.peer === '127.0.0.1'));
    assert.ok(!parsed(gw).some((l) => l.peer === '192.0.2.1'), 'the claimed address is never used');
  });

  it('a trusted peer that sends POP3 instead of a header is closed without a greeting', async () => {
    const s = await rawSocket(plainPort);
    const closed = untilClosed(s);
    s.write('CAPA\r\n');
    const { data } = await closed;
    assert.equal(data, '');
    assert.ok(parsed(gw).some((l) => l.msg === 'connection closed: PROXY header missing or malformed'));
  });

  it('a trusted peer that sends nothing is closed after timeoutMs, without a greeting', async () => {
    const s = await rawSocket(plainPort);
    const { data, ms } = await untilClosed(s);
    assert.equal(data, '');
    assert.ok(ms >= 350 && ms < 3000, `closed after ${ms} ms (timeoutMs 400)`);
  });

  it('a malformed header (port 65536) is closed; a good one with a command in the same packet serves both', async () => {
    const bad = await rawSocket(plainPort);
    const closed = untilClosed(bad);
    bad.write('PROXY TCP4 192.0.2.2 127.0.0.1 65536 110\r\n');
    assert.equal((await closed).data, '');

    const c = await Pop3TestClient.connectRaw(plainPort);
    c.send(`${v1('192.0.2.3')}CAPA\r\n`);
    assert.match(await c.readLine(), /^\+OK popgate ready/);
    assert.match(await c.readLine(), /^\+OK/, 'the CAPA sent right behind the header is answered');
    const capa = await c.readMultiline();
    assert.match(capa.toString('latin1'), /UIDL/);
    await c.quit();
    assert.equal((await sessionOf(gw, '192.0.2.3')).proxied, 'v1 TCP4');
  });

  it('implicit TLS: a header and the ClientHello in one packet, the handshake reads what followed the header', async () => {
    const s = await rawSocket(tlsPort);
    s.cork();
    s.write(v1('198.51.100.7'));
    const secure = tlsConnect({ socket: s, ca, servername: 'localhost' });
    process.nextTick(() => s.uncork());
    const c = await new Promise<string>((resolve, reject) => {
      let got = '';
      secure.on('data', (chunk: Buffer) => {
        got += chunk.toString('latin1');
        if (got.includes('\r\n')) resolve(got);
      });
      secure.once('error', reject);
    });
    assert.match(c, /^\+OK popgate ready/);
    secure.end('QUIT\r\n');
    const connect = await sessionOf(gw, '198.51.100.7');
    assert.equal(connect.tls, true);
  });

  it('implicit TLS: a trusted peer without a header is closed before any handshake', async () => {
    const s = await rawSocket(tlsPort);
    const closed = untilClosed(s);
    const secure = tlsConnect({ socket: s, ca, servername: 'localhost' });
    secure.on('error', () => undefined);
    const { data } = await closed;
    assert.equal(data, '', 'no TLS record came back');
  });
});
