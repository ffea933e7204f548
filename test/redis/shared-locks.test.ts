/**
 * The session state in Redis (the default with `redis`), shared by real gateway processes on one
 * redis-server and one set of mailboxes: the maildrop lock holds across processes, the lock of a
 * process killed with SIGKILL expires after the lock TTL, QUIT deletes nothing once the lock is
 * lost (the fence), LOGIN-DELAY and a tenant's maxConnections count every process's logins, and
 * the counts of a killed process expire too.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startGatewayProcess, SharedMailboxes, type GatewayProcess } from '../helpers/gateway-process.js';
import { addMessage, messageFiles, sampleMessage } from '../helpers/maildir.js';
import { Pop3TestClient } from '../helpers/pop3-client.js';
import { RedisServer } from '../helpers/redis-server.js';
import { sleep } from '../helpers/tx-util.js';

const TTL_SECONDS = 2;
const USERS = ['alice', 'bob', 'carol', 'dave'];

/** A connected client and its PASS answer. */
async function tryLogin(gw: GatewayProcess, user: string): Promise<{ c: Pop3TestClient; reply: string }> {
  const c = await Pop3TestClient.connect(gw.port);
  assert.equal(await c.command(`USER ${user}`), '+OK');
  return { c, reply: await c.command(`PASS ${user}pass`) };
}

/** Logs in (asserting +OK). */
async function login(gw: GatewayProcess, user: string): Promise<Pop3TestClient> {
  const { c, reply } = await tryLogin(gw, user);
  assert.match(reply, /^\+OK/, `${user} logs in`);
  return c;
}

/** Tries to log in every 100 ms until +OK; the milliseconds it took. */
async function loginOnceFree(gw: GatewayProcess, user: string, refused: RegExp, timeoutMs: number): Promise<{ c: Pop3TestClient; ms: number }> {
  const started = Date.now();
  for (;;) {
    const { c, reply } = await tryLogin(gw, user);
    if (reply.startsWith('+OK')) return { c, ms: Date.now() - started };
    assert.match(reply, refused);
    c.destroy();
    if (Date.now() - started > timeoutMs) throw new Error(`${user} still refused after ${timeoutMs} ms: ${reply}`);
    await sleep(100);
  }
}

describe('redis session state: two gateway processes, one Redis', () => {
  let redis: RedisServer;
  let boxes: SharedMailboxes;
  const processes: GatewayProcess[] = [];
  const gateway = async (tenant: Record<string, unknown> = {}): Promise<GatewayProcess> => {
    const gw = await startGatewayProcess(boxes, { redis: { url: redis.url, lockTtlSeconds: TTL_SECONDS } }, tenant);
    processes.push(gw);
    return gw;
  };
  const redisKeys = async (pattern: string): Promise<string[]> => {
    const client = redis.client();
    try {
      return (await client.keys(pattern)).sort();
    } finally {
      client.disconnect();
    }
  };
  let a: GatewayProcess;
  let b: GatewayProcess;

  before(async () => {
    redis = await RedisServer.start();
    boxes = await SharedMailboxes.create(USERS);
    for (const u of USERS) for (let i = 1; i <= 3; i++) addMessage(boxes.maildir(u), sampleMessage(i));
    [a, b] = await Promise.all([gateway(), gateway()]);
  });
  after(async () => {
    for (const gw of processes) gw.kill();
    await redis?.stop();
    boxes?.remove();
  });

  it('a mailbox open on one process is [IN-USE] on the other until its QUIT; the lock and the session count are Redis keys', async () => {
    const first = await login(a, 'alice');
    const other = await login(b, 'bob');
    const locks = await redisKeys('popgate:lock:*');
    assert.equal(locks.length, 2, `one lock per open maildrop: ${locks.join(', ')}`);
    assert.ok(
      locks.every((k) => k.startsWith('popgate:lock:main/')),
      locks.join(', '),
    );
    const client = redis.client();
    try {
      assert.equal(await client.zcard('popgate:sessions:main'), 2, 'both processes count their session in the tenant set');
      const ttl = await client.pttl(locks[0] as string);
      assert.ok(ttl > 0 && ttl <= TTL_SECONDS * 1000, `the lock expires (${ttl} ms)`);
    } finally {
      client.disconnect();
    }

    const second = await tryLogin(b, 'alice');
    assert.match(second.reply, /^-ERR \[IN-USE\] /);
    assert.match(await first.command('STAT'), /^\+OK 3 /, 'the first session is unaffected');
    assert.match(await first.quit(), /^\+OK/);
    assert.match(await second.c.command('PASS alicepass'), /^-ERR /, 'PASS without USER');
    assert.equal(await second.c.command('USER alice'), '+OK');
    assert.match(await second.c.command('PASS alicepass'), /^\+OK/, 'free once the holder quit');
    await second.c.quit();
    await other.quit();
    assert.deepEqual(await redisKeys('popgate:lock:*'), [], 'released locks are deleted');
  });

  it('a lock renewed past its TTL while the session lives; the lock of a process killed with SIGKILL expires after the TTL, nothing deleted', async () => {
    const doomed = await gateway();
    const before = messageFiles(boxes.maildir('carol'));
    const held = await login(doomed, 'carol');
    assert.match(await held.command('DELE 1'), /^\+OK/);
    await sleep(TTL_SECONDS * 1000 + 500);
    assert.match((await tryLogin(b, 'carol')).reply, /^-ERR \[IN-USE\] /, 'still held after a whole TTL: renewed');
    assert.match(await held.command('NOOP'), /^\+OK/);

    doomed.kill();
    await doomed.exited();
    const killedAt = Date.now();
    const refusedAtOnce = await tryLogin(b, 'carol');
    assert.match(refusedAtOnce.reply, /^-ERR \[IN-USE\] /, 'the dead process still holds the lock');
    refusedAtOnce.c.destroy();
    const { c, ms } = await loginOnceFree(b, 'carol', /^-ERR \[IN-USE\] /, 10_000);
    const sinceKill = Date.now() - killedAt;
    assert.ok(sinceKill <= TTL_SECONDS * 1000 + 600, `free within the TTL of the last renewal (${sinceKill} ms after the kill, ${ms} ms polling)`);
    assert.match(await c.command('STAT'), /^\+OK 3 /, 'the killed session deleted nothing');
    await c.quit();
    assert.deepEqual(messageFiles(boxes.maildir('carol')), before);
  });

  it('fencing: the lock key deleted mid-session lets another session in, and the first QUIT then deletes nothing while the new holder deletes', async () => {
    const md = boxes.maildir('dave');
    const before = messageFiles(md);
    const first = await login(a, 'dave');
    assert.match(await first.command('DELE 1'), /^\+OK/);
    const [lock] = await redisKeys('popgate:lock:*');
    assert.ok(lock !== undefined, 'the lock is in Redis');
    const client = redis.client();
    try {
      assert.equal(await client.del(lock), 1);
    } finally {
      client.disconnect();
    }
    const intruder = await login(b, 'dave');
    assert.match(await first.command('DELE 2'), /^\+OK/);
    const quit = await first.quit();
    assert.match(quit, /^-ERR \[SYS\/TEMP\] .*nothing was deleted/, quit);
    assert.deepEqual(messageFiles(md), before, 'the session that lost its lock deleted nothing');
    await a.waitForLine('maildrop lock lost or unconfirmable; nothing deleted', { outcome: 'lock-not-confirmed', marked: 2 });

    assert.match(await intruder.command('DELE 3'), /^\+OK/);
    assert.match(await intruder.quit(), /^\+OK Logging out, 1 messages deleted/, 'the holder deletes');
    assert.equal(messageFiles(md).length, before.length - 1);
  });

  it('LOGIN-DELAY counts logins on every process', async () => {
    const [c, d] = await Promise.all([gateway({ loginDelaySeconds: 2 }), gateway({ loginDelaySeconds: 2 })]);
    const first = await login(c, 'bob');
    assert.match(await first.quit(), /^\+OK/);
    const loggedAt = Date.now();
    const refused = await tryLogin(d, 'bob');
    assert.match(refused.reply, /^-ERR \[LOGIN-DELAY\] /, 'the other process knows of the login');
    refused.c.destroy();
    const [key] = await redisKeys('popgate:login:*');
    assert.ok(key?.startsWith('popgate:login:main/'), String(key));
    const again = await loginOnceFree(d, 'bob', /^-ERR \[LOGIN-DELAY\] /, 5000);
    const waited = Date.now() - loggedAt;
    assert.ok(waited >= 1800 && waited <= 3000, `allowed again after the 2 s delay (${waited} ms)`);
    await again.c.quit();
    c.kill();
    d.kill();
  });

  it('a tenant maxConnections counts sessions on every process, and a killed process stops counting after the TTL', async () => {
    const [c, d] = await Promise.all([gateway({ maxConnections: 2 }), gateway({ maxConnections: 2 })]);
    const onC = await login(c, 'alice');
    const onD = await login(d, 'bob');
    for (const gw of [c, d]) {
      const over = await tryLogin(gw, 'carol');
      assert.match(over.reply, /^-ERR \[SYS\/TEMP\] Too many sessions/, 'the third session of the tenant, on either process');
      over.c.destroy();
    }
    await onC.quit();
    const carol = await login(d, 'carol');

    // d holds both sessions (bob, carol); killed, they stop counting once their TTL runs out.
    d.kill();
    await d.exited();
    const killedAt = Date.now();
    const { c: alice } = await loginOnceFree(c, 'alice', /^-ERR \[SYS\/TEMP\] Too many sessions/, 10_000);
    const { c: dave } = await loginOnceFree(c, 'dave', /^-ERR \[SYS\/TEMP\] Too many sessions/, 10_000);
    assert.ok(Date.now() - killedAt <= TTL_SECONDS * 1000 + 600, `both of its sessions counted out within the TTL (${Date.now() - killedAt} ms)`);
    const third = await tryLogin(c, 'bob');
    assert.match(third.reply, /^-ERR \[SYS\/TEMP\] Too many sessions/, 'the cap still holds');
    third.c.destroy();
    onD.destroy();
    carol.destroy();
    await alice.quit();
    await dave.quit();
    c.kill();
  });
});
