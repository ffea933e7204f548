/**
 * Failures: S3 throttling (503 SlowDown, in S3's error format, from the test proxy) is retried
 * with the SDK's back-off and the client never notices; persistent throttling or s3rver killed
 * (at login or between commands) is -ERR [SYS/TEMP] and deletes nothing; credentials s3rver does
 * not know (it refuses unknown access key ids, 403 InvalidAccessKeyId; it does not check SigV4
 * secrets) and a missing bucket are -ERR [SYS/PERM] with a clear log line, at login and in the
 * middle of a session; a bucket in another region (301 PermanentRedirect) is [SYS/PERM] with a
 * log naming the region; an object removed after the listing, or one S3 refuses alone (Glacier
 * InvalidObjectState, KMS AccessDenied), is -ERR for that message only; a {domain} prefix for a
 * login without one is [SYS/PERM]; a wrong password makes no S3 request; a tenant whose
 * connections are all held by slow readers answers [SYS/TEMP] at once, naming maxSockets.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestGateway } from '../helpers/gateway.js';
import { startS3Stack, stopS3Stack } from '../helpers/s3-stack.js';
import { Pop3TestClient } from '../helpers/pop3-client.js';
import { startS3Proxy, type S3Proxy, type ProxiedRequest } from '../helpers/s3-proxy.js';
import { ALICE_PREFIX, logLines, startS3Gateway } from '../helpers/s3-gateway.js';
import { startS3rver, type S3rver } from '../helpers/s3rver.js';
import { expectedBody, expectedSize, loggedIn, waitUntil } from '../helpers/tx-util.js';

const GONE = '-ERR Message was removed by another client.';
const TEMP = /^-ERR \[SYS\/TEMP\] /;
const PERM = /^-ERR \[SYS\/PERM\] /;
const content = (i: number): Buffer => Buffer.from(`Subject: failure ${i}\nMessage-ID: <f${i}@example.com>\n\nBody ${i}.\n`);
const isList = (r: ProxiedRequest): boolean => r.query.get('list-type') === '2';
const isObjectGet = (r: ProxiedRequest): boolean => r.method === 'GET' && !isList(r);

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

  // The SDK's standard strategy uses full jitter: each wait is random below a ceiling that
  // doubles, so the waits themselves need not grow; what is checked is a wait, and its ceiling.
  it('a throttled listing is retried after jittered back-off waits, each below its doubling ceiling, and the login succeeds', async () => {
    proxy.clear();
    proxy.slowDown(2, isList);
    const started = Date.now();
    const c = await loggedIn(gw);
    const lists = proxy.requests.filter(isList);
    assert.deepEqual(
      lists.map((r) => r.injected ?? 'forwarded'),
      ['SlowDown', 'SlowDown', 'forwarded'],
    );
    const gaps = lists.slice(1).map((r, i) => r.at - (lists[i] as ProxiedRequest).at);
    // The SDK's standard strategy for throttling: attempt i waits a random time in [0, 1 s * 2^i).
    assert.ok((gaps[0] as number) < 1000 + 250 && (gaps[1] as number) < 2000 + 250, `gaps ${gaps.join(', ')} ms`);
    assert.ok(gaps.reduce((a, b) => a + b, 0) >= 10, `it waited between attempts: gaps ${gaps.join(', ')} ms`);
    process.stderr.write(`# SlowDown retry gaps: ${gaps.join(', ')} ms; login took ${Date.now() - started} ms\n`);
    assert.match(await c.command('STAT'), /^\+OK 3 /);
    await c.quit();
  });

  it('a wrong password and an unknown user get the same -ERR [AUTH] and make no S3 request', async () => {
    proxy.clear();
    const wrong = await pass(gw.port, 'alice', 'not-alices-password');
    const unknown = await pass(gw.port, 'nobody', 'whatever');
    wrong.c.destroy();
    unknown.c.destroy();
    assert.match(wrong.answer, /^-ERR \[AUTH\] /);
    assert.equal(unknown.answer, wrong.answer);
    assert.deepEqual(proxy.requests, [], 'the bucket is not asked');
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

describe('S3 refusals of one object, and failures an operator must fix', () => {
  let s3: S3rver;
  let proxy: S3Proxy;
  let gw: TestGateway;
  const body = (i: number): Buffer => Buffer.from(`Subject: c${i}\nMessage-ID: <c${i}@example.com>\n\nbody ${i}\n`);
  before(async () => {
    ({ s3, proxy, gw } = await startS3Stack(async (s3) => {
      for (let i = 1; i <= 3; i++) await s3.put(`${ALICE_PREFIX}c${i}`, body(i));
    }));
  });
  after(() => stopS3Stack({ s3, proxy, gw }));

  const refusals = [
    { code: 'InvalidObjectState', message: "The operation is not valid for the object's storage class" },
    { code: 'AccessDenied', message: 'Access Denied (the KMS key of this object)' },
  ];
  for (const refusal of refusals) {
    it(`an object GetObject refuses alone (403 ${refusal.code}): listed with its stored size, RETR and TOP of it fail, the others are served`, async () => {
      const logsBefore = gw.logs.length;
      proxy.fail(1000, { status: 403, ...refusal }, (r) => isObjectGet(r) && r.path.endsWith('/c2'));
      try {
        const c = await loggedIn(gw);
        const total = expectedSize(body(1)) + body(2).length + expectedSize(body(3));
        assert.equal(await c.command('STAT'), `+OK 3 ${total}`);
        assert.deepEqual((await c.lines('LIST')).lines, [`1 ${expectedSize(body(1))}`, `2 ${body(2).length}`, `3 ${expectedSize(body(3))}`]);
        assert.equal(await c.command('RETR 2'), '-ERR [SYS/PERM] Message cannot be read.');
        assert.equal(await c.command('TOP 2 0'), '-ERR [SYS/PERM] Message cannot be read.');
        for (const n of [1, 3]) assert.ok((await c.multiline(`RETR ${n}`)).body.equals(expectedBody(body(n))), `RETR ${n}`);
        assert.match(await c.quit(), /^\+OK/);
        const logs = logLines(gw, logsBefore);
        assert.ok(
          logs.some((l) => l.level === 40 && l.unreadable === 1 && String(l.msg).includes('cannot be read')),
          'one warning for the listing',
        );
        assert.ok(
          logs.some((l) => l.level === 40 && String(l.key).endsWith('/c2') && String(l.err).includes(refusal.code)),
          'one for RETR, naming the key',
        );
        assert.ok(!logs.some((l) => String(l.msg).includes('credentials')), 'not taken for refused credentials');
      } finally {
        proxy.fail(0, { status: 403, ...refusal });
      }
    });
  }

  it("the gateway's key refused in the middle of a session: [SYS/PERM] and the same error log as at login", async () => {
    const c = await loggedIn(gw);
    const logsBefore = gw.logs.length;
    proxy.fail(1000, { status: 403, code: 'InvalidAccessKeyId', message: 'The AWS Access Key Id you provided does not exist in our records.' }, isObjectGet);
    try {
      assert.match(await c.command('STAT'), PERM);
      assert.match(await c.command('RETR 1'), PERM);
    } finally {
      proxy.fail(0, { status: 403, code: 'InvalidAccessKeyId', message: '' });
    }
    c.destroy();
    const errors = logLines(gw, logsBefore).filter((l) => l.level === 50 && String(l.msg).includes("refused the gateway's credentials"));
    assert.equal(errors.length, 2, 'STAT and RETR');
    assert.match(String(errors[0]?.err), /InvalidAccessKeyId.*HTTP 403/);
  });

  it("a bucket in another region (301 PermanentRedirect): [SYS/PERM] at once, and a log naming the bucket's region", async () => {
    proxy.clear();
    const logsBefore = gw.logs.length;
    proxy.fail(
      1,
      {
        status: 301,
        code: 'PermanentRedirect',
        message: 'The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.',
        headers: { 'x-amz-bucket-region': 'eu-west-1' },
        extra: '<Endpoint>mail.s3.eu-west-1.amazonaws.com</Endpoint><Bucket>mail</Bucket>',
      },
      isList,
    );
    const { c, answer } = await pass(gw.port);
    c.destroy();
    assert.match(answer, PERM);
    assert.equal(proxy.requests.filter(isList).length, 1, 'not retried');
    const error = logLines(gw, logsBefore).find((l) => l.level === 50 && String(l.msg).includes("not in the tenant's region"));
    assert.ok(error, 'an error line about the region');
    assert.match(String(error.msg), /eu-west-1/);
  });
});

describe('S3 connections: a full pool is [SYS/TEMP] at once, not a hang', () => {
  let s3: S3rver;
  let proxy: S3Proxy;
  let gw: TestGateway;
  const users = { alice: { password: 'alicepass' }, bob: { password: 'bobpass' }, carol: { password: 'carolpass' } };
  before(async () => {
    s3 = await startS3rver();
    for (const u of Object.keys(users)) await s3.put(`inbound/${u}/m1`, content(1));
    proxy = await startS3Proxy(s3.port);
    // Two connections; a request waits up to connectTimeoutMs (1 s) for one.
    gw = await startS3Gateway(proxy.endpoint, { users, tenant: { deleteMode: 'keep', maxSockets: 2, connectTimeoutMs: 1000 } });
  });
  after(async () => {
    proxy?.stall(undefined);
    await gw?.stop();
    await proxy?.stop();
    await s3?.stop();
  });

  it('two sessions whose reads are held use both connections; a third login is [SYS/TEMP] within the wait, with a log naming maxSockets', async () => {
    const held = [await loggedIn(gw, 'alice', 'alicepass'), await loggedIn(gw, 'bob', 'bobpass')];
    proxy.stall(isObjectGet);
    for (const c of held) c.send('RETR 1\r\n');
    await waitUntil(() => proxy.requests.filter(isObjectGet).length === 2, 'two held GETs');
    const logsBefore = gw.logs.length;
    const started = Date.now();
    const third = await pass(gw.port, 'carol', 'carolpass');
    const waited = Date.now() - started;
    third.c.destroy();
    assert.match(third.answer, TEMP);
    assert.ok(waited >= 900 && waited < 3000, `answered after ${waited} ms`);
    assert.ok(
      logLines(gw, logsBefore).some((l) => l.level === 50 && String(l.msg).includes('maxSockets')),
      'a log naming maxSockets',
    );
    // The held sessions finish once their reads go on, and the connections are free again.
    proxy.stall(undefined);
    for (const c of held) {
      assert.match(await c.readLine(), /^\+OK/);
      assert.ok((await c.readMultiline()).equals(expectedBody(content(1))));
      await c.quit();
    }
    const again = await loggedIn(gw, 'carol', 'carolpass');
    assert.match(await again.command('STAT'), /^\+OK 1 /);
    await again.quit();
  });
});
