/**
 * Load shedding of logins: a burst of first logins (users-file accounts, the default scrypt
 * cost) gets, every one of them, either +OK or a fast -ERR [SYS/TEMP] within the configured
 * wait, none hanging; and a tenant whose backend hangs fills only its own slots.
 */
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { configSchema } from '../../src/config/schema.js';
import { startTestGateway, type TestGateway, type TestUser } from '../helpers/gateway.js';
import { Pop3TestClient } from '../helpers/pop3-client.js';

const SHED = '-ERR [SYS/TEMP] Too many logins at once; try again later.';

interface Answer {
  readonly reply: string;
  readonly ms: number;
}

async function passAnswer(gw: TestGateway, user: string, password: string): Promise<{ client: Pop3TestClient; answer: Promise<Answer> }> {
  const client = await Pop3TestClient.connect(gw.port);
  assert.equal(await client.command(`USER ${user}`), '+OK');
  const started = Date.now();
  const answer = client.command(`PASS ${password}`, 30_000).then((reply) => ({ reply, ms: Date.now() - started }));
  return { client, answer };
}

describe('a burst of first logins', () => {
  const COUNT = 150;
  const WAIT_MS = 1000;
  let gw: TestGateway;

  before(async () => {
    const users: Record<string, TestUser> = {};
    for (let i = 0; i < COUNT; i++) users[`user${i}`] = { password: `pass-${i}` };
    gw = await startTestGateway({ users, config: { limits: { authFailureDelayMs: 50, maxConnectionsPerIp: COUNT + 10, loginQueueWaitMs: WAIT_MS } } });
  });

  after(() => gw?.stop());

  it(`${COUNT} at once: each answered +OK or [SYS/TEMP]; the shed ones within the wait, none hangs`, async (t) => {
    const clients = await Promise.all(Array.from({ length: COUNT }, () => Pop3TestClient.connect(gw.port)));
    await Promise.all(clients.map(async (c, i) => assert.equal(await c.command(`USER user${i}`), '+OK')));
    const started = Date.now();
    const answers = await Promise.all(
      clients.map(async (c, i) => {
        const reply = await c.command(`PASS pass-${i}`, 30_000);
        return { reply, ms: Date.now() - started };
      }),
    );
    const ok = answers.filter((a) => a.reply.startsWith('+OK'));
    const shed = answers.filter((a) => a.reply === SHED);
    t.diagnostic(
      `${ok.length} logged in (slowest ${Math.max(0, ...ok.map((a) => a.ms))} ms), ${shed.length} shed (${Math.min(...shed.map((a) => a.ms))}-${Math.max(0, ...shed.map((a) => a.ms))} ms)`,
    );
    assert.equal(
      ok.length + shed.length,
      COUNT,
      `every answer is +OK or [SYS/TEMP]: ${answers.find((a) => !a.reply.startsWith('+OK') && a.reply !== SHED)?.reply}`,
    );
    assert.ok(ok.length > 0, 'some logged in');
    assert.ok(shed.length > 0, `some were shed (${COUNT} first logins cannot all be hashed within ${WAIT_MS} ms on two hash threads)`);
    for (const a of shed) assert.ok(a.ms < WAIT_MS + 1000, `a shed login waited ${a.ms} ms (wait ${WAIT_MS})`);
    for (const a of ok) assert.ok(a.ms < WAIT_MS + 1500, `an admitted login took ${a.ms} ms`);
    assert.equal(gw.gateway.shedder.stats().shed, shed.length, 'every shed login is counted');
    assert.equal(gw.gateway.shedder.stats().inFlight, 0);
    await Promise.all(clients.map((c) => c.quit()));
  });
});

describe('login slots per tenant and per process', () => {
  let gw: TestGateway;
  let silent: Server;
  const held: Socket[] = [];
  const WAIT_MS = 300;

  before(async () => {
    // An IMAP server that accepts and never greets: a login to it holds its slot until connectTimeoutMs.
    silent = createServer((s) => void held.push(s.on('error', () => undefined)));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    const hanging = (domain: string): Record<string, unknown> => ({
      adapter: 'imap',
      host: '127.0.0.1',
      port,
      tls: 'none',
      domains: [domain],
      connectTimeoutMs: 2500,
      maxLoginsInFlight: 1,
    });
    gw = await startTestGateway({
      config: { limits: { authFailureDelayMs: 0, maxLoginsInFlight: 2, loginQueueWaitMs: WAIT_MS } },
      tenantConfig: ({ usersFile, dir }) => ({ adapter: 'maildir', path: `${dir}/mail/{user}`, users: usersFile }),
    });
    await gw.gateway.reload(configSchema.parse({ ...gw.config, tenants: { ...gw.config.tenants, a: hanging('a.test'), b: hanging('b.test') } }));
  });

  after(async () => {
    for (const s of held) s.destroy();
    silent?.close();
    await gw?.stop();
  });

  it("a hanging backend fills its tenant's slot; then the process's; the rest are shed within the wait", async () => {
    const a1 = await passAnswer(gw, 'x@a.test', 'pw');
    await new Promise((r) => setTimeout(r, 100));
    const a2 = await passAnswer(gw, 'y@a.test', 'pw');
    const a2Answer = await a2.answer;
    assert.equal(a2Answer.reply, SHED, "tenant a's one slot is taken");
    assert.ok(a2Answer.ms >= WAIT_MS - 20 && a2Answer.ms < WAIT_MS + 700, `shed after ${a2Answer.ms} ms`);
    const alice = await passAnswer(gw, 'alice', 'alicepass');
    assert.match((await alice.answer).reply, /^\+OK/, 'another tenant still logs in');
    await alice.client.quit();
    const b1 = await passAnswer(gw, 'x@b.test', 'pw');
    await new Promise((r) => setTimeout(r, 100));
    const late = await passAnswer(gw, 'alice', 'alicepass');
    assert.equal((await late.answer).reply, SHED, 'the process has two slots, both held by hanging logins');
    assert.deepEqual(gw.gateway.shedder.stats().shedByTenant, { a: 1, main: 1 });
    // The hanging logins end at the backend's connect timeout as [SYS/TEMP] backend failures.
    assert.match((await a1.answer).reply, /^-ERR \[SYS\/TEMP\] Temporary backend failure/);
    assert.match((await b1.answer).reply, /^-ERR \[SYS\/TEMP\] Temporary backend failure/);
    const again = await passAnswer(gw, 'alice', 'alicepass');
    assert.match((await again.answer).reply, /^\+OK/, 'slots are free again');
    for (const c of [a1, a2, b1, late, again]) c.client.destroy();
  });
});
