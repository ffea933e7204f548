/**
 * Failed logins cost across connections (limits.authPenalty): from one address each new
 * connection's failure is answered later than the last, whatever failed (wrong password,
 * unknown user); a good login from another address is not held; a good login from the
 * penalised address is held, then clears it; a name guessed from a fresh address is answered
 * late too; penalties decay. The reply is always the same -ERR [AUTH].
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { Pop3TestClient } from '../helpers/pop3-client.js';

const FAILED = '-ERR [AUTH] Authentication failed.';
const DELAY_MS = 50;

/** One connection from `from`, USER/PASS; the PASS answer and how long it took. */
async function attempt(gw: TestGateway, from: string, user: string, password: string): Promise<{ reply: string; ms: number }> {
  const c = await Pop3TestClient.connect(gw.port, { localAddress: from });
  assert.equal(await c.command(`USER ${user}`), '+OK');
  const started = Date.now();
  const reply = await c.command(`PASS ${password}`);
  const ms = Date.now() - started;
  c.destroy();
  return { reply, ms };
}

describe('login penalties across connections', () => {
  let gw: TestGateway;
  const base = 400;

  before(async () => {
    gw = await startTestGateway({
      users: { alice: { password: 'alicepass' }, bob: { password: 'bobpass' } },
      config: { limits: { authFailureDelayMs: DELAY_MS, authPenalty: { baseMs: base, maxMs: 5000, halfLifeSeconds: 60 } } },
    });
  });

  after(() => gw?.stop());

  it('repeated failures from one address, each on a new connection, are answered later and later', async () => {
    const times: number[] = [];
    for (const [user, password] of [
      ['alice', 'guess1'],
      ['nosuchuser', 'guess2'],
      ['alice', 'guess3'],
      ['nosuchuser', 'guess4'],
    ] as const) {
      const { reply, ms } = await attempt(gw, '127.0.0.20', user, password);
      assert.equal(reply, FAILED, 'the same reply for a wrong password and an unknown user');
      times.push(ms);
    }
    // 0, base, 2 base, 4 base of penalty on top of the flat delay.
    const expected = [0, base, 2 * base, 4 * base].map((p) => DELAY_MS + p);
    times.forEach((ms, i) => assert.ok(ms >= (expected[i] as number) - 15, `attempt ${i + 1}: ${ms} ms, expected >= ${expected[i]} (${times.join(', ')})`));
    for (let i = 1; i < times.length; i++) assert.ok((times[i] as number) > (times[i - 1] as number), `slower each time: ${times.join(', ')}`);
    assert.ok((times[3] as number) < 4 * base + DELAY_MS + 1000, `bounded: ${times.join(', ')}`);
    assert.equal(gw.gateway.penalties.stats().failuresRecorded, 4);
  });

  it('a good login from another address is not held, although its name failed before', async () => {
    const { reply, ms } = await attempt(gw, '127.0.0.21', 'alice', 'alicepass');
    assert.match(reply, /^\+OK/);
    assert.ok(ms < base, `${ms} ms (the name's penalty is ${2 * base} ms and more)`);
  });

  it('a wrong password for that name from a fresh address is answered late: names are penalised too', async () => {
    const { reply, ms } = await attempt(gw, '127.0.0.22', 'alice', 'wrong');
    assert.equal(reply, FAILED);
    assert.ok(ms >= DELAY_MS + base, `${ms} ms`);
  });

  it('a good login from the penalised address waits out the penalty first, then clears it', async () => {
    const held = await attempt(gw, '127.0.0.20', 'bob', 'bobpass');
    assert.match(held.reply, /^\+OK/);
    assert.ok(held.ms >= 2 * base, `held ${held.ms} ms`);
    const line = gw.logs
      .map((l) => JSON.parse(l) as { msg: string; peer?: string; heldMs?: number })
      .findLast((l) => l.msg === 'login' && l.peer === '127.0.0.20');
    assert.ok((line?.heldMs ?? 0) >= 2 * base, 'the login line says how long it was held');
    const next = await attempt(gw, '127.0.0.20', 'bob', 'bobpass');
    assert.ok(next.ms < base, `the next one is not held: ${next.ms} ms`);
  });
});

describe('login penalties decay', () => {
  let gw: TestGateway;

  before(async () => {
    gw = await startTestGateway({ config: { limits: { authFailureDelayMs: DELAY_MS, authPenalty: { baseMs: 300, maxMs: 5000, halfLifeSeconds: 1 } } } });
  });

  after(() => gw?.stop());

  it('three quick failures earn a penalty; a few half-lives later it is gone', async () => {
    for (let i = 0; i < 3; i++) await attempt(gw, '127.0.0.30', 'alice', `guess${i}`);
    const penalised = await attempt(gw, '127.0.0.30', 'alice', 'again');
    assert.ok(penalised.ms >= DELAY_MS + 300, `penalised: ${penalised.ms} ms`);
    await new Promise((r) => setTimeout(r, 5000));
    const forgiven = await attempt(gw, '127.0.0.30', 'alice', 'later');
    assert.equal(forgiven.reply, FAILED);
    assert.ok(forgiven.ms < DELAY_MS + 300, `after 5 half-lives: ${forgiven.ms} ms`);
  });
});
