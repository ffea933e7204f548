/**
 * The three ways the gateway proves itself to a REST store: a bearer token from a file, basic
 * credentials from an environment variable, and the POP3 login passed on (the store checks it).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { Pop3TestClient } from '../helpers/pop3-client.js';
import { REST_TOKEN, restTenant, startRestStack, stopRestStack, type RestStack } from '../helpers/rest-gateway.js';
import { startRestStore, type RestStoreServer } from '../helpers/rest-store.js';

const MSG = Buffer.from('Subject: hi\n\nhello\n');

async function pass(gw: TestGateway, user: string, password: string): Promise<string> {
  const c = await Pop3TestClient.connect(gw.port);
  assert.match(await c.command(`USER ${user}`), /^\+OK/);
  const answer = await c.command(`PASS ${password}`);
  if (answer.startsWith('+OK')) await c.quit();
  else c.destroy();
  return answer;
}

describe('REST auth: bearer', () => {
  let s: RestStack;
  after(() => stopRestStack(s));

  it('sends the token read from secretFile; the users file checks the POP3 password', async () => {
    s = await startRestStack();
    s.store.seed('alice', [MSG]);
    assert.match(await pass(s.gw, 'alice', 'alicepass'), /^\+OK/);
    assert.equal(s.store.requests.at(-1)?.headers.authorization, `Bearer ${REST_TOKEN}`);
    const calls = s.store.calls.list;
    assert.match(await pass(s.gw, 'alice', 'wrong'), /^-ERR \[AUTH\]/);
    assert.equal(s.store.calls.list, calls, 'a wrong password never reaches the store');
  });

  it('a token the store refuses: -ERR [SYS/PERM] and an operator log line, without the token', async () => {
    s.store.opts = { ...s.store.opts, auth: { kind: 'bearer', token: 'rotated' } };
    const from = s.gw.logs.length;
    assert.match(await pass(s.gw, 'alice', 'alicepass'), /^-ERR \[SYS\/PERM\]/);
    const logs = s.gw.logs.slice(from).join('\n');
    assert.match(logs, /refused the gateway's credentials \(401\)/);
    assert.equal(logs.includes(REST_TOKEN), false, 'the token is never logged');
  });
});

describe('REST auth: basic from an environment variable', () => {
  let store: RestStoreServer;
  let gw: TestGateway;
  after(async () => {
    await gw?.stop();
    await store?.stop();
    delete process.env.POPGATE_TEST_REST_PASSWORD;
  });

  it('sends username and the variable as basic auth', async () => {
    process.env.POPGATE_TEST_REST_PASSWORD = 's3cret:with:colons';
    store = await startRestStore({ auth: { kind: 'basic', user: 'gateway', password: 's3cret:with:colons' }, sizes: true });
    store.seed('alice', [MSG]);
    gw = await startTestGateway({
      tenantConfig: ({ usersFile }) =>
        restTenant(store.baseUrl, undefined, { auth: 'basic', username: 'gateway', secretEnv: 'POPGATE_TEST_REST_PASSWORD', users: usersFile }),
    });
    assert.match(await pass(gw, 'alice', 'alicepass'), /^\+OK/);
    assert.equal(gw.logs.join('\n').includes('s3cret'), false);
  });
});

describe('REST auth: passthrough', () => {
  let s: RestStack;
  after(() => stopRestStack(s));

  it('the POP3 login is the store login: right password in, wrong password -ERR [AUTH] (no operator error)', async () => {
    s = await startRestStack({ passthrough: true, store: { auth: { kind: 'passthrough', passwords: { bob: 'b0b-pass' } } } });
    s.store.seed('bob', [MSG]);
    assert.match(await pass(s.gw, 'bob', 'b0b-pass'), /^\+OK/);
    assert.equal(s.store.requests.at(-1)?.headers.authorization, `Basic ${Buffer.from('bob:b0b-pass').toString('base64')}`);
    const from = s.gw.logs.length;
    assert.match(await pass(s.gw, 'bob', 'nope'), /^-ERR \[AUTH\]/);
    assert.match(await pass(s.gw, 'mallory', 'x'), /^-ERR \[AUTH\]/);
    assert.equal(
      s.gw.logs.slice(from).some((l) => l.includes('"level":50')),
      false,
      'a user typing a wrong password is not an operator problem',
    );
  });
});
