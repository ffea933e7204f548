/**
 * Failures: S3 throttling (503 SlowDown, in S3's error format, from the test proxy) is retried
 * with the SDK's back-off and the client never notices; persistent throttling or s3rver killed
 * (at login or between commands) is -ERR [SYS/TEMP] and deletes nothing; credentials s3rver does
 * not know (it refuses unknown access key ids, 403 InvalidAccessKeyId; it does not check SigV4
 * secrets) and a missing bucket are -ERR [SYS/PERM] with a clear log line; an object removed
 * after the listing is -ERR for that message only; a {domain} prefix for a login without one
 * is [SYS/PERM].
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestGateway } from '../helpers/gateway.js';
import { Pop3TestClient } from '../helpers/pop3-client.js';
import { startS3Proxy, type S3Proxy, type ProxiedRequest } from '../helpers/s3-proxy.js';
import { ALICE_PREFIX, logLines, startS3Gateway } from '../helpers/s3-gateway.js';
import { startS3rver, type S3rver } from '../helpers/s3rver.js';
import { expectedBody, loggedIn } from '../helpers/tx-util.js';

const GONE = '-ERR Message was removed by another client.';
const TEMP = /^-ERR \[SYS\/TEMP\] /;
const PERM = /^-ERR \[SYS\/PERM\] /;
const content = (i: number): Buffer => Buffer.from(`Subject: failure ${i}\nMessage-ID: <f${i}@example.com>\n\nBody ${i}.\n`);
const isList = (r: ProxiedRequest): boolean => r.query.get('list-type') === '2';

/** USER/PASS; returns the PASS answer (whatever it is). */
async function pass(port: number, user = 'alice', password = 'alicepass'): Promise<{ c: Pop3TestClient; answer: string }> {
  const c = await Pop3TestClient.connect(port);
  assert.match(await c.command(`USER ${user}`), /^\+OK/);
  return { c, answer: await c.command(`PASS ${password}`, 30_000) };
}

describe('S3 throttling (503 SlowDown)', () => {
  let s3: S3rver;
  let proxy: S3Proxy;
  let gw: TestGateway;
  let impatient: TestGateway;
  before(async () => {
    s3 = await startS3rver();
    for (let i = 1; i <= 3; i++) await s3.put(`${ALICE_PREFIX}m${i}`, content(i));
    proxy = await startS3Proxy(s3.port);
    gw = await startS3Gateway(proxy.endpoint, { tenant: { deleteMode: 'keep' } });
    impatient = await startS3Gateway(proxy.endpoint, { tenant: { deleteMode: 'keep', maxAttempts: 3 } });
  });
  after(async () => {
    await gw?.stop();
    await impatient?.stop();
    await proxy?.stop();
    await s3?.stop();
  });

  it('a throttled listing is retried with growing, jittered waits and the login succeeds', async () => {
    proxy.clear();
    proxy.slowDown(2, isList);
    const started = Date.now();
    const c = await loggedIn(gw);
    const lists = proxy.requests.filter(isList);
    assert.deepEqual(lists.map((r) => r.injected ?? 'forwarded'), ['SlowDown', 'SlowDown', 'forwarded']);
    const gaps = lists.slice(1).map((r, i) => r.at - (lists[i] as ProxiedRequest).at);
    // The SDK's standard strategy for throttling: attempt i waits a random time in [0, 1 s * 2^i).
    assert.ok((gaps[0] as number) < 1000 + 250 && (gaps[1] as number) < 2000 + 250, `gaps ${gaps.join(', ')} ms`);
    assert.ok(gaps.reduce((a, b) => a + b, 0) >= 10, `it waited between attempts: gaps ${gaps.join(', ')} ms`);
    process.stderr.write(`# SlowDown retry gaps: ${gaps.join(', ')} ms; login took ${Date.now() - started} ms\n`);
    assert.match(await c.command('STAT'), /^\+OK 3 /);
    await c.quit();
  });

  it('a throttled GetObject during RETR is retried too: the client gets the message', async () => {
    const c = await loggedIn(gw);
    proxy.slowDown(2, (r) => r.method === 'GET' && !isList(r));
    const r = await c.multiline('RETR 2', 30_000);
    assert.match(r.status, /^\+OK/);
    assert.ok(r.body.equals(expectedBody(content(2))));
    assert.equal(proxy.requests.filter((x) => x.injected === 'SlowDown' && !isList(x)).length, 2);
    await c.quit();
  });

  it('throttling that does not stop: -ERR [SYS/TEMP] after maxAttempts requests', async () => {
    proxy.clear();
    proxy.slowDown(100, isList);
    const { c, answer } = await pass(impatient.port);
    assert.match(answer, TEMP);
    assert.equal(proxy.requests.filter(isList).length, 3, 'maxAttempts: 3');
    c.destroy();
    proxy.slowDown(0);
  });
});

describe('S3 outages', () => {
  let s3: S3rver;
  let gw: TestGateway;
  before(async () => {
    s3 = await startS3rver();
    for (let i = 1; i <= 3; i++) await s3.put(`${ALICE_PREFIX}m${i}`, content(i));
    gw = await startS3Gateway(s3.endpoint);
  });
  after(async () => {
    await gw?.stop();
    await s3?.stop();
  });

  it('s3rver down at login: -ERR [SYS/TEMP]; back up: the login works', async () => {
    await s3.kill();
    try {
      const { c, answer } = await pass(gw.port);
      assert.match(answer, TEMP);
      c.destroy();
    } finally {
      await s3.restart();
    }
    const c = await loggedIn(gw);
    assert.match(await c.command('STAT'), /^\+OK 3 /);
    await c.quit();
  });

  it('s3rver down between commands: RETR and QUIT answer -ERR [SYS/TEMP]; nothing is deleted', async () => {
    const c = await loggedIn(gw);
    assert.match(await c.command('STAT'), /^\+OK 3 /);
    assert.match(await c.command('DELE 1'), /^\+OK/);
    await s3.kill();
    try {
      assert.match(await c.command('RETR 3', 30_000), TEMP);
      assert.match(await c.command('QUIT', 30_000), TEMP);
    } finally {
      await s3.restart();
    }
    assert.equal((await s3.list(ALICE_PREFIX)).length, 3, 'nothing deleted');
  });
});

describe('S3 refusals and vanished objects', () => {
  let s3: S3rver;
  const gateways: TestGateway[] = [];
  before(async () => {
    s3 = await startS3rver();
    for (let i = 1; i <= 4; i++) await s3.put(`${ALICE_PREFIX}m${i}`, content(i));
    await s3.put('inbound/example.com/john/m1', content(9));
  });
  after(async () => {
    for (const g of gateways) await g.stop();
    await s3?.stop();
  });
  const gateway = async (tenant: Record<string, unknown>, users?: Record<string, { password: string }>): Promise<TestGateway> => {
    const g = await startS3Gateway(s3.endpoint, { tenant, ...(users && { users }) });
    gateways.push(g);
    return g;
  };

  it('credentials the server refuses: -ERR [SYS/PERM], an error log naming the cause, no secret in the log', async () => {
    const secret = 'not-the-secret-0123456789';
    const g = await gateway({ credentials: { accessKeyId: 'UNKNOWNKEY', secretAccessKey: secret } });
    const { c, answer } = await pass(g.port);
    assert.match(answer, PERM);
    c.destroy();
    const error = logLines(g).find((l) => l.level === 50 && String(l.msg).includes('refused the gateway'));
    assert.ok(error, 'an error line');
    assert.match(String(error.err), /InvalidAccessKeyId.*HTTP 403/);
    assert.ok(!g.logs.join('\n').includes(secret), 'the secret is never logged');
  });

  it('a bucket that does not exist: -ERR [SYS/PERM]', async () => {
    const g = await gateway({ bucket: 'no-such-bucket' });
    const { c, answer } = await pass(g.port);
    assert.match(answer, PERM);
    c.destroy();
    assert.ok(logLines(g).some((l) => String(l.err).includes('NoSuchBucket')));
  });

  it('an object removed after the listing: -ERR for that message only; the session goes on', async () => {
    const g = await gateway({ deleteMode: 'keep' });
    const c = await loggedIn(g);
    // m2 goes before the sizes are measured (STAT still answers), m4 after.
    await s3.remove(`${ALICE_PREFIX}m2`);
    assert.match(await c.command('STAT'), /^\+OK 4 /);
    assert.equal((await c.lines('LIST')).lines.length, 4);
    await s3.remove(`${ALICE_PREFIX}m4`);
    assert.equal(await c.command('RETR 2'), GONE);
    assert.equal(await c.command('TOP 4 0'), GONE);
    for (const n of [1, 3]) {
      const r = await c.multiline(`RETR ${n}`);
      assert.ok(r.body.equals(expectedBody(content(n))), `RETR ${n}`);
    }
    assert.match(await c.command('DELE 2'), /^\+OK/);
    assert.match(await c.quit(), /^\+OK/);
    await s3.put(`${ALICE_PREFIX}m2`, content(2));
    await s3.put(`${ALICE_PREFIX}m4`, content(4));
  });

  it('a {domain} prefix: user@domain reaches its folder; a login without a domain is [SYS/PERM]', async () => {
    const g = await gateway({ prefix: 'inbound/{domain}/{local}/', domains: ['example.com'] }, { john: { password: 'johnpass' } });
    const c = await loggedIn(g, 'john@example.com', 'johnpass');
    assert.deepEqual((await c.lines('UIDL')).lines, ['1 m1']);
    await c.quit();
    const { c: c2, answer } = await pass(g.port, 'john', 'johnpass');
    assert.match(answer, PERM);
    c2.destroy();
    assert.ok(logLines(g).some((l) => String(l.err).includes('has no domain')));
  });

  it('userName {domain}/{local}: {user} spans two segments; a local part holding "/" is [SYS/PERM]', async () => {
    const g = await gateway(
      { prefix: 'inbound/{user}/', userName: '{domain}/{local}', domains: ['example.com'] },
      { 'example.com/john': { password: 'johnpass' }, 'example.com/a/b': { password: 'abpass' } },
    );
    const c = await loggedIn(g, 'john@example.com', 'johnpass');
    assert.deepEqual((await c.lines('UIDL')).lines, ['1 m1']);
    await c.quit();
    // "a/b"@example.com would make inbound/example.com/a/ + b/: refused, not a deeper folder of "a".
    const { c: c2, answer } = await pass(g.port, 'a/b@example.com', 'abpass');
    assert.match(answer, PERM);
    c2.destroy();
  });
});
