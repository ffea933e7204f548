/**
 * With the session state in Redis (the default), a Redis outage refuses new logins with
 * [SYS/TEMP] at once instead of letting them in without a lock; running sessions go on, and a
 * QUIT that would delete deletes nothing unless its lock is confirmed. Each process logs the
 * outage once, and logins work again without a restart when Redis does.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startGatewayProcess, SharedMailboxes, type GatewayProcess } from '../helpers/gateway-process.js';
import { addMessage, messageFiles, sampleMessage } from '../helpers/maildir.js';
import { Pop3TestClient } from '../helpers/pop3-client.js';
import { RedisServer } from '../helpers/redis-server.js';
import { sleep } from '../helpers/tx-util.js';

const USERS = ['alice', 'bob', 'carol', 'dave'];
const OUTAGE =
  'redis: unreachable or failing: new logins are refused with [SYS/TEMP] (the maildrop locks are there) and message sizes are measured, until it works again';

/** The PASS answer and how long USER + PASS took. */
async function timedLogin(gw: GatewayProcess, user: string): Promise<{ c: Pop3TestClient; reply: string; ms: number }> {
  const c = await Pop3TestClient.connect(gw.port);
  const started = Date.now();
  assert.equal(await c.command(`USER ${user}`), '+OK');
  const reply = await c.command(`PASS ${user}pass`, 15_000);
  return { c, reply, ms: Date.now() - started };
}

async function login(gw: GatewayProcess, user: string): Promise<Pop3TestClient> {
  const { c, reply } = await timedLogin(gw, user);
  assert.match(reply, /^\+OK/, `${user} logs in`);
  return c;
}

/** Retries while the answer is [SYS/TEMP]; the first other answer. */
async function loginOnceRedisWorks(gw: GatewayProcess, user: string, timeoutMs = 15_000): Promise<{ c: Pop3TestClient; reply: string }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { c, reply } = await timedLogin(gw, user);
    if (!reply.startsWith('-ERR [SYS/TEMP]')) return { c, reply };
    c.destroy();
    if (Date.now() > deadline) throw new Error(`still ${reply} after ${timeoutMs} ms`);
    await sleep(200);
  }
}

const outageLines = (gw: GatewayProcess): Record<string, unknown>[] => gw.logs().filter((l) => l.level === 50 && l.msg === OUTAGE);

describe('redis session state: outages', () => {
  let redis: RedisServer;
  let boxes: SharedMailboxes;
  let a: GatewayProcess;
  let b: GatewayProcess;

  before(async () => {
    redis = await RedisServer.start();
    boxes = await SharedMailboxes.create(USERS);
    for (const u of USERS) for (let i = 1; i <= 3; i++) addMessage(boxes.maildir(u), sampleMessage(i));
    // A long TTL: a lock left behind by the outage would show as [IN-USE] afterwards.
    const settings = { redis: { url: redis.url, lockTtlSeconds: 30 } };
    [a, b] = await Promise.all([startGatewayProcess(boxes, settings, { maxConnections: 3 }), startGatewayProcess(boxes, settings, { maxConnections: 3 })]);
  });
  after(async () => {
    a?.kill();
    b?.kill();
    await redis?.stop();
    boxes?.remove();
  });

  it('Redis stopped: new logins get [SYS/TEMP] at once on every process, running sessions go on and delete nothing, one log line; Redis back: logins work', async () => {
    const alice = await login(a, 'alice');
    assert.match(await alice.command('DELE 1'), /^\+OK/);
    const bob = await login(b, 'bob');
    const carol = await login(b, 'carol');
    assert.match(await carol.command('DELE 1'), /^\+OK/);
    const before = messageFiles(boxes.maildir('alice'));
    const carolBefore = messageFiles(boxes.maildir('carol'));

    await redis.pause();
    for (const gw of [a, b]) {
      for (const user of ['dave', 'dave', 'bob']) {
        const { c, reply, ms } = await timedLogin(gw, user);
        assert.match(reply, /^-ERR \[SYS\/TEMP\] Cannot lock the mailbox now/);
        assert.ok(ms < 1500, `refused at once (${ms} ms)`);
        c.destroy();
      }
    }
    assert.match(await alice.command('STAT'), /^\+OK 2 /, 'a running session goes on');
    assert.match(await bob.command('RETR 1'), /^\+OK/);
    await bob.readMultiline();
    const quit = await alice.quit();
    assert.match(quit, /^-ERR \[SYS\/TEMP\] .*nothing was deleted/, quit);
    assert.deepEqual(messageFiles(boxes.maildir('alice')), before, 'no deletion without a confirmed lock');
    assert.match(await bob.quit(), /^\+OK Logging out\./, 'a QUIT with nothing to delete needs no lock');
    for (const gw of [a, b]) assert.equal(outageLines(gw).length, 1, 'one error line per process for the whole outage');
    assert.ok(!a.logs().some((l) => l.level === 50 && l.msg !== OUTAGE), 'no other error lines');

    await redis.resume();
    for (const gw of [a, b]) {
      const { c, reply } = await loginOnceRedisWorks(gw, gw === a ? 'alice' : 'bob');
      assert.match(reply, /^\+OK/, 'logins work again without a restart, and no lock was left behind');
      assert.match(await c.command('DELE 1'), /^\+OK/);
      assert.match(await c.quit(), /^\+OK Logging out, 1 messages deleted/, 'and delete again');
      await gw.waitForLine('redis: working again');
      assert.equal(outageLines(gw).length, 1);
    }
    assert.equal(messageFiles(boxes.maildir('alice')).length, before.length - 1);
    // The restart lost every lock (no persistence): a session from before it cannot confirm its
    // own, even though Redis works again.
    const carolQuit = await carol.quit();
    assert.match(carolQuit, /^-ERR \[SYS\/TEMP\] .*nothing was deleted/, carolQuit);
    assert.deepEqual(messageFiles(boxes.maildir('carol')), carolBefore);
    // The restarted (empty) Redis holds the locks again: [IN-USE] across processes.
    const held = await login(a, 'dave');
    const other = await timedLogin(b, 'dave');
    assert.match(other.reply, /^-ERR \[IN-USE\] /);
    other.c.destroy();
    await held.quit();
  });

  it('Redis hung: a login waits the command timeout once then [SYS/TEMP], the next at once; a QUIT deletes nothing; nothing is left counted or locked after', async () => {
    const dave = await login(a, 'dave');
    assert.match(await dave.command('DELE 1'), /^\+OK/);
    const before = messageFiles(boxes.maildir('dave'));
    redis.hang(true);
    try {
      const first = await timedLogin(b, 'carol');
      assert.match(first.reply, /^-ERR \[SYS\/TEMP\] Cannot lock the mailbox now/);
      assert.ok(first.ms >= 1500 && first.ms < 4000, `about the 2 s command timeout (${first.ms} ms)`);
      first.c.destroy();
      const next = await timedLogin(b, 'carol');
      assert.match(next.reply, /^-ERR \[SYS\/TEMP\] /);
      assert.ok(next.ms < 1000, `then at once (${next.ms} ms)`);
      next.c.destroy();
      const quit = await dave.quit();
      assert.match(quit, /^-ERR \[SYS\/TEMP\] .*nothing was deleted/, quit);
      assert.deepEqual(messageFiles(boxes.maildir('dave')), before);
    } finally {
      redis.hang(false);
    }
    // The timed-out entry was undone once Redis answered: the tenant (cap 3) has room for three.
    const { c: carol, reply } = await loginOnceRedisWorks(b, 'carol');
    assert.match(reply, /^\+OK/);
    // Each process leaves Redis alone for a few seconds after its own failed command.
    const others = [carol, (await loginOnceRedisWorks(a, 'alice')).c, await login(b, 'bob')];
    assert.match(await others[1]!.command('NOOP'), /^\+OK/, 'alice is logged in');
    const over = await timedLogin(a, 'dave');
    assert.match(over.reply, /^-ERR \[SYS\/TEMP\] Too many sessions/, 'the fourth is over the cap');
    over.c.destroy();
    for (const c of others) await c.quit();
    const again = await login(a, 'dave');
    assert.match(await again.command('STAT'), /^\+OK 3 /, 'nothing was deleted during the hang');
    await again.quit();
  });
});
