import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { TLSSocket, type ConnectionOptions } from 'node:tls';
import { Clients, capa, saslLine, stlsWithInjection, unreadAfter } from '../helpers/auth-helpers.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { Pop3TestClient } from '../helpers/pop3-client.js';
import { testCert } from '../helpers/tls.js';

const ALICE_PASS = 'alice-Pa55-word';
const MODERN = ['TLSv1.2', 'TLSv1.3'];

const tlsOpts = (extra: ConnectionOptions = {}): ConnectionOptions => ({ ca: testCert().cert, servername: 'localhost', ...extra });
/** A client that can only speak TLS 1.0 (with the ciphers OpenSSL 3 hides at its default level). */
const tls10 = (): ConnectionOptions => tlsOpts({ minVersion: 'TLSv1', maxVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0' });

function protocolOf(c: Pop3TestClient): string | null {
  assert.ok(c.socket instanceof TLSSocket, 'the client socket is not a TLS socket');
  return c.socket.getProtocol();
}

async function assertLoggedInAndQuit(c: Pop3TestClient): Promise<void> {
  assert.match(await c.command('STAT'), /^\+OK 0 0$/);
  assert.match(await c.quit(), /^\+OK/);
}

describe('STLS', () => {
  let gw: TestGateway;
  const clients = new Clients();
  before(async () => {
    gw = await startTestGateway({
      users: { alice: { password: ALICE_PASS } },
      listeners: [{ tls: 'starttls' }],
      config: { allowPlaintextAuth: 'tls-only', limits: { authFailureDelayMs: 10 } },
    });
  });
  afterEach(() => clients.closeAll());
  after(() => gw.stop());

  it('is offered before TLS, upgrades the connection, and is gone from CAPA afterwards', async () => {
    const c = await clients.connect(gw.port);
    const before = await capa(c);
    assert.ok(before.includes('STLS'), `CAPA: ${JSON.stringify(before)}`);
    const answer = await c.startTls(tlsOpts());
    assert.match(answer, /^\+OK/);
    assert.ok(MODERN.includes(protocolOf(c) ?? ''), `protocol ${protocolOf(c)}`);
    assert.ok((c.socket as TLSSocket).authorized, 'the server certificate must verify against the test CA');
    const afterTls = await capa(c);
    assert.ok(!afterTls.includes('STLS'), `CAPA after TLS: ${JSON.stringify(afterTls)}`);
    assert.match(await c.command('STLS'), /^-ERR/, 'a second STLS must be refused');
    // The session is still usable after the refused second STLS.
    assert.ok((await capa(c)).includes('CAPA'));
  });

  it("with allowPlaintextAuth 'tls-only', USER/PASS is refused before STLS and works after it", async () => {
    const c = await clients.connect(gw.port);
    const plain = await capa(c);
    assert.ok(!plain.includes('USER'), `CAPA before TLS: ${JSON.stringify(plain)}`);
    assert.equal(saslLine(plain), undefined, `CAPA before TLS: ${JSON.stringify(plain)}`);
    assert.match(await c.command('USER alice'), /^-ERR \[AUTH\] /);
    assert.match(await c.startTls(tlsOpts()), /^\+OK/);
    const secure = await capa(c);
    assert.ok(secure.includes('USER'), `CAPA after TLS: ${JSON.stringify(secure)}`);
    assert.deepEqual(saslLine(secure), ['PLAIN', 'LOGIN']);
    assert.equal(await c.command('USER alice'), '+OK');
    assert.equal(await c.command(`PASS ${ALICE_PASS}`), '+OK Logged in.');
    await assertLoggedInAndQuit(c);
  });

  it('does not execute commands pipelined behind STLS in the same packet (command injection)', async () => {
    const c = await clients.connect(gw.port);
    const { answer, plaintextAfterAnswer } = await stlsWithInjection(c, 'CAPA\r\n', tlsOpts());
    assert.match(answer, /^\+OK/);
    assert.equal(plaintextAfterAnswer, '', 'the server answered the injected command in plaintext');
    assert.ok(MODERN.includes(protocolOf(c) ?? ''));
    // Nothing may arrive under TLS before the client says anything.
    assert.equal(await unreadAfter(c, 150), '', 'the server executed the injected CAPA after the handshake');
    // One CAPA gets exactly one answer; the next reply belongs to the next command.
    const { status, lines } = await c.lines('CAPA');
    assert.match(status, /^\+OK/);
    assert.ok(lines.includes('USER'));
    assert.equal(await c.command('QUIT'), '+OK Logging out.');
    assert.equal(await c.closed(), '');
  });

  it('does not execute an injected login either', async () => {
    const c = await clients.connect(gw.port);
    const { answer, plaintextAfterAnswer } = await stlsWithInjection(c, `USER alice\r\nPASS ${ALICE_PASS}\r\n`, tlsOpts());
    assert.match(answer, /^\+OK/);
    assert.equal(plaintextAfterAnswer, '');
    assert.equal(await unreadAfter(c, 150), '');
    // Still in AUTHORIZATION: PASS without USER is refused, STAT is refused.
    assert.match(await c.command('STAT'), /^-ERR/);
    assert.match(await c.command(`PASS ${ALICE_PASS}`), /^-ERR/);
  });

  it('refuses STLS with an argument', async () => {
    const c = await clients.connect(gw.port);
    assert.match(await c.command('STLS now'), /^-ERR/);
    assert.ok((await capa(c)).includes('STLS'));
  });
});

describe('STLS where it does not apply', () => {
  let gw: TestGateway;
  const clients = new Clients();
  before(async () => {
    gw = await startTestGateway({
      users: { alice: { password: ALICE_PASS } },
      listeners: [{ tls: 'starttls' }, { tls: 'none' }],
      config: { allowPlaintextAuth: 'always', limits: { authFailureDelayMs: 10 } },
    });
  });
  afterEach(() => clients.closeAll());
  after(() => gw.stop());

  it("STLS on a tls:'none' listener gets -ERR and is not in CAPA", async () => {
    const c = await clients.connect(gw.ports[1] as number);
    assert.ok(!(await capa(c)).includes('STLS'));
    assert.match(await c.command('STLS'), /^-ERR/);
    // Still a working plaintext session.
    await c.login('alice', ALICE_PASS);
    await assertLoggedInAndQuit(c);
  });

  it('STLS after login gets -ERR and the session goes on in plaintext', async () => {
    const c = await clients.connect(gw.ports[0] as number);
    await c.login('alice', ALICE_PASS);
    assert.ok(!(await capa(c)).includes('STLS'), 'STLS offered after login');
    assert.match(await c.command('STLS'), /^-ERR/);
    assert.ok(!(c.socket instanceof TLSSocket));
    await assertLoggedInAndQuit(c);
  });
});

describe('implicit TLS and legacy TLS versions', () => {
  let gw: TestGateway;
  const clients = new Clients();
  let starttlsPort: number;
  let implicitPort: number;
  let legacyStarttlsPort: number;
  let legacyImplicitPort: number;
  before(async () => {
    gw = await startTestGateway({
      users: { alice: { password: ALICE_PASS } },
      listeners: [{ tls: 'starttls' }, { tls: 'implicit' }, { tls: 'starttls', legacyTls: true }, { tls: 'implicit', legacyTls: true }],
      config: { allowPlaintextAuth: 'tls-only', limits: { authFailureDelayMs: 10 } },
    });
    [starttlsPort, implicitPort, legacyStarttlsPort, legacyImplicitPort] = gw.ports as [number, number, number, number];
  });
  afterEach(() => clients.closeAll());
  after(() => gw.stop());

  it('an implicit TLS listener greets over TLS 1.2+ and logs in', async () => {
    const c = await clients.connect(implicitPort, { tls: tlsOpts() });
    assert.match(c.greeting, /^\+OK /);
    assert.ok(MODERN.includes(protocolOf(c) ?? ''), `protocol ${protocolOf(c)}`);
    const lines = await capa(c);
    assert.ok(!lines.includes('STLS'), `STLS offered under implicit TLS: ${JSON.stringify(lines)}`);
    assert.ok(lines.includes('USER'), "USER must be offered under TLS with 'tls-only'");
    await c.login('alice', ALICE_PASS);
    await assertLoggedInAndQuit(c);
  });

  it('by default a TLS 1.0-only client fails the STLS handshake (a modern client succeeds)', async () => {
    const old = await clients.connect(starttlsPort);
    await assert.rejects(old.startTls(tls10()));
    const modern = await clients.connect(starttlsPort);
    assert.match(await modern.startTls(tlsOpts()), /^\+OK/);
    assert.ok(MODERN.includes(protocolOf(modern) ?? ''));
  });

  it('by default a TLS 1.0-only client fails the implicit TLS handshake (a modern client succeeds)', async () => {
    await assert.rejects(Pop3TestClient.connect(implicitPort, { tls: tls10() }));
    const modern = await clients.connect(implicitPort, { tls: tlsOpts() });
    assert.match(modern.greeting, /^\+OK /);
  });

  it('a legacyTls STLS listener accepts a TLS 1.0 client', async () => {
    const c = await clients.connect(legacyStarttlsPort);
    assert.match(await c.startTls(tls10()), /^\+OK/);
    assert.equal(protocolOf(c), 'TLSv1');
    await c.login('alice', ALICE_PASS);
    await assertLoggedInAndQuit(c);
  });

  it('a legacyTls implicit listener accepts a TLS 1.0 client', async () => {
    const c = await clients.connect(legacyImplicitPort, { tls: tls10() });
    assert.match(c.greeting, /^\+OK /);
    assert.equal(protocolOf(c), 'TLSv1');
    await c.login('alice', ALICE_PASS);
    await assertLoggedInAndQuit(c);
  });

  it('a legacyTls listener still prefers a modern version with a modern client', async () => {
    const c = await clients.connect(legacyStarttlsPort);
    assert.match(await c.startTls(tlsOpts()), /^\+OK/);
    assert.ok(MODERN.includes(protocolOf(c) ?? ''));
  });
});
