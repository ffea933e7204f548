/**
 * Login names are the client's text: logged bounded (64 characters, then the length) and with
 * controls, format characters and line separators escaped as \u{...}, on every path that logs
 * them (failed login, no route, successful login, QUIT).
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { Clients, b64 } from '../helpers/auth-helpers.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

const AUTH_FAILED = '-ERR [AUTH] Authentication failed.';
/** A valid users-file name longer than the 64 characters a log shows. */
const LONG_USER = `u${'x'.repeat(99)}`;
/** Each would be written raw by JSON.stringify (only C0 controls get JSON escapes). */
const RAW_UNSAFE = ['\u0085', '\u009b', '\u2028', '\u2029', '\u202e', '\u2066', '\u200b', '\u007f', '\u0001'];

interface LogLine {
  msg: string;
  login?: string;
  user?: string;
  reason?: string;
}

describe('login names in the log', () => {
  let gw: TestGateway;
  const clients = new Clients();
  before(async () => {
    gw = await startTestGateway({ users: { alice: { password: 'alicepass' }, [LONG_USER]: { password: 'longpass' } } });
  });
  afterEach(() => clients.closeAll());
  after(async () => gw?.stop());

  const parsed = (): LogLine[] => gw.logs.map((l) => JSON.parse(l) as LogLine);

  async function authPlain(user: string, password: string): Promise<string> {
    const c = await clients.connect(gw.port);
    return c.command(`AUTH PLAIN ${b64(`\0${user}\0${password}`)}`);
  }

  it('a 48 KB login name is refused and logged as its first 64 characters and its length, not whole', async () => {
    const huge = 'A'.repeat(48_000);
    const before = gw.logs.length;
    assert.equal(await authPlain(huge, 'whatever'), AUTH_FAILED);
    const fresh = gw.logs.slice(before);
    const longest = Math.max(...fresh.map((l) => l.length));
    assert.ok(longest < 1000, `a log line of ${longest} characters`);
    const failed = fresh.map((l) => JSON.parse(l) as LogLine).find((l) => l.msg === 'login failed');
    assert.equal(failed?.login, `${'A'.repeat(64)}…[48000 octets]`);
  });

  it('controls, format characters and separators in a refused name are escaped as \\u{...}', async () => {
    for (const ch of RAW_UNSAFE) {
      const name = `bob${ch}evil`;
      const before = gw.logs.length;
      assert.equal(await authPlain(name, 'whatever'), AUTH_FAILED);
      const fresh = gw.logs.slice(before);
      for (const line of fresh) assert.ok(!line.includes(ch), `raw U+${ch.codePointAt(0)?.toString(16)} in ${line}`);
      const failed = fresh.map((l) => JSON.parse(l) as LogLine).find((l) => l.msg === 'login failed');
      assert.equal(failed?.login, `bob\\u{${ch.codePointAt(0)?.toString(16)}}evil`);
    }
  });

  it('the host part quoted in a no-route reason is escaped too', async () => {
    const before = gw.logs.length;
    assert.equal(await authPlain('bob@ex\u2028ample.com', 'whatever'), AUTH_FAILED);
    const failed = gw.logs
      .slice(before)
      .map((l) => JSON.parse(l) as LogLine)
      .find((l) => l.msg === 'login failed');
    assert.ok(failed?.reason?.includes("'ex\\u{2028}ample.com'"), failed?.reason);
    assert.equal(failed?.login, 'bob@ex\\u{2028}ample.com');
  });

  it('a backslash is escaped, so an escape in the log always came from the gateway', async () => {
    const before = gw.logs.length;
    assert.equal(await authPlain('bob\\u{2028}', 'whatever'), AUTH_FAILED);
    const failed = gw.logs
      .slice(before)
      .map((l) => JSON.parse(l) as LogLine)
      .find((l) => l.msg === 'login failed');
    assert.equal(failed?.login, 'bob\\u{5c}u{2028}');
  });

  it('a long name that logs in is shortened in the login line and in the QUIT line', async () => {
    const before = gw.logs.length;
    const c = await clients.connect(gw.port);
    await c.login(LONG_USER, 'longpass');
    assert.match(await c.quit(), /^\+OK/);
    const fresh = parsed().slice(before);
    const shown = `${LONG_USER.slice(0, 64)}…[100 octets]`;
    const ok = fresh.find((l) => l.msg === 'login');
    assert.equal(ok?.login, shown);
    assert.equal(ok?.user, shown);
    assert.equal(fresh.find((l) => l.msg === 'session ended')?.user, shown);
    assert.ok(!gw.logs.slice(before).some((l) => l.includes(LONG_USER)), 'the whole name was logged');
  });
});
