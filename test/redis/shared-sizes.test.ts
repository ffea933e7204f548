/**
 * With `redis`, exact sizes counted by one gateway instance are read by another instead of being
 * counted again: Gmail, REST and S3 tenants, each with two gateways (their own processes' worth
 * of state: own stores, caches and Redis connections) on one private redis-server. Also the key
 * layout (`<keyPrefix>size:<tenant>:<adapter>:<message key>`, with an expiry), and that a
 * `stateDir` is not written when the gateway has Redis.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { crlf } from '../contract/suite.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { ALICE_GMAIL, startGmailGateway } from '../helpers/gmail-gateway.js';
import { startGmailStandin, type GmailStandin } from '../helpers/gmail-standin.js';
import { RedisServer } from '../helpers/redis-server.js';
import { restTenant, REST_TOKEN } from '../helpers/rest-gateway.js';
import { etagOf, startRestStore, type RestStoreServer } from '../helpers/rest-store.js';
import { startS3Proxy, type S3Proxy } from '../helpers/s3-proxy.js';
import { ALICE_PREFIX, startS3Gateway } from '../helpers/s3-gateway.js';
import { startS3rver, type S3rver } from '../helpers/s3rver.js';
import { loggedIn, sleep } from '../helpers/tx-util.js';

const msg = (i: number): Buffer => Buffer.from(`Subject: ${i}\n\n${'line\n'.repeat(i + 1)}`);
const statOf = (raws: readonly Buffer[]): string => `+OK ${raws.length} ${raws.reduce((a, r) => a + crlf(r).length, 0)}`;
const TTL_90_DAYS = 90 * 24 * 3600;

async function stat(gw: TestGateway, user = 'alice', password = 'alicepass'): Promise<string> {
  const c = await loggedIn(gw, user, password);
  const reply = await c.command('STAT');
  await c.quit();
  return reply;
}

describe('redis: sizes shared by gateway instances', () => {
  let redis: RedisServer;
  const gateways: TestGateway[] = [];
  const started = async (gw: Promise<TestGateway>): Promise<TestGateway> => {
    const g = await gw;
    gateways.push(g);
    return g;
  };
  /** The keys matching `pattern` once there are `count` (the gateway writes them after it answers). */
  const keysOf = async (pattern: string, count: number): Promise<string[]> => {
    const client = redis.client();
    try {
      const deadline = Date.now() + 5000;
      let keys = await client.keys(pattern);
      while (keys.length < count && Date.now() < deadline) {
        await sleep(20);
        keys = await client.keys(pattern);
      }
      return keys.sort();
    } finally {
      client.disconnect();
    }
  };
  before(async () => {
    redis = await RedisServer.start();
  });
  after(async () => {
    for (const gw of gateways) await gw.stop();
    await redis?.stop();
  });

  describe('REST', () => {
    let store: RestStoreServer;
    const stateDir = mkdtempSync(join(tmpdir(), 'popgate-redis-rest-'));
    before(async () => {
      store = await startRestStore({ auth: { kind: 'bearer', token: REST_TOKEN }, sizes: false, etags: true });
    });
    after(async () => {
      await store?.stop();
      rmSync(stateDir, { recursive: true, force: true });
    });
    const gateway = (): Promise<TestGateway> =>
      started(
        startTestGateway({
          tenantConfig: ({ usersFile }) => restTenant(store.baseUrl, usersFile, { stateDir }),
          config: { redis: { url: redis.url } },
        }),
      );

    it('a second gateway reads the sizes the first counted, from keys popgate:size:main:rest:<mailbox>/<id>/<etag>', async () => {
      const raws = Array.from({ length: 5 }, (_, i) => msg(i));
      store.seed(
        'alice',
        raws.map((raw, i) => ({ raw, id: `r ${i}` })),
      );
      const [a, b] = [await gateway(), await gateway()];
      let gets = store.calls.get;
      assert.equal(await stat(a), statOf(raws));
      assert.equal(store.calls.get - gets, 5, 'the first gateway counts each message');
      const want = raws.map((raw, i) => `popgate:size:main:rest:alice/r%20${i}/${etagOf(raw)}`).sort();
      assert.deepEqual(await keysOf('popgate:size:main:rest:*', 5), want);
      const client = redis.client();
      try {
        const first = `popgate:size:main:rest:alice/r%200/${etagOf(raws[0] as Buffer)}`;
        assert.equal(await client.get(first), String(crlf(raws[0] as Buffer).length), 'the value is the CRLF size in decimal');
        const ttl = await client.ttl(first);
        assert.ok(ttl > TTL_90_DAYS - 60 && ttl <= TTL_90_DAYS, `expires in about 90 days (${ttl} s)`);
      } finally {
        client.disconnect();
      }

      gets = store.calls.get;
      assert.equal(await stat(b), statOf(raws));
      assert.equal(store.calls.get - gets, 0, 'the second gateway reads no message');
      assert.ok(!existsSync(join(stateDir, 'rest-sizes.jsonl')), 'with Redis, stateDir gets no size file');
    });
  });

  describe('Gmail', () => {
    let standin: GmailStandin;
    before(async () => {
      standin = await startGmailStandin();
      for (let i = 0; i < 8; i++) standin.add(ALICE_GMAIL.user, msg(i));
    });
    after(() => standin?.close());

    it('a second gateway reads every size from Redis: no messages.get', async () => {
      const gateway = (): Promise<TestGateway> => started(startGmailGateway(standin, { config: { redis: { url: redis.url, keyPrefix: 'pg-test:' } } }));
      const [a, b] = [await gateway(), await gateway()];
      standin.resetCounts();
      const want = statOf(Array.from({ length: 8 }, (_, i) => msg(i)));
      assert.equal(await stat(a, ALICE_GMAIL.user, ALICE_GMAIL.password), want);
      assert.equal(standin.counts.get, 8);
      const keys = await keysOf('pg-test:size:main:gmail:*', 8);
      assert.equal(keys.length, 8, 'one key per message, under the configured prefix');
      assert.ok(
        keys.every((k) => k.startsWith(`pg-test:size:main:gmail:${ALICE_GMAIL.user}/`)),
        keys.join(' '),
      );
      assert.equal(await stat(b, ALICE_GMAIL.user, ALICE_GMAIL.password), want);
      assert.equal(standin.counts.get, 8, 'the second gateway asked Google for no message');
    });
  });

  describe('S3', () => {
    let s3: S3rver;
    let proxy: S3Proxy;
    before(async () => {
      s3 = await startS3rver();
      proxy = await startS3Proxy(s3.port);
    });
    after(async () => {
      await proxy?.stop();
      await s3?.stop();
    });

    it('a second gateway reads every exact size from Redis: no GetObject', async () => {
      const raws = Array.from({ length: 4 }, (_, i) => msg(i));
      for (const [i, raw] of raws.entries()) await s3.put(`${ALICE_PREFIX}m${i}`, raw);
      const gateway = (): Promise<TestGateway> =>
        started(startS3Gateway(proxy.endpoint, { tenant: { deleteMode: 'keep' }, config: { redis: { url: redis.url } } }));
      const [a, b] = [await gateway(), await gateway()];
      const objectGets = (): number => proxy.requests.filter((r) => r.method === 'GET' && !r.query.has('list-type')).length;
      proxy.clear();
      assert.equal(await stat(a), statOf(raws));
      assert.equal(objectGets(), 4);
      assert.equal((await keysOf('popgate:size:main:s3:*', 4)).length, 4);
      assert.equal(await stat(b), statOf(raws));
      assert.equal(objectGets(), 4, 'the second gateway read no object');
    });
  });
});
