import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { after, afterEach, before, describe, it } from 'node:test';
import { Clients, apopTimestamp, b64, capa, hmacMd5Hex, md5Hex, saslLine, unb64, unreadAfter } from '../helpers/auth-helpers.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import type { Pop3TestClient } from '../helpers/pop3-client.js';
import { testCert } from '../helpers/tls.js';

const AUTH_FAILED = '-ERR [AUTH] Authentication failed.';
const ALICE_PASS = 'alice-Pa55-word';
const ALICE_SECRET = 'alice-shared-secret-q7';
const BOB_PASS = 'bob-Pa55-word';

/** Asserts the session is logged in (STAT answers) and ends it with QUIT, releasing the lock. */
async function assertLoggedInAndQuit(c: Pop3TestClient): Promise<void> {
  assert.match(await c.command('STAT'), /^\+OK 0 0$/);
  assert.match(await c.quit(), /^\+OK/);
}

/** Asserts the session is still in AUTHORIZATION (a TRANSACTION command is refused). */
async function assertNotLoggedIn(c: Pop3TestClient): Promise<void> {
  assert.match(await c.command('STAT'), /^-ERR/);
}

/** Fails if any captured log line contains one of the given strings. */
function assertNotInLogs(gw: TestGateway, sensitive: readonly string[]): void {
  assert.ok(gw.logs.length > 0, 'no log lines were captured');
  for (const s of sensitive) {
    const hit = gw.logs.find((l) => l.includes(s));
    assert.equal(hit, undefined, `log line contains ${JSON.stringify(s)}: ${hit}`);
  }
}

describe('POP3 authentication', () => {
  let gw: TestGateway;
  const clients = new Clients();
  /** Everything secret that tests send; checked against the logs at the end. */
  const sensitive: string[] = [ALICE_PASS, ALICE_SECRET, BOB_PASS];
  const connect = (): Promise<Pop3TestClient> => clients.connect(gw.port);

  before(async () => {
    gw = await startTestGateway({
      users: { alice: { password: ALICE_PASS, secret: ALICE_SECRET }, bob: { password: BOB_PASS } },
      config: {
        auth: { apop: true, mechanisms: ['PLAIN', 'LOGIN', 'CRAM-MD5'] },
        limits: { authFailureDelayMs: 10, maxBadCommands: 100 },
      },
    });
  });
  afterEach(() => clients.closeAll());
  after(() => gw.stop());

  describe('USER / PASS', () => {
    it('logs in with the right password', async () => {
      const c = await connect();
      assert.equal(await c.command('USER alice'), '+OK');
      assert.equal(await c.command(`PASS ${ALICE_PASS}`), '+OK Logged in.');
      await assertLoggedInAndQuit(c);
    });

    it('refuses a wrong password and an unknown user with the same reply, then a retry works', async () => {
      const c = await connect();
      assert.equal(await c.command('USER alice'), '+OK');
      sensitive.push('wrong-Pa55-1');
      const wrong = await c.command('PASS wrong-Pa55-1');
      assert.equal(wrong, AUTH_FAILED);
      assert.equal(await c.command('USER nosuchuser'), '+OK', 'USER must not reveal whether the user exists');
      const unknown = await c.command(`PASS ${ALICE_PASS}`);
      assert.equal(unknown, AUTH_FAILED);
      assert.equal(unknown, wrong);
      await assertNotLoggedIn(c);
      await c.login('alice', ALICE_PASS);
      await assertLoggedInAndQuit(c);
    });

    it('refuses PASS without USER', async () => {
      const c = await connect();
      assert.match(await c.command(`PASS ${ALICE_PASS}`), /^-ERR/);
      await assertNotLoggedIn(c);
      // PASS consumed nothing: a USER/PASS pair still works afterwards.
      await c.login('alice', ALICE_PASS);
      await assertLoggedInAndQuit(c);
    });

    it('does not keep the user name after a failed PASS', async () => {
      const c = await connect();
      assert.equal(await c.command('USER alice'), '+OK');
      assert.equal(await c.command('PASS wrong-Pa55-1'), AUTH_FAILED);
      assert.match(await c.command(`PASS ${ALICE_PASS}`), /^-ERR/);
      await assertNotLoggedIn(c);
    });

    it('refuses USER without a name', async () => {
      const c = await connect();
      assert.match(await c.command('USER'), /^-ERR/);
    });
  });

  describe('APOP', () => {
    it('puts an RFC 1939 timestamp in the greeting when APOP is on and a user has a secret', async () => {
      const c = await connect();
      assert.match(c.greeting, /^\+OK /);
      const ts = apopTimestamp(c.greeting);
      assert.ok(ts !== undefined, `greeting has no <timestamp>: ${c.greeting}`);
      const other = await connect();
      assert.notEqual(apopTimestamp(other.greeting), ts, 'each connection needs its own timestamp');
    });

    it('logs in with md5(timestamp + secret)', async () => {
      const c = await connect();
      const ts = apopTimestamp(c.greeting) as string;
      const digest = md5Hex(ts + ALICE_SECRET);
      sensitive.push(digest);
      assert.equal(await c.command(`APOP alice ${digest}`), '+OK Logged in.');
      await assertLoggedInAndQuit(c);
    });

    it('accepts the digest in upper case hex', async () => {
      const c = await connect();
      const ts = apopTimestamp(c.greeting) as string;
      const digest = md5Hex(ts + ALICE_SECRET).toUpperCase();
      sensitive.push(digest);
      assert.equal(await c.command(`APOP alice ${digest}`), '+OK Logged in.');
      await assertLoggedInAndQuit(c);
    });

    it('refuses a wrong digest, a digest for another timestamp, a user without a secret and an unknown user', async () => {
      const c = await connect();
      const ts = apopTimestamp(c.greeting) as string;
      assert.equal(await c.command(`APOP alice ${md5Hex(ts + 'not-the-secret')}`), AUTH_FAILED);
      assert.equal(await c.command(`APOP alice ${md5Hex('<1.2@elsewhere>' + ALICE_SECRET)}`), AUTH_FAILED);
      // bob has no secret: even md5(timestamp + password) must not work.
      assert.equal(await c.command(`APOP bob ${md5Hex(ts + BOB_PASS)}`), AUTH_FAILED);
      assert.equal(await c.command(`APOP bob ${md5Hex(ts)}`), AUTH_FAILED);
      assert.equal(await c.command(`APOP nosuchuser ${md5Hex(ts + ALICE_SECRET)}`), AUTH_FAILED);
      await assertNotLoggedIn(c);
    });

    it('refuses a malformed APOP command', async () => {
      const c = await connect();
      assert.match(await c.command('APOP alice'), /^-ERR/);
      assert.match(await c.command('APOP alice nothex'), /^-ERR/);
      await assertNotLoggedIn(c);
    });
  });

  describe('AUTH (SASL)', () => {
    it('lists the mechanisms when AUTH has no argument', async () => {
      const c = await connect();
      const { status, lines } = await c.lines('AUTH');
      assert.match(status, /^\+OK/);
      assert.deepEqual(lines, ['PLAIN', 'LOGIN', 'CRAM-MD5']);
      // The session goes on normally after the listing.
      await c.login('alice', ALICE_PASS);
      await assertLoggedInAndQuit(c);
    });

    it('PLAIN with an initial response', async () => {
      const c = await connect();
      const blob = b64(`\0alice\0${ALICE_PASS}`);
      sensitive.push(blob);
      assert.equal(await c.command(`AUTH PLAIN ${blob}`), '+OK Logged in.');
      await assertLoggedInAndQuit(c);
    });

    it('PLAIN with authzid equal to authcid and a lower-case mechanism name', async () => {
      const c = await connect();
      const blob = b64(`alice\0alice\0${ALICE_PASS}`);
      sensitive.push(blob);
      assert.equal(await c.command(`AUTH plain ${blob}`), '+OK Logged in.');
      await assertLoggedInAndQuit(c);
    });

    it('PLAIN with an empty challenge ("+ ") and the response on the next line', async () => {
      const c = await connect();
      assert.equal(await c.command('AUTH PLAIN'), '+ ');
      const blob = b64(`\0alice\0${ALICE_PASS}`);
      assert.equal(await c.command(blob), '+OK Logged in.');
      await assertLoggedInAndQuit(c);
    });

    it('PLAIN with a wrong password fails like USER/PASS', async () => {
      const c = await connect();
      const blob = b64('\0alice\0wrong-Pa55-2');
      sensitive.push(blob, 'wrong-Pa55-2');
      assert.equal(await c.command(`AUTH PLAIN ${blob}`), AUTH_FAILED);
      await assertNotLoggedIn(c);
    });

    it('PLAIN acting as another user (authzid != authcid) is refused', async () => {
      const c = await connect();
      const blob = b64(`bob\0alice\0${ALICE_PASS}`);
      sensitive.push(blob);
      assert.match(await c.command(`AUTH PLAIN ${blob}`), /^-ERR/);
      await assertNotLoggedIn(c);
    });

    it('an empty initial response ("=") is malformed PLAIN data: -ERR, no challenge', async () => {
      const c = await connect();
      assert.match(await c.command('AUTH PLAIN ='), /^-ERR/);
      await assertNotLoggedIn(c);
      assert.equal(await unreadAfter(c, 50), '');
    });

    it('LOGIN without initial response: base64 "Username:" and "Password:" challenges', async () => {
      const c = await connect();
      const first = await c.command('AUTH LOGIN');
      assert.equal(first, `+ ${b64('Username:')}`);
      const second = await c.command(b64('alice'));
      assert.equal(second, `+ ${b64('Password:')}`);
      assert.equal(unb64(second.slice(2)), 'Password:');
      assert.equal(await c.command(b64(ALICE_PASS)), '+OK Logged in.');
      await assertLoggedInAndQuit(c);
    });

    it('LOGIN with the user name as initial response', async () => {
      const c = await connect();
      assert.equal(await c.command(`AUTH LOGIN ${b64('alice')}`), `+ ${b64('Password:')}`);
      assert.equal(await c.command(b64(ALICE_PASS)), '+OK Logged in.');
      await assertLoggedInAndQuit(c);
    });

    it('LOGIN with a wrong password fails', async () => {
      const c = await connect();
      assert.equal(await c.command(`AUTH LOGIN ${b64('alice')}`), `+ ${b64('Password:')}`);
      sensitive.push(b64('wrong-Pa55-3'), 'wrong-Pa55-3');
      assert.equal(await c.command(b64('wrong-Pa55-3')), AUTH_FAILED);
      await assertNotLoggedIn(c);
    });

    it('CRAM-MD5: hex HMAC-MD5(secret, challenge) logs in', async () => {
      const c = await connect();
      const line = await c.command('AUTH CRAM-MD5');
      assert.match(line, /^\+ [A-Za-z0-9+/]+=*$/);
      const challenge = unb64(line.slice(2));
      assert.match(challenge, /^<[^<>]+@[^<>]+>$/, 'RFC 2195 challenge is a msg-id');
      const digest = hmacMd5Hex(ALICE_SECRET, challenge);
      const answer = b64(`alice ${digest}`);
      sensitive.push(digest, answer);
      assert.equal(await c.command(answer), '+OK Logged in.');
      await assertLoggedInAndQuit(c);
    });

    it('CRAM-MD5: a wrong digest, a user without a secret and an initial response all fail', async () => {
      const c = await connect();
      const line = await c.command('AUTH CRAM-MD5');
      const challenge = unb64(line.slice(2));
      assert.equal(await c.command(b64(`alice ${hmacMd5Hex('not-the-secret', challenge)}`)), AUTH_FAILED);
      const line2 = await c.command('AUTH CRAM-MD5');
      assert.notEqual(line2, line, 'each CRAM-MD5 exchange needs a fresh challenge');
      assert.equal(await c.command(b64(`bob ${hmacMd5Hex(BOB_PASS, unb64(line2.slice(2)))}`)), AUTH_FAILED);
      // Replaying the digest of the first challenge must not work either.
      const line3 = await c.command('AUTH CRAM-MD5');
      assert.match(line3, /^\+ /);
      assert.equal(await c.command(b64(`alice ${hmacMd5Hex(ALICE_SECRET, challenge)}`)), AUTH_FAILED);
      assert.match(await c.command(`AUTH CRAM-MD5 ${b64('alice 0123456789abcdef0123456789abcdef')}`), /^-ERR/);
      await assertNotLoggedIn(c);
    });

    it('an unknown mechanism is refused', async () => {
      const c = await connect();
      assert.match(await c.command('AUTH GSSAPI'), /^-ERR/);
      assert.match(await c.command('AUTH X-NOTHING'), /^-ERR/);
      await assertNotLoggedIn(c);
    });

    it('"*" cancels an exchange with -ERR and the session goes on', async () => {
      const c = await connect();
      assert.equal(await c.command('AUTH PLAIN'), '+ ');
      assert.match(await c.command('*'), /^-ERR/);
      await assertNotLoggedIn(c);
      // Cancel at the second step of LOGIN too.
      assert.equal(await c.command('AUTH LOGIN'), `+ ${b64('Username:')}`);
      assert.equal(await c.command(b64('alice')), `+ ${b64('Password:')}`);
      assert.match(await c.command('*'), /^-ERR/);
      // The next line is a command again, not SASL data: a normal login works.
      assert.equal(await c.command('USER alice'), '+OK');
      assert.equal(await c.command(`PASS ${ALICE_PASS}`), '+OK Logged in.');
      await assertLoggedInAndQuit(c);
    });

    it('invalid base64 is refused, in an initial response and in a continuation', async () => {
      const c = await connect();
      assert.match(await c.command('AUTH PLAIN not*base64!'), /^-ERR/);
      assert.equal(await c.command('AUTH PLAIN'), '+ ');
      assert.match(await c.command('YWxpY2U'), /^-ERR/, 'unpadded base64 is not valid');
      assert.equal(await c.command('AUTH LOGIN'), `+ ${b64('Username:')}`);
      assert.match(await c.command('%%%%'), /^-ERR/);
      await assertNotLoggedIn(c);
      await c.login('alice', ALICE_PASS);
      await assertLoggedInAndQuit(c);
    });

    it('accepts a continuation line of 60,000 octets of base64 (then the login fails normally)', async () => {
      const c = await connect();
      assert.equal(await c.command('AUTH PLAIN'), '+ ');
      const raw = Buffer.concat([Buffer.from('\0alice\0'), Buffer.alloc(45_000 - 7, 'x')]);
      const blob = b64(raw);
      assert.equal(blob.length, 60_000);
      assert.equal(await c.command(blob), AUTH_FAILED);
      assert.equal(await unreadAfter(c, 50), '', 'nothing else may follow the reply');
      await c.login('alice', ALICE_PASS);
      await assertLoggedInAndQuit(c);
    });

    it('refuses a continuation line over 65,536 octets as too long, as soon as the limit passes, and closes', async () => {
      const c = await connect();
      assert.equal(await c.command('AUTH PLAIN'), '+ ');
      const raw = Buffer.concat([Buffer.from(`\0alice\0${ALICE_PASS}`), Buffer.alloc(49_200, 'y')]);
      const blob = b64(raw);
      assert.ok(blob.length + 2 > 65_536, `blob is ${blob.length} octets`);
      // No line end: the answer must not wait for one.
      c.send(blob);
      const reply = await c.readLine();
      assert.match(reply, /^-ERR Line too long \(over 65536 octets\), closing connection\.$/);
      assert.equal(await c.closed(3000), '', 'nothing may follow the -ERR');
    });

    it('never writes back anything the client sent inside a SASL blob', async () => {
      const marker = 'MARKER-kq83zt';
      const evil = [
        `${marker}\r\n+OK ${marker}\0\0${marker}`,
        `\0${marker}\r\n\0${marker}`,
        `\0alice\0${marker}\r\n.\r\n`,
        `\0alice\0${marker}`,
        `${marker} 0123456789abcdef0123456789abcdef\r\n`,
      ];
      const blobs = evil.map((e) => b64(e));
      sensitive.push(...blobs, marker);
      const c = await connect();
      const replies: string[] = [];
      const run = async (line: string): Promise<string> => {
        const r = await c.command(line);
        replies.push(r);
        return r;
      };
      for (const blob of blobs) {
        // As an initial response.
        assert.match(await run(`AUTH PLAIN ${blob}`), /^-ERR/);
        // As a PLAIN continuation.
        assert.equal(await run('AUTH PLAIN'), '+ ');
        assert.match(await run(blob), /^-ERR/);
        // As the LOGIN user name (each holds NUL, CR or LF, so none is a valid name).
        assert.equal(await run('AUTH LOGIN'), `+ ${b64('Username:')}`);
        assert.match(await run(blob), /^-ERR/);
        // As the LOGIN password.
        assert.equal(await run(`AUTH LOGIN ${b64('alice')}`), `+ ${b64('Password:')}`);
        assert.match(await run(blob), /^-ERR/);
        // As the CRAM-MD5 answer.
        assert.match(await run('AUTH CRAM-MD5'), /^\+ /);
        assert.match(await run(blob), /^-ERR/);
      }
      // Not base64 at all: the raw text must not come back either.
      const notBase64 = `${marker}+/=${marker}`;
      assert.match(await run(`AUTH PLAIN ${notBase64}`), /^-ERR/);
      assert.equal(await run('AUTH LOGIN'), `+ ${b64('Username:')}`);
      assert.match(await run(notBase64), /^-ERR/);
      assert.match(await run('AUTH CRAM-MD5'), /^\+ /);
      assert.match(await run(`${notBase64}\0`), /^-ERR/);
      replies.push(await unreadAfter(c, 50));
      for (const r of replies) {
        assert.ok(!r.includes(marker), `reply echoes client data: ${JSON.stringify(r)}`);
        for (const blob of blobs) assert.ok(!r.includes(blob), `reply echoes a blob: ${JSON.stringify(r)}`);
      }
      await assertNotLoggedIn(c);
    });
  });

  describe('CAPA', () => {
    it('before login lists CAPA TOP UIDL RESP-CODES AUTH-RESP-CODE PIPELINING USER SASL IMPLEMENTATION', async () => {
      const c = await connect();
      const lines = await capa(c);
      for (const cap of ['CAPA', 'TOP', 'UIDL', 'RESP-CODES', 'AUTH-RESP-CODE', 'PIPELINING', 'USER']) {
        assert.ok(lines.includes(cap), `CAPA lacks ${cap}: ${JSON.stringify(lines)}`);
      }
      assert.deepEqual(saslLine(lines), ['PLAIN', 'LOGIN', 'CRAM-MD5']);
      assert.ok(
        lines.some((l) => /^IMPLEMENTATION \S/.test(l)),
        `no IMPLEMENTATION: ${JSON.stringify(lines)}`,
      );
      assert.ok(!lines.includes('STLS'), 'STLS on a listener without TLS');
      assert.ok(!lines.some((l) => l.startsWith('LOGIN-DELAY')), 'LOGIN-DELAY without config');
      assert.ok(!lines.some((l) => l.startsWith('EXPIRE')), 'EXPIRE without config');
    });

    it('after login lists no USER, SASL or STLS', async () => {
      const c = await connect();
      await c.login('alice', ALICE_PASS);
      const lines = await capa(c);
      for (const cap of ['CAPA', 'TOP', 'UIDL', 'RESP-CODES', 'PIPELINING']) assert.ok(lines.includes(cap), `CAPA lacks ${cap}`);
      assert.ok(!lines.includes('USER'), `USER after login: ${JSON.stringify(lines)}`);
      assert.equal(saslLine(lines), undefined, `SASL after login: ${JSON.stringify(lines)}`);
      assert.ok(!lines.includes('STLS'));
      await assertLoggedInAndQuit(c);
    });

    it('refuses USER, PASS, APOP and AUTH after login', async () => {
      const c = await connect();
      await c.login('alice', ALICE_PASS);
      assert.match(await c.command('USER alice'), /^-ERR/);
      assert.match(await c.command(`PASS ${ALICE_PASS}`), /^-ERR/);
      assert.match(await c.command(`AUTH PLAIN ${b64(`\0alice\0${ALICE_PASS}`)}`), /^-ERR/);
      await assertLoggedInAndQuit(c);
    });
  });

  it('no password, SASL blob, digest or secret appears in the logs', () => {
    assert.ok(
      gw.logs.some((l) => l.includes('login failed')),
      'expected failed logins to be logged',
    );
    assert.ok(
      gw.logs.some((l) => l.includes('"outcome":"ok"')),
      'expected successful logins to be logged',
    );
    assertNotInLogs(gw, sensitive);
  });
});

describe('authentication failure delay', () => {
  const DELAY = 200;
  let gw: TestGateway;
  const clients = new Clients();
  before(async () => {
    gw = await startTestGateway({
      users: { alice: { password: ALICE_PASS } },
      config: { limits: { authFailureDelayMs: DELAY } },
    });
  });
  afterEach(() => clients.closeAll());
  after(() => gw.stop());

  async function timedPass(c: Pop3TestClient, user: string, password: string): Promise<{ reply: string; ms: number }> {
    assert.equal(await c.command(`USER ${user}`), '+OK');
    const t0 = performance.now();
    const reply = await c.command(`PASS ${password}`);
    return { reply, ms: performance.now() - t0 };
  }

  it('wrong password and unknown user: identical reply, each delayed by at least authFailureDelayMs', async () => {
    const c = await clients.connect(gw.port);
    const wrong = await timedPass(c, 'alice', 'wrong-Pa55-9');
    const unknown = await timedPass(c, 'nosuchuser', ALICE_PASS);
    assert.equal(wrong.reply, AUTH_FAILED);
    assert.equal(unknown.reply, AUTH_FAILED);
    assert.ok(wrong.ms >= DELAY, `wrong password answered after ${wrong.ms.toFixed(1)} ms`);
    assert.ok(unknown.ms >= DELAY, `unknown user answered after ${unknown.ms.toFixed(1)} ms`);
  });

  it('a failed AUTH PLAIN is delayed too, a successful login is not', async () => {
    const c = await clients.connect(gw.port);
    let t0 = performance.now();
    assert.equal(await c.command(`AUTH PLAIN ${b64('\0alice\0wrong-Pa55-9')}`), AUTH_FAILED);
    const failMs = performance.now() - t0;
    assert.ok(failMs >= DELAY, `failed AUTH PLAIN answered after ${failMs.toFixed(1)} ms`);
    t0 = performance.now();
    assert.equal(await c.command(`AUTH PLAIN ${b64(`\0alice\0${ALICE_PASS}`)}`), '+OK Logged in.');
    assert.ok(performance.now() - t0 < DELAY + 1000);
    await assertLoggedInAndQuit(c);
  });

  it('no password appears in the logs', () => {
    assertNotInLogs(gw, [ALICE_PASS, 'wrong-Pa55-9', b64('\0alice\0wrong-Pa55-9'), b64(`\0alice\0${ALICE_PASS}`)]);
  });
});

describe('APOP and CRAM-MD5 availability', () => {
  const clients = new Clients();
  afterEach(() => clients.closeAll());

  it('no timestamp and no APOP when auth.apop is false, even with secrets', async () => {
    const gw = await startTestGateway({
      users: { alice: { password: ALICE_PASS, secret: ALICE_SECRET } },
      config: { auth: { apop: false, mechanisms: ['PLAIN', 'LOGIN', 'CRAM-MD5'] } },
    });
    try {
      const c = await clients.connect(gw.port);
      assert.equal(apopTimestamp(c.greeting), undefined, `greeting: ${c.greeting}`);
      assert.ok(!c.greeting.includes('<'), `greeting: ${c.greeting}`);
      // Whatever digest the client makes up, APOP is refused.
      assert.match(await c.command(`APOP alice ${md5Hex(ALICE_SECRET)}`), /^-ERR/);
      await assertNotLoggedIn(c);
      // CRAM-MD5 does not depend on auth.apop: it is offered since alice has a secret.
      assert.deepEqual(saslLine(await capa(c)), ['PLAIN', 'LOGIN', 'CRAM-MD5']);
    } finally {
      await clients.closeAll();
      await gw.stop();
    }
  });

  it('no timestamp, no APOP and no CRAM-MD5 when no user has a secret', async () => {
    const gw = await startTestGateway({
      users: { alice: { password: ALICE_PASS }, bob: { password: BOB_PASS } },
      config: { auth: { apop: true, mechanisms: ['PLAIN', 'LOGIN', 'CRAM-MD5'] } },
    });
    try {
      const c = await clients.connect(gw.port);
      assert.equal(apopTimestamp(c.greeting), undefined, `greeting: ${c.greeting}`);
      assert.ok(!c.greeting.includes('<'), `greeting: ${c.greeting}`);
      assert.match(await c.command(`APOP alice ${md5Hex(ALICE_PASS)}`), /^-ERR/);
      const lines = await capa(c);
      assert.deepEqual(saslLine(lines), ['PLAIN', 'LOGIN']);
      const listed = await c.lines('AUTH');
      assert.match(listed.status, /^\+OK/);
      assert.deepEqual(listed.lines, ['PLAIN', 'LOGIN']);
      const cram = await c.command('AUTH CRAM-MD5');
      assert.match(cram, /^-ERR/, 'CRAM-MD5 must not start an exchange that cannot succeed');
      await assertNotLoggedIn(c);
      await c.login('alice', ALICE_PASS);
      await assertLoggedInAndQuit(c);
    } finally {
      await clients.closeAll();
      await gw.stop();
    }
  });
});

describe('plaintext authentication policy', () => {
  const clients = new Clients();
  afterEach(() => clients.closeAll());

  it("'tls-only' on a plain listener: no USER, no SASL PLAIN/LOGIN; USER, PASS and AUTH PLAIN get -ERR [AUTH]", async () => {
    const gw = await startTestGateway({
      users: { alice: { password: ALICE_PASS, secret: ALICE_SECRET } },
      config: { allowPlaintextAuth: 'tls-only', auth: { mechanisms: ['PLAIN', 'LOGIN', 'CRAM-MD5'] } },
    });
    try {
      const c = await clients.connect(gw.port);
      const lines = await capa(c);
      assert.ok(!lines.includes('USER'), `CAPA: ${JSON.stringify(lines)}`);
      const sasl = saslLine(lines) ?? [];
      assert.ok(!sasl.includes('PLAIN') && !sasl.includes('LOGIN'), `CAPA: ${JSON.stringify(lines)}`);
      // CRAM-MD5 does not send the password, so it stays available.
      assert.deepEqual(sasl, ['CRAM-MD5']);
      assert.match(await c.command('USER alice'), /^-ERR \[AUTH\] /);
      assert.match(await c.command(`PASS ${ALICE_PASS}`), /^-ERR \[AUTH\] /);
      assert.match(await c.command(`AUTH PLAIN ${b64(`\0alice\0${ALICE_PASS}`)}`), /^-ERR \[AUTH\] /);
      assert.match(await c.command('AUTH LOGIN'), /^-ERR \[AUTH\] /);
      await assertNotLoggedIn(c);
      const listed = await c.lines('AUTH');
      assert.deepEqual(listed.lines, ['CRAM-MD5']);
      // CRAM-MD5 still logs in.
      const line = await c.command('AUTH CRAM-MD5');
      const digest = hmacMd5Hex(ALICE_SECRET, unb64(line.slice(2)));
      assert.equal(await c.command(b64(`alice ${digest}`)), '+OK Logged in.');
      await assertLoggedInAndQuit(c);
    } finally {
      await clients.closeAll();
      await gw.stop();
    }
  });

  it("'tls-only' with allowPlaintextAuthOnLoopback: USER and SASL PLAIN/LOGIN work from 127.0.0.1", async () => {
    const gw = await startTestGateway({
      users: { alice: { password: ALICE_PASS } },
      config: { allowPlaintextAuth: 'tls-only', allowPlaintextAuthOnLoopback: true },
    });
    try {
      const c = await clients.connect(gw.port);
      const lines = await capa(c);
      assert.ok(lines.includes('USER'), `CAPA: ${JSON.stringify(lines)}`);
      assert.deepEqual(saslLine(lines), ['PLAIN', 'LOGIN']);
      await c.login('alice', ALICE_PASS);
      await assertLoggedInAndQuit(c);
      const d = await clients.connect(gw.port);
      assert.equal(await d.command(`AUTH PLAIN ${b64(`\0alice\0${ALICE_PASS}`)}`), '+OK Logged in.');
      await assertLoggedInAndQuit(d);
    } finally {
      await clients.closeAll();
      await gw.stop();
    }
  });

  it("'never' refuses USER and PLAIN even under TLS", async () => {
    const gw = await startTestGateway({
      users: { alice: { password: ALICE_PASS } },
      listeners: [{ tls: 'starttls' }],
      config: { allowPlaintextAuth: 'never', allowPlaintextAuthOnLoopback: true },
    });
    try {
      const c = await clients.connect(gw.port);
      assert.match(await c.startTls({ ca: testCert().cert, servername: 'localhost' }), /^\+OK/);
      const lines = await capa(c);
      assert.ok(!lines.includes('USER'), `CAPA: ${JSON.stringify(lines)}`);
      assert.equal(saslLine(lines), undefined, `CAPA: ${JSON.stringify(lines)}`);
      assert.match(await c.command('USER alice'), /^-ERR \[AUTH\] /);
      assert.match(await c.command(`PASS ${ALICE_PASS}`), /^-ERR \[AUTH\] /);
      assert.match(await c.command(`AUTH PLAIN ${b64(`\0alice\0${ALICE_PASS}`)}`), /^-ERR \[AUTH\] /);
      await assertNotLoggedIn(c);
    } finally {
      await clients.closeAll();
      await gw.stop();
    }
  });

  it("'always' allows USER and SASL PLAIN/LOGIN without TLS", async () => {
    const gw = await startTestGateway({
      users: { alice: { password: ALICE_PASS } },
      config: { allowPlaintextAuth: 'always', allowPlaintextAuthOnLoopback: false },
    });
    try {
      const c = await clients.connect(gw.port);
      const lines = await capa(c);
      assert.ok(lines.includes('USER'));
      assert.deepEqual(saslLine(lines), ['PLAIN', 'LOGIN']);
      await c.login('alice', ALICE_PASS);
      await assertLoggedInAndQuit(c);
    } finally {
      await clients.closeAll();
      await gw.stop();
    }
  });
});

describe('LOGIN-DELAY and EXPIRE', () => {
  const clients = new Clients();
  afterEach(() => clients.closeAll());

  it('advertises LOGIN-DELAY and EXPIRE before and after login, and enforces LOGIN-DELAY', async () => {
    const gw = await startTestGateway({
      users: { alice: { password: ALICE_PASS } },
      config: { capabilities: { loginDelaySeconds: 60, expire: 30 } },
    });
    try {
      const c = await clients.connect(gw.port);
      let lines = await capa(c);
      assert.ok(lines.includes('LOGIN-DELAY 60'), `CAPA: ${JSON.stringify(lines)}`);
      assert.ok(lines.includes('EXPIRE 30'), `CAPA: ${JSON.stringify(lines)}`);
      await c.login('alice', ALICE_PASS);
      lines = await capa(c);
      assert.ok(lines.includes('LOGIN-DELAY 60'), `CAPA after login: ${JSON.stringify(lines)}`);
      assert.ok(lines.includes('EXPIRE 30'), `CAPA after login: ${JSON.stringify(lines)}`);
      await assertLoggedInAndQuit(c);
      const d = await clients.connect(gw.port);
      assert.equal(await d.command('USER alice'), '+OK');
      assert.match(await d.command(`PASS ${ALICE_PASS}`), /^-ERR \[LOGIN-DELAY\] /);
      await assertNotLoggedIn(d);
    } finally {
      await clients.closeAll();
      await gw.stop();
    }
  });

  it('EXPIRE NEVER', async () => {
    const gw = await startTestGateway({ users: { alice: { password: ALICE_PASS } }, config: { capabilities: { expire: 'never' } } });
    try {
      const c = await clients.connect(gw.port);
      const lines = await capa(c);
      assert.ok(lines.includes('EXPIRE NEVER'), `CAPA: ${JSON.stringify(lines)}`);
      assert.ok(!lines.some((l) => l.startsWith('LOGIN-DELAY')), `CAPA: ${JSON.stringify(lines)}`);
    } finally {
      await clients.closeAll();
      await gw.stop();
    }
  });
});

describe('too many failed logins', () => {
  const clients = new Clients();
  afterEach(() => clients.closeAll());

  it('closes the connection after maxBadCommands failed logins', async () => {
    const gw = await startTestGateway({
      users: { alice: { password: ALICE_PASS } },
      config: { limits: { authFailureDelayMs: 10, maxBadCommands: 3 } },
    });
    try {
      const c = await clients.connect(gw.port);
      for (let i = 1; i <= 2; i++) {
        assert.equal(await c.command('USER alice'), '+OK');
        assert.equal(await c.command(`PASS wrong-${i}`), AUTH_FAILED);
      }
      assert.equal(await c.command('USER alice'), '+OK');
      const third = await c.command('PASS wrong-3');
      assert.match(third, /^-ERR \[AUTH\] /);
      await c.closed(3000);
      assert.ok(c.isEnded);
      // A fresh connection may still log in.
      const d = await clients.connect(gw.port);
      await d.login('alice', ALICE_PASS);
      await assertLoggedInAndQuit(d);
      assertNotInLogs(gw, [ALICE_PASS, 'wrong-1', 'wrong-2', 'wrong-3']);
    } finally {
      await clients.closeAll();
      await gw.stop();
    }
  });

  it('counts failed SASL logins too', async () => {
    const gw = await startTestGateway({
      users: { alice: { password: ALICE_PASS } },
      config: { limits: { authFailureDelayMs: 10, maxBadCommands: 3 } },
    });
    try {
      const c = await clients.connect(gw.port);
      assert.equal(await c.command(`AUTH PLAIN ${b64('\0alice\0x1')}`), AUTH_FAILED);
      assert.equal(await c.command(`AUTH PLAIN ${b64('\0alice\0x2')}`), AUTH_FAILED);
      assert.match(await c.command(`AUTH PLAIN ${b64('\0alice\0x3')}`), /^-ERR \[AUTH\] /);
      await c.closed(3000);
    } finally {
      await clients.closeAll();
      await gw.stop();
    }
  });
});
