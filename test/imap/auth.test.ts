/**
 * IMAP passthrough logins: the POP3 password is checked by the IMAP server itself. Right and
 * wrong passwords (USER/PASS, AUTH PLAIN, AUTH LOGIN), the methods that cannot be passed on
 * (APOP, CRAM-MD5) are not offered, and a backend that is down, mute, drops LOGIN, refuses for a
 * non-credential reason, or lacks the folder gives [SYS/TEMP] / [SYS/PERM], never [AUTH].
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { b64, capa, Clients, apopTimestamp, md5Hex, saslLine } from '../helpers/auth-helpers.js';
import { freePort } from '../helpers/client-run.js';
import { startDovecot, type DovecotInstance } from '../helpers/dovecot.js';
import type { TestGateway } from '../helpers/gateway.js';
import { closeImap, eventually, openImap, putMessages, startImapGateway, taggedMessage } from '../helpers/imap-harness.js';
import { fakeServer, type FakeServer } from '../helpers/imap-net.js';
import { Pop3TestClient } from '../helpers/pop3-client.js';
import { expectedSize } from '../helpers/tx-util.js';

const AUTH_FAILED = '-ERR [AUTH] Authentication failed.';
const FAILURE_DELAY_MS = 700;
/** Spaces, quotes, a backslash, braces, a percent sign and UTF-8: IMAP needs a quoted string or a literal for it. */
const ODD_PASSWORD = 'p w "q" \\ {3} % é日';

describe('IMAP passthrough authentication against Dovecot', () => {
  let dovecot: DovecotInstance;
  let gw: TestGateway;
  const clients = new Clients();
  before(async () => {
    dovecot = await startDovecot({ protocols: ['imap'], users: { alice: 'alicepass', zoe: ODD_PASSWORD } });
    putMessages(dovecot, [taggedMessage('auth-1'), taggedMessage('auth-2'), taggedMessage('auth-3')]);
    putMessages(dovecot, [taggedMessage('zoe-1')], 'zoe');
    gw = await startImapGateway(dovecot.imapPort, {
      limits: { authFailureDelayMs: FAILURE_DELAY_MS },
      // Everything switched on that could be offered: an IMAP-only gateway has no shared secrets.
      config: { auth: { apop: true, mechanisms: ['PLAIN', 'LOGIN', 'CRAM-MD5'] } },
    });
  });
  afterEach(() => clients.closeAll());
  after(async () => {
    await gw?.stop();
    await dovecot?.stop();
  });

  it('USER/PASS with the IMAP password logs in and shows the IMAP folder', async () => {
    const c = await clients.connect(gw.port);
    assert.equal(await c.command('USER alice'), '+OK');
    assert.equal(await c.command('PASS alicepass'), '+OK Logged in.');
    assert.match(await c.command('STAT'), /^\+OK 3 \d+$/);
    assert.match(await c.quit(), /^\+OK/);
    await eventually(
      () => dovecot.logTail(200),
      (l) => /imap-login: Info: Login: user=<alice>/.test(l),
      'Dovecot to log the IMAP login',
    );
  });

  it('a wrong password answers exactly -ERR [AUTH] Authentication failed. after authFailureDelayMs; the connection stays usable', async () => {
    const c = await clients.connect(gw.port);
    assert.equal(await c.command('USER alice'), '+OK');
    const started = Date.now();
    const answer = await c.command('PASS wrong-password');
    const elapsed = Date.now() - started;
    assert.equal(answer, AUTH_FAILED);
    assert.ok(elapsed >= FAILURE_DELAY_MS - 20, `answered after ${elapsed} ms, before the ${FAILURE_DELAY_MS} ms failure delay`);
    // A second try with the right password on the same connection works.
    assert.equal(await c.command('USER alice'), '+OK');
    assert.equal(await c.command('PASS alicepass'), '+OK Logged in.');
    assert.match(await c.command('STAT'), /^\+OK 3 /);
  });

  it('an unknown IMAP user gets the same [AUTH] answer as a wrong password', async () => {
    const c = await clients.connect(gw.port);
    await c.command('USER nobody');
    const started = Date.now();
    assert.equal(await c.command('PASS whatever'), AUTH_FAILED);
    assert.ok(Date.now() - started >= FAILURE_DELAY_MS - 20);
  });

  it('AUTH PLAIN (initial response and continuation) passes the password through to IMAP', async () => {
    const c1 = await clients.connect(gw.port);
    assert.equal(await c1.command(`AUTH PLAIN ${b64('\0alice\0alicepass')}`), '+OK Logged in.');
    assert.match(await c1.command('STAT'), /^\+OK 3 /);
    await c1.quit();

    const c2 = await clients.connect(gw.port);
    assert.equal(await c2.command('AUTH PLAIN'), '+ ');
    assert.equal(await c2.command(b64('alice\0alice\0alicepass')), '+OK Logged in.');
    assert.match(await c2.command('STAT'), /^\+OK 3 /);
    await c2.quit();

    const c3 = await clients.connect(gw.port);
    assert.equal(await c3.command(`AUTH PLAIN ${b64('\0alice\0not-it')}`), AUTH_FAILED);
  });

  it('AUTH LOGIN passes the password through to IMAP', async () => {
    const c = await clients.connect(gw.port);
    assert.equal(await c.command('AUTH LOGIN'), `+ ${b64('Username:')}`);
    assert.equal(await c.command(b64('alice')), `+ ${b64('Password:')}`);
    assert.equal(await c.command(b64('alicepass')), '+OK Logged in.');
    assert.match(await c.command('STAT'), /^\+OK 3 /);
    await c.quit();

    const bad = await clients.connect(gw.port);
    await bad.command('AUTH LOGIN');
    await bad.command(b64('alice'));
    assert.equal(await bad.command(b64('wrong')), AUTH_FAILED);
  });

  it('offers neither APOP (no greeting timestamp) nor CRAM-MD5 (not in CAPA SASL), even when configured', async () => {
    const c = await clients.connect(gw.port);
    assert.equal(apopTimestamp(c.greeting), undefined, `greeting without an APOP timestamp: ${c.greeting}`);
    assert.doesNotMatch(c.greeting, /<[^>]*>/);
    const lines = await capa(c);
    assert.deepEqual(saslLine(lines), ['PLAIN', 'LOGIN'], `CAPA: ${lines.join(' | ')}`);
    const list = await c.lines('AUTH');
    assert.equal(list.status.startsWith('+OK'), true);
    assert.deepEqual(list.lines, ['PLAIN', 'LOGIN']);
    assert.match(await c.command(`APOP alice ${md5Hex('<1.2@x>alicepass')}`), /^-ERR/);
    assert.match(await c.command('AUTH CRAM-MD5'), /^-ERR/);
    // The connection is still in AUTHORIZATION and a plain login works.
    await c.login('alice', 'alicepass');
  });

  it('a password with spaces, quotes, a backslash and UTF-8 reaches IMAP unchanged (PASS and AUTH PLAIN)', async () => {
    const c1 = await clients.connect(gw.port);
    assert.equal(await c1.command('USER zoe'), '+OK');
    assert.equal(await c1.command(`PASS ${ODD_PASSWORD}`), '+OK Logged in.');
    assert.match(await c1.command('STAT'), /^\+OK 1 /);
    await c1.quit();
    const c2 = await clients.connect(gw.port);
    assert.equal(await c2.command(`AUTH PLAIN ${b64(`\0zoe\0${ODD_PASSWORD}`)}`), '+OK Logged in.');
    await c2.quit();
    const c3 = await clients.connect(gw.port);
    await c3.command('USER zoe');
    assert.equal(await c3.command(`PASS ${ODD_PASSWORD.slice(0, -1)}`), AUTH_FAILED);
  });

  it('a configured folder other than INBOX is the maildrop', async () => {
    await dovecot.doveadm(['mailbox', 'create', '-u', 'alice', 'Work']);
    await dovecot.doveadm(['save', '-u', 'alice', '-m', 'Work'], taggedMessage('work-1', 'In the Work folder.\n'));
    const work = await startImapGateway(dovecot.imapPort, { tenant: { folder: 'Work' } });
    try {
      const c = await Pop3TestClient.connect(work.port);
      await c.login('alice', 'alicepass');
      assert.equal(await c.command('STAT'), `+OK 1 ${expectedSize(taggedMessage('work-1', 'In the Work folder.\n'))}`);
      assert.match((await c.multiline('TOP 1 0')).body.toString('latin1'), /^Subject: work-1\r$/m);
      await c.quit();
    } finally {
      await work.stop();
    }
  });

  it('a missing folder is -ERR [SYS/PERM] (with the right password), a wrong password there is still [AUTH]', async () => {
    const nope = await startImapGateway(dovecot.imapPort, { tenant: { folder: 'Nope' } });
    try {
      const c = await Pop3TestClient.connect(nope.port);
      await c.command('USER alice');
      assert.match(await c.command('PASS alicepass'), /^-ERR \[SYS\/PERM\] /);
      await c.command('USER alice');
      assert.equal(await c.command('PASS wrong'), AUTH_FAILED);
      c.destroy();
    } finally {
      await nope.stop();
    }
  });

  it('an IMAP login refused for a non-credential reason (too many connections, [LIMIT]) is not reported as [AUTH]', async () => {
    const limited = await startDovecot({ protocols: ['imap'], mailMaxUseripConnections: 1 });
    const gw2 = await startImapGateway(limited.imapPort);
    const holder = await openImap(limited);
    try {
      const c = await Pop3TestClient.connect(gw2.port);
      await c.command('USER alice');
      const answer = await c.command('PASS alicepass');
      const log = await eventually(
        () => limited.logTail(40),
        (l) => /Maximum number of connections/.test(l),
        'Dovecot to log that it refused because of the connection limit',
      );
      // The password was right: [AUTH] would make a client ask the user for a new password.
      assert.match(answer, /^-ERR \[(SYS\/TEMP|IN-USE)\] /, `answer ${answer}; Dovecot log:\n${log}`);
      c.destroy();
    } finally {
      await closeImap(holder);
      await gw2.stop();
      await limited.stop();
    }
  });
});

describe('IMAP backend unreachable or misbehaving', () => {
  const fakes: FakeServer[] = [];
  const gateways: TestGateway[] = [];
  after(async () => {
    for (const g of gateways) await g.stop();
    for (const f of fakes) await f.close();
  });

  async function loginOn(port: number, tenant: Record<string, unknown> = {}): Promise<{ answer: string; ms: number; gw: TestGateway }> {
    const gw = await startImapGateway(port, { tenant, limits: { authFailureDelayMs: 0 } });
    gateways.push(gw);
    const c = await Pop3TestClient.connect(gw.port);
    await c.command('USER alice');
    const started = Date.now();
    const answer = await c.command('PASS alicepass', 20_000);
    const ms = Date.now() - started;
    c.destroy();
    return { answer, ms, gw };
  }

  it('a closed IMAP port is -ERR [SYS/TEMP]', async () => {
    const port = await freePort();
    const { answer, ms } = await loginOn(port);
    assert.match(answer, /^-ERR \[SYS\/TEMP\] /);
    assert.ok(ms < 5000, `answered after ${ms} ms`);
  });

  it('a server that accepts TCP but never greets is -ERR [SYS/TEMP] after about connectTimeoutMs, and the connection to it is closed', async () => {
    const silent = await fakeServer();
    fakes.push(silent);
    const { answer, ms } = await loginOn(silent.port, { connectTimeoutMs: 500 });
    assert.match(answer, /^-ERR \[SYS\/TEMP\] /);
    assert.ok(ms >= 450, `gave up after ${ms} ms, before connectTimeoutMs`);
    assert.ok(ms < 3000, `gave up after ${ms} ms; connectTimeoutMs is 500`);
    assert.equal(silent.accepted, 1);
    await eventually(
      () => silent.open,
      (n) => n === 0,
      'the gateway to close its connection to the mute server',
    );
  });

  it('a server that drops the connection during LOGIN is [SYS/TEMP], not [AUTH] (an outage, not a wrong password)', async () => {
    const dropper = await fakeServer({
      onConnect: (s) => s.write('* OK [CAPABILITY IMAP4rev1 LITERAL+ AUTH=PLAIN] fake ready\r\n'),
      onLine: (s, line) => {
        const [tag, cmd] = line.split(' ');
        if (/^(LOGIN|AUTHENTICATE)$/i.test(cmd ?? '')) s.destroy();
        else if (/^CAPABILITY$/i.test(cmd ?? '')) s.write(`* CAPABILITY IMAP4rev1 LITERAL+ AUTH=PLAIN\r\n${tag} OK done\r\n`);
        else s.write(`${tag} OK done\r\n`);
      },
    });
    fakes.push(dropper);
    const { answer } = await loginOn(dropper.port);
    assert.ok(
      dropper.received.some((l) => /^\S+ (LOGIN|AUTHENTICATE) /i.test(l)),
      `the gateway tried to log in: ${dropper.received.join(' | ')}`,
    );
    assert.match(answer, /^-ERR \[SYS\/TEMP\] /);
  });

  it('a server that refuses LOGIN with [UNAVAILABLE] is [SYS/TEMP]', async () => {
    const busy = await fakeServer({
      onConnect: (s) => s.write('* OK [CAPABILITY IMAP4rev1] fake ready\r\n'),
      onLine: (s, line) => {
        const [tag, cmd] = line.split(' ');
        if (/^LOGIN$/i.test(cmd ?? '')) s.write(`${tag} NO [UNAVAILABLE] Backend down, try later\r\n`);
        else if (/^CAPABILITY$/i.test(cmd ?? '')) s.write(`* CAPABILITY IMAP4rev1\r\n${tag} OK done\r\n`);
        else s.write(`${tag} OK done\r\n`);
      },
    });
    fakes.push(busy);
    const { answer } = await loginOn(busy.port);
    assert.match(answer, /^-ERR \[SYS\/TEMP\] /);
  });
});
