/**
 * A Redis that holds only sizes (`sessionState: process`: locks stay in the process) is never
 * required to serve. Stopped mid-way, logins and STAT go on (sizes are counted from the store
 * instead), the outage is one error line however many logins meet it, and once Redis is back
 * the sizes counted from then on are written to it again. A gateway that starts while Redis is
 * down serves too. (With the session state in Redis, the default, logins need it: see
 * session-outage.test.ts.)
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { crlf } from '../contract/suite.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { RedisServer } from '../helpers/redis-server.js';
import { restTenant, REST_TOKEN } from '../helpers/rest-gateway.js';
import { startRestStore, type RestStoreServer } from '../helpers/rest-store.js';
import { loggedIn, sleep, waitUntil } from '../helpers/tx-util.js';

const msg = (i: number): Buffer => Buffer.from(`Subject: ${i}\n\n${'line\n'.repeat(i + 1)}`);
const statOf = (raws: readonly Buffer[]): string => `+OK ${raws.length} ${raws.reduce((a, r) => a + crlf(r).length, 0)}`;

/** Redis's error lines (level 50) and info lines about it in a gateway's log. */
function redisLines(gw: TestGateway, level: number): string[] {
  return gw.logs.flatMap((line) => {
    const j = JSON.parse(line) as { level: number; msg?: string };
    return j.level === level && j.msg?.startsWith('redis:') === true ? [j.msg] : [];
  });
}

describe('redis holding sizes only: an outage costs requests, never a login', () => {
  let redis: RedisServer;
  let store: RestStoreServer;
  const gateways: TestGateway[] = [];
  const raws: Buffer[] = [];
  const gateway = async (url: string): Promise<TestGateway> => {
    const gw = await startTestGateway({
      tenantConfig: ({ usersFile }) => restTenant(store.baseUrl, usersFile),
      config: { redis: { url, sessionState: 'process' } },
    });
    gateways.push(gw);
    return gw;
  };
  /** Adds `n` messages to alice's mailbox. */
  const deliver = (n: number): void => {
    for (let i = 0; i < n; i++) raws.push(store.add('alice', msg(raws.length)).raw);
  };
  const statCounting = async (gw: TestGateway): Promise<{ reply: string; gets: number }> => {
    const before = store.calls.get;
    const c = await loggedIn(gw);
    const reply = await c.command('STAT');
    await c.quit();
    return { reply, gets: store.calls.get - before };
  };
  /** Sizes in Redis, once there are `atLeast` or after 2 s (the gateway writes them after it answers). */
  const storedSizes = async (atLeast = 0): Promise<number> => {
    const client = redis.client();
    try {
      const deadline = Date.now() + 2000;
      let n = (await client.keys('popgate:size:*')).length;
      while (n < atLeast && Date.now() < deadline) {
        await sleep(20);
        n = (await client.keys('popgate:size:*')).length;
      }
      return n;
    } finally {
      client.disconnect();
    }
  };
  before(async () => {
    redis = await RedisServer.start();
    store = await startRestStore({ auth: { kind: 'bearer', token: REST_TOKEN }, sizes: false, etags: true });
    store.seed('alice', []);
  });
  after(async () => {
    for (const gw of gateways) await gw.stop();
    await store?.stop();
    await redis?.stop();
  });

  it('Redis stopped: STAT counts from the store, one log line; Redis back: new sizes are written to it again', async () => {
    const gw = await gateway(redis.url);
    deliver(4);
    assert.deepEqual(await statCounting(gw), { reply: statOf(raws), gets: 4 });
    assert.equal(await storedSizes(4), 4, 'written while Redis was up');

    await redis.pause();
    deliver(3);
    assert.deepEqual(await statCounting(gw), { reply: statOf(raws), gets: 3 }, 'the new messages are counted, the others are in memory');
    deliver(1);
    assert.deepEqual(await statCounting(gw), { reply: statOf(raws), gets: 1 }, 'a later login meets the same outage');
    await waitUntil(() => redisLines(gw, 50).length > 0, 'the outage to be logged');
    assert.equal(redisLines(gw, 50).length, 1, `one error line for the outage: ${redisLines(gw, 50).join(' | ')}`);

    await redis.resume();
    await waitUntil(() => redisLines(gw, 30).includes('redis: working again'), 'the reconnection', 10_000);
    assert.equal(await storedSizes(), 0, 'the restarted Redis is empty (no persistence)');
    deliver(2);
    assert.deepEqual(await statCounting(gw), { reply: statOf(raws), gets: 2 });
    assert.equal(await storedSizes(2), 2, 'the sizes counted after the outage are in Redis');
    assert.equal(redisLines(gw, 50).length, 1, 'still one error line');

    // Another instance: only what the outage kept from Redis is counted again.
    const other = await gateway(redis.url);
    assert.deepEqual(await statCounting(other), { reply: statOf(raws), gets: raws.length - 2 });
  });

  it('a hung Redis (connected, silent) costs one login the command timeout, then is left alone', async () => {
    const gw = await gateway(redis.url);
    deliver(1);
    assert.equal((await statCounting(gw)).reply, statOf(raws), 'connected, sizes from Redis or counted');
    redis.hang(true);
    try {
      deliver(1);
      let started = Date.now();
      assert.deepEqual(await statCounting(gw), { reply: statOf(raws), gets: 1 });
      const hungMs = Date.now() - started;
      assert.ok(hungMs >= 1500 && hungMs < 4000, `waited about the 2 s command timeout (${hungMs} ms)`);
      deliver(1);
      started = Date.now();
      assert.deepEqual(await statCounting(gw), { reply: statOf(raws), gets: 1 });
      assert.ok(Date.now() - started < 1000, `the next login does not wait on Redis (${Date.now() - started} ms)`);
      assert.equal(redisLines(gw, 50).length, 1);
      assert.match(gw.logs.find((l) => l.includes('"level":50')) ?? '', /Command timed out/);
    } finally {
      redis.hang(false);
    }
  });

  it('a gateway whose Redis is down at start-up serves, and says so once', async () => {
    const down = await RedisServer.start();
    const url = `redis://:not-logged-secret@127.0.0.1:${down.port}/2`;
    await down.stop();
    const gw = await gateway(url);
    const first = await statCounting(gw);
    assert.equal(first.reply, statOf(raws));
    assert.equal(first.gets, raws.length, 'every size counted (nothing in memory yet, no Redis)');
    assert.equal((await statCounting(gw)).gets, 0, 'then held in memory');
    await waitUntil(() => redisLines(gw, 50).length > 0, 'the outage to be logged');
    assert.equal(redisLines(gw, 50).length, 1);
    assert.ok(!gw.logs.some((l) => l.includes('not-logged-secret')), 'the password in the Redis URL is never logged');
    assert.match(
      gw.logs.find((l) => l.includes('"level":50') && l.includes('redis:')) ?? '',
      new RegExp(`"redis":"127\\.0\\.0\\.1:${down.port}"`),
      'the line names host and port',
    );
  });
});
