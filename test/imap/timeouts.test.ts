/**
 * commandTimeoutMs: a backend command that gets no answer fails with [SYS/TEMP] after about that
 * long, but a POP3 session that is merely quiet (the user between two commands, or a client
 * reading a big message slowly) must not lose its IMAP connection: the POP3 idle timeout
 * (10 minutes by default) is what limits those.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { startDovecot, type DovecotInstance } from '../helpers/dovecot.js';
import type { TestGateway } from '../helpers/gateway.js';
import { assertBytes, dovecotProcesses, eventually, listMailbox, messageIdOf, putMessages, startImapGateway, taggedMessage } from '../helpers/imap-harness.js';
import { StreamingPop3, wireAnswer } from '../helpers/imap-net.js';
import { expectedBody, expectedSize, loggedIn, waitForNoSessions } from '../helpers/tx-util.js';

const COMMAND_TIMEOUT_MS = 1000;
/** How long the tests stay quiet: well past commandTimeoutMs, far below the POP3 idle timeout. */
const QUIET_MS = 3 * COMMAND_TIMEOUT_MS;

describe('IMAP commandTimeoutMs', () => {
  let dovecot: DovecotInstance;
  let gw: TestGateway;
  const small = [1, 2, 3].map((i) => taggedMessage(`quiet-${i}`));
  const big = taggedMessage('quiet-big', `${'y'.repeat(78)}\n`.repeat(60_000));
  let stopped: number[] = [];
  /** Sockets of the current test, destroyed after it whatever happened. */
  const open: { destroy(): void }[] = [];
  before(async () => {
    dovecot = await startDovecot({ protocols: ['imap'] });
    gw = await startImapGateway(dovecot.imapPort, { tenant: { commandTimeoutMs: COMMAND_TIMEOUT_MS } });
  });
  afterEach(async () => {
    for (const pid of stopped) process.kill(pid, 'SIGCONT');
    stopped = [];
    for (const c of open.splice(0)) c.destroy();
    await waitForNoSessions(gw);
  });
  after(async () => {
    await gw?.stop();
    await dovecot?.stop();
  });

  async function fresh(): Promise<void> {
    await dovecot.doveadm(['expunge', '-u', 'alice', 'mailbox', 'INBOX', 'all']);
    putMessages(dovecot, [...small, big]);
  }

  it('a session quiet for longer than commandTimeoutMs still retrieves and deletes', async () => {
    await fresh();
    const c = await loggedIn(gw);
    open.push(c);
    assert.match(await c.command('DELE 1'), /^\+OK/);
    await delay(QUIET_MS); // the user reads mail; the POP3 idle timeout is 600 s
    const r = await c.multiline('RETR 2');
    assert.equal(r.status, `+OK ${expectedSize(small[1] as string)} octets`, 'RETR after a quiet spell');
    assertBytes(r.body, expectedBody(small[1] as string), 'RETR 2');
    assert.equal(await c.quit(), '+OK Logging out, 1 messages deleted.');
    assert.deepEqual(
      (await listMailbox(dovecot)).map((m) => m.messageId),
      ['quiet-2', 'quiet-3', 'quiet-big'].map(messageIdOf),
    );
  });

  it('a client that stops reading a big message for longer than commandTimeoutMs still gets all of it', async () => {
    await fresh();
    const c = await StreamingPop3.connect(gw.port);
    open.push(c);
    await c.login('alice', 'alicepass');
    assert.equal(await c.command('RETR 4'), `+OK ${expectedSize(big)} octets`);
    c.socket.pause();
    await delay(QUIET_MS); // a slow client: the gateway is held back by the socket meanwhile
    c.socket.resume();
    const wire = wireAnswer(expectedBody(big));
    const r = await c.checkBody(wire, 30_000);
    assert.equal(r.mismatchAt, undefined);
    assert.equal(r.complete, true, `received ${r.received} of ${wire.length} octets, then the connection ${r.closed ? 'closed' : 'stalled'}`);
    assert.match(await c.command('QUIT'), /^\+OK/);
  });

  it('an IMAP server that stops answering fails RETR with [SYS/TEMP] after about commandTimeoutMs, and QUIT deletes nothing', async () => {
    await fresh();
    const c = await loggedIn(gw);
    open.push(c);
    assert.match(await c.command('DELE 1'), /^\+OK/);
    const imap = await eventually(
      () => dovecotProcesses(dovecot, 'imap'),
      (p) => p.length === 1,
      'one imap process',
    );
    for (const pid of imap) process.kill(pid, 'SIGSTOP');
    stopped = imap;
    const started = Date.now();
    const answer = await c.command('RETR 2', 20_000);
    const ms = Date.now() - started;
    assert.match(answer, /^-ERR \[SYS\/TEMP\] /);
    assert.ok(ms >= COMMAND_TIMEOUT_MS - 100 && ms < COMMAND_TIMEOUT_MS + 5000, `answered after ${ms} ms`);
    assert.match(await c.quit(), /^-ERR \[SYS\/TEMP\] /);
    for (const pid of stopped) process.kill(pid, 'SIGCONT');
    stopped = [];
    assert.equal((await listMailbox(dovecot)).length, 4, 'nothing deleted');
  });
});
