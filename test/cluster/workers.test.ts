/**
 * `workers: 2` as a real `popgate serve` process tree (a primary and two workers) on a private
 * redis-server: connections are served by both workers, the maildrop lock holds across them, a
 * worker killed with SIGKILL is replaced while the other's sessions go on, SIGHUP reloads every
 * worker, SIGUSR2 reports each, and SIGTERM drains them all.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startGatewayProcess, SharedMailboxes, type GatewayProcess } from '../helpers/gateway-process.js';
import { addMessage, messageFiles, sampleMessage } from '../helpers/maildir.js';
import { Pop3TestClient } from '../helpers/pop3-client.js';
import { RedisServer } from '../helpers/redis-server.js';
import { sleep } from '../helpers/tx-util.js';

const USERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank'];
const TTL_SECONDS = 2;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('workers: 2', () => {
  let redis: RedisServer;
  let boxes: SharedMailboxes;
  let gw: GatewayProcess;
  const settings = (): Record<string, unknown> => ({
    workers: 2,
    redis: { url: redis.url, lockTtlSeconds: TTL_SECONDS },
    limits: { authFailureDelayMs: 50, shutdownGraceSeconds: 20 },
  });
  const open: Pop3TestClient[] = [];

  /** Logs `user` in; the pid of the worker that served it (from its login line). */
  const loginOn = async (user: string): Promise<{ c: Pop3TestClient; pid: number }> => {
    const from = gw.logs().length;
    const c = await Pop3TestClient.connect(gw.port);
    open.push(c);
    await c.login(user, `${user}pass`);
    const line = await gw.waitForLine('login', { login: user }, 5000, from);
    return { c, pid: line.pid as number };
  };
  /** The pids of the workers the primary reported ready, by worker number (the latest of each). */
  const readyWorkers = (): Map<number, number> => new Map(gw.lines('worker ready').map((l) => [l.worker as number, l.workerPid as number]));

  before(async () => {
    redis = await RedisServer.start();
    boxes = await SharedMailboxes.create(USERS);
    for (const u of USERS) for (let i = 1; i <= 3; i++) addMessage(boxes.maildir(u), sampleMessage(i));
    gw = await startGatewayProcess(boxes, settings());
    await gw.waitForLine('all workers ready', { workers: 2 }, 20_000);
  });
  after(async () => {
    for (const c of open) c.destroy();
    for (const pid of readyWorkers().values()) if (alive(pid)) process.kill(pid, 'SIGKILL');
    gw?.kill();
    await redis?.stop();
    boxes?.remove();
  });

  it('serves connections from both workers, and the maildrop lock holds across them', async () => {
    const workers = [...readyWorkers().values()].sort();
    assert.equal(workers.length, 2);
    const sessions = [];
    for (const user of USERS) sessions.push({ user, ...(await loginOn(user)) });
    const pids = new Set(sessions.map((s) => s.pid));
    assert.deepEqual([...pids].sort(), workers, 'each worker served some of the six logins');
    assert.ok(!pids.has(gw.proc.child.pid as number), 'the primary serves none itself');

    // alice again, until one attempt lands on the worker that does not hold her session.
    const holder = sessions[0]!.pid;
    const refusedBy = new Set<number>();
    for (let i = 0; i < 6 && !refusedBy.has(workers.find((p) => p !== holder)!); i++) {
      const from = gw.logs().length;
      const c = await Pop3TestClient.connect(gw.port);
      assert.equal(await c.command('USER alice'), '+OK');
      assert.match(await c.command('PASS alicepass'), /^-ERR \[IN-USE\] /);
      refusedBy.add((await gw.waitForLine('login refused: in-use', {}, 5000, from)).pid as number);
      c.destroy();
    }
    assert.ok(refusedBy.size === 2, `refused [IN-USE] by the other worker too (${[...refusedBy].join(', ')})`);
    for (const s of sessions) assert.match(await s.c.quit(), /^\+OK/);
  });

  it('a worker killed with SIGKILL is replaced; the other worker\u2019s sessions go on and delete', async () => {
    const sessions = [];
    for (const user of USERS.slice(0, 4)) sessions.push({ user, ...(await loginOn(user)) });
    const victim = sessions[0]!.pid;
    const victimNumber = [...readyWorkers()].find(([, pid]) => pid === victim)![0];
    const survivors = sessions.filter((s) => s.pid !== victim);
    const cut = sessions.filter((s) => s.pid === victim);
    assert.ok(survivors.length > 0, 'sessions on both workers');
    for (const s of sessions) assert.match(await s.c.command('DELE 1'), /^\+OK/);

    const from = gw.logs().length;
    process.kill(victim, 'SIGKILL');
    for (const s of cut) await s.c.closed(5000);
    const died = await gw.waitForLine('worker died; starting another', { workerPid: victim }, 5000, from);
    assert.equal(died.signal, 'SIGKILL');
    assert.equal(died.worker, victimNumber);
    const replaced = await gw.waitForLine('worker ready', { worker: victimNumber }, 20_000, from);
    const replacement = replaced.workerPid as number;
    assert.notEqual(replacement, victim);
    assert.ok(alive(replacement));

    for (const s of survivors) {
      const before = messageFiles(boxes.maildir(s.user)).length;
      assert.match(await s.c.command('STAT'), /^\+OK 2 /, `${s.user}'s session goes on`);
      assert.match(await s.c.quit(), /^\+OK Logging out, 1 messages deleted/);
      assert.equal(messageFiles(boxes.maildir(s.user)).length, before - 1);
    }
    for (const s of cut) assert.equal(messageFiles(boxes.maildir(s.user)).length, 3, `${s.user}'s cut session deleted nothing`);

    // The replacement serves: new logins land on it (its lock TTL has freed the cut users too).
    await sleep(TTL_SECONDS * 1000);
    const served = new Set<number>();
    for (let i = 0; i < 6 && !served.has(replacement); i++) {
      const { c, pid } = await loginOn(USERS[i % USERS.length]!);
      served.add(pid);
      await c.quit();
    }
    assert.ok(served.has(replacement), `the new worker serves (${[...served].join(', ')})`);
  });

  it('SIGHUP reloads the config in every worker; SIGUSR2 reports each worker', async () => {
    const workers = readyWorkers();
    let from = gw.logs().length;
    gw.signal('SIGUSR2');
    const report = (await gw.waitForLine('workers', {}, 5000, from)).workers as { worker: number; pid: number; sessions: number }[];
    assert.deepEqual(
      report.map((w) => [w.worker, w.pid]),
      [...workers].sort(([a], [b]) => a - b),
    );

    from = gw.logs().length;
    boxes.writeConfig({ ...boxes.config(gw.port, settings()), capabilities: { expire: 30 } }, gw.configPath);
    gw.signal('SIGHUP');
    for (const pid of workers.values()) await gw.waitForLine('config reloaded', { pid }, 10_000, from);
    for (let i = 0; i < 4; i++) {
      const c = await Pop3TestClient.connect(gw.port);
      const capa = await c.lines('CAPA');
      assert.ok(capa.lines.includes('EXPIRE 30'), `new sessions get the new config: ${capa.lines.join(' ')}`);
      await c.quit();
    }
  });

  it('SIGTERM drains every worker: no new sessions, running ones finish and delete, then all exit', async () => {
    const sessions = [];
    for (const user of ['erin', 'frank', 'bob', 'carol']) sessions.push({ user, ...(await loginOn(user)) });
    assert.equal(new Set(sessions.map((s) => s.pid)).size, 2, 'sessions on both workers');
    for (const s of sessions) assert.match(await s.c.command('DELE 1'), /^\+OK/);
    const workers = [...readyWorkers().values()];

    gw.signal('SIGTERM');
    for (const pid of workers) await gw.waitForLine('shutdown: waiting for sessions', { pid }, 5000);
    await assert.rejects(
      async () => {
        const late = await Pop3TestClient.connect(gw.port);
        late.destroy();
      },
      /ECONNREFUSED/,
      'the listeners are closed',
    );
    for (const s of sessions) {
      const before = messageFiles(boxes.maildir(s.user)).length;
      assert.match(await s.c.quit(), /^\+OK Logging out, 1 messages deleted/, `${s.user}'s session finishes`);
      assert.equal(messageFiles(boxes.maildir(s.user)).length, before - 1);
    }
    assert.deepEqual(await gw.exited(20_000), { code: 0, signal: null });
    await sleep(200);
    assert.deepEqual(
      workers.filter((pid) => alive(pid)),
      [],
      'every worker exited',
    );
  });
});
