/**
 * One IMAP connection per POP3 session, and none left behind: sessions that QUIT, are cut
 * mid-session, mid-RETR or mid-login, fail to log in, are refused [IN-USE], or are ended by a
 * gateway shutdown all leave Dovecot with no IMAP connection or process for the user. Counted
 * three ways: a proxy between gateway and Dovecot, `doveadm who`, and TCP connections to the
 * IMAP port in /proc/net/tcp.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { startDovecot, type DovecotInstance } from '../helpers/dovecot.js';
import type { TestGateway } from '../helpers/gateway.js';
import { dovecotProcesses, dovecotSessions, eventually, openConnectionsTo, putMessages, startImapGateway, taggedMessage } from '../helpers/imap-harness.js';
import { countingProxy, type CountingProxy } from '../helpers/imap-net.js';
import { Pop3TestClient } from '../helpers/pop3-client.js';
import { waitForNoSessions } from '../helpers/tx-util.js';

const USERS = ['alice', 'bob', 'carol', 'dave', 'erin'] as const;
const password = (u: string): string => `${u}-secret`;

describe('IMAP connections: one per POP3 session, no leaks', () => {
  let dovecot: DovecotInstance;
  let proxy: CountingProxy;
  let gw: TestGateway;
  before(async () => {
    dovecot = await startDovecot({
      protocols: ['imap'],
      users: Object.fromEntries(USERS.map((u) => [u, password(u)])),
      mailMaxUseripConnections: 100,
    });
    for (const u of USERS) {
      putMessages(dovecot, [taggedMessage(`${u}-1`), taggedMessage(`${u}-2`, 'x'.repeat(76).concat('\n').repeat(40_000)), taggedMessage(`${u}-3`)], u);
    }
    proxy = await countingProxy(dovecot.imapPort);
    gw = await startImapGateway(proxy.port, { limits: { authFailureDelayMs: 0 } });
  });
  afterEach(async () => {
    // Every test ends with nothing open, whatever it did.
    await waitForNoSessions(gw);
    await assertNoImapLeft();
  });
  after(async () => {
    await gw?.stop();
    await proxy?.close();
    await dovecot?.stop();
  });

  async function imapSessions(): Promise<number> {
    let n = 0;
    for (const u of USERS) n += await dovecotSessions(dovecot, u);
    return n;
  }

  async function assertNoImapLeft(): Promise<void> {
    await eventually(
      () => proxy.open,
      (n) => n === 0,
      'the gateway to close every IMAP connection',
    );
    await eventually(
      () => openConnectionsTo(dovecot.imapPort),
      (n) => n === 0,
      'no open TCP connection to the IMAP port',
    );
    await eventually(
      () => imapSessions(),
      (n) => n === 0,
      'doveadm who to show no IMAP session',
    );
    await eventually(
      () => dovecotProcesses(dovecot, 'imap').length,
      (n) => n === 0,
      'no imap process left in Dovecot',
    );
  }

  async function login(user: string, pass = password(user)): Promise<{ c: Pop3TestClient; answer: string }> {
    const c = await Pop3TestClient.connect(gw.port);
    await c.command(`USER ${user}`);
    return { c, answer: await c.command(`PASS ${pass}`) };
  }

  it('N concurrent sessions use exactly N IMAP connections, however many commands they send', async () => {
    const accepted = proxy.accepted;
    const sessions: Pop3TestClient[] = [];
    for (const u of USERS) {
      const { c, answer } = await login(u);
      assert.equal(answer, '+OK Logged in.', u);
      sessions.push(c);
    }
    assert.equal(proxy.open, USERS.length);
    assert.equal(await imapSessions(), USERS.length, 'doveadm who');
    for (const c of sessions) {
      assert.match(await c.command('STAT'), /^\+OK 3 /);
      assert.match((await c.lines('LIST')).status, /^\+OK/);
      assert.match((await c.lines('UIDL')).status, /^\+OK/);
      assert.match((await c.multiline('RETR 1')).status, /^\+OK/);
      assert.match((await c.multiline('RETR 2')).status, /^\+OK/);
      assert.match((await c.multiline('TOP 3 0')).status, /^\+OK/);
      assert.match(await c.command('DELE 3'), /^\+OK/);
      assert.match(await c.command('RSET'), /^\+OK/);
      assert.match(await c.command('NOOP'), /^\+OK/);
    }
    assert.equal(proxy.accepted - accepted, USERS.length, 'one IMAP connection per session, no reconnects');
    assert.equal(openConnectionsTo(dovecot.imapPort), USERS.length);
    // The last one deletes a message at QUIT: the UPDATE state uses the same connection.
    assert.match(await (sessions.at(-1) as Pop3TestClient).command('DELE 1'), /^\+OK/);
    for (const c of sessions) assert.match(await c.quit(), /^\+OK/);
    assert.equal(proxy.accepted - accepted, USERS.length, 'no extra IMAP connection for QUIT');
  });

  it('20 sessions that QUIT or are cut (mid-session, mid-RETR, right after PASS) leave nothing behind', async () => {
    const accepted = proxy.accepted;
    let logins = 0;
    for (let i = 0; i < 20; i++) {
      const kind = i % 4;
      const { c, answer } = kind === 3 ? await cutDuringLogin() : await login('alice');
      logins++;
      if (kind === 0) {
        assert.equal(answer, '+OK Logged in.');
        assert.match((await c.multiline('RETR 1')).status, /^\+OK/);
        assert.match(await c.quit(), /^\+OK/);
      } else if (kind === 1) {
        assert.equal(answer, '+OK Logged in.');
        assert.match(await c.command('STAT'), /^\+OK/);
        c.destroy();
      } else if (kind === 2) {
        assert.equal(answer, '+OK Logged in.');
        // Cut while the 3 MB message is being streamed.
        assert.match(await c.command('RETR 2'), /^\+OK/);
        c.destroy();
      }
      await waitForNoSessions(gw);
      // The next login for the same mailbox must not meet this session's leftovers.
      await eventually(
        () => proxy.open,
        (n) => n === 0,
        `session ${i} to close its IMAP connection`,
      );
    }
    assert.equal(proxy.accepted - accepted, logins, 'one IMAP connection per login');
  });

  async function cutDuringLogin(): Promise<{ c: Pop3TestClient; answer: string }> {
    const c = await Pop3TestClient.connect(gw.port);
    await c.command('USER alice');
    const accepted = proxy.accepted;
    c.send(`PASS ${password('alice')}\r\n`);
    // Cut as soon as the gateway has started talking to IMAP.
    await eventually(
      () => proxy.accepted,
      (n) => n > accepted,
      'the gateway to connect to IMAP',
    );
    c.destroy();
    return { c, answer: '' };
  }

  it('failed logins (wrong password, unknown user) leave nothing behind', async () => {
    for (let i = 0; i < 5; i++) {
      const { c, answer } = await login(i % 2 === 0 ? 'alice' : 'nobody', 'wrong');
      assert.equal(answer, '-ERR [AUTH] Authentication failed.');
      c.destroy();
    }
  });

  it('a second login to a mailbox in use is [IN-USE] and its IMAP connection is closed at once', async () => {
    const first = await login('bob');
    assert.equal(first.answer, '+OK Logged in.');
    const second = await login('bob');
    assert.match(second.answer, /^-ERR \[IN-USE\] /);
    await eventually(
      () => proxy.open,
      (n) => n === 1,
      'only the first session’s IMAP connection to stay open',
    );
    assert.match(await first.c.command('STAT'), /^\+OK 3 /);
    second.c.destroy();
    assert.match(await first.c.quit(), /^\+OK/);
  });

  it('stopping the gateway closes the IMAP connections of running sessions', async () => {
    const own = await startImapGateway(proxy.port, { limits: { authFailureDelayMs: 0 } });
    const clients: Pop3TestClient[] = [];
    try {
      for (const u of ['carol', 'dave', 'erin']) {
        const c = await Pop3TestClient.connect(own.port);
        await c.login(u, password(u));
        clients.push(c);
      }
      assert.equal(proxy.open, 3);
    } finally {
      await own.stop(0);
    }
    for (const c of clients) assert.match(await c.closed(), /^-ERR \[SYS\/TEMP\]|^$/);
  });
});
