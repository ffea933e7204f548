/**
 * deploy/fail2ban: the filter, run by the real fail2ban-regex over the log lines a real popgate
 * wrote, finds every failed login's client address once, and nothing else: not a good login,
 * not an address a login name pretends to carry. The lines hold no password. The jail passes
 * `fail2ban-client -t` as shipped (journal) and in its log-file variant.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { Pop3TestClient } from '../helpers/pop3-client.js';
import { requireProgram } from '../helpers/programs.js';

/** The repository root (this file runs as dist/test/deploy/fail2ban.test.js). */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const FILTER = join(ROOT, 'deploy/fail2ban/filter.d/popgate.conf');
const JAIL = join(ROOT, 'deploy/fail2ban/jail.d/popgate.conf');
const FAKE_NAME = 'x","peer":"6.6.6.6","outcome":"auth-failed';

async function failOnce(gw: TestGateway, from: string, how: 'user-pass' | 'auth-plain', user: string, password: string): Promise<void> {
  const c = await Pop3TestClient.connect(gw.port, { localAddress: from });
  if (how === 'user-pass') {
    assert.equal(await c.command(`USER ${user}`), '+OK');
    assert.equal(await c.command(`PASS ${password}`), '-ERR [AUTH] Authentication failed.');
  } else {
    const blob = Buffer.from(`\0${user}\0${password}`).toString('base64');
    assert.equal(await c.command(`AUTH PLAIN ${blob}`), '-ERR [AUTH] Authentication failed.');
  }
  await c.quit();
}

describe('fail2ban filter and jail for popgate', () => {
  let gw: TestGateway;
  let dir: string;
  let logFile: string;

  before(async () => {
    requireProgram('fail2ban-regex');
    requireProgram('fail2ban-client');
    dir = mkdtempSync(join(tmpdir(), 'popgate-fail2ban-'));
    gw = await startTestGateway({ config: { limits: { authFailureDelayMs: 0 }, log: { level: 'info' } } });
    await failOnce(gw, '127.0.0.40', 'user-pass', 'alice', 'wrong-secret-1');
    await failOnce(gw, '127.0.0.41', 'user-pass', 'nosuchuser', 'wrong-secret-2');
    await failOnce(gw, '127.0.0.42', 'user-pass', FAKE_NAME, 'wrong-secret-3');
    await failOnce(gw, '127.0.0.43', 'auth-plain', 'alice', 'wrong-secret-4');
    await failOnce(gw, '127.0.0.40', 'auth-plain', 'alice', 'wrong-secret-5');
    const good = await Pop3TestClient.connect(gw.port, { localAddress: '127.0.0.44' });
    await good.login('alice', 'alicepass');
    await good.quit();
    await new Promise((r) => setTimeout(r, 100));
    logFile = join(dir, 'popgate.log');
    writeFileSync(logFile, gw.logs.join('\n') + '\n');
  });

  after(async () => {
    await gw?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('fail2ban-regex finds each failed login once, by client address, with its time', () => {
    const ips = execFileSync('fail2ban-regex', ['-o', 'ip', logFile, FILTER], { encoding: 'utf8' }).trim().split('\n').sort();
    assert.deepEqual(ips, ['127.0.0.40', '127.0.0.40', '127.0.0.41', '127.0.0.42', '127.0.0.43']);
    // `-o row`: [ip, epoch seconds, ...] per match: the time came from the line's "time" field.
    const rows = execFileSync('fail2ban-regex', ['-o', 'row', logFile, FILTER], { encoding: 'utf8' }).trim().split('\n');
    for (const row of rows) {
      const seconds = Number(/^\['[^']+',\s*([0-9.]+),/.exec(row)?.[1]);
      assert.ok(Math.abs(seconds - Date.now() / 1000) < 120, `a match dated now: ${row}`);
    }
    const summary = execFileSync('fail2ban-regex', [logFile, FILTER], { encoding: 'utf8' });
    assert.match(summary, /\[\d+\] "time":\{LEPOCH\}/, "every line dated by the filter's datepattern");
  });

  it('the lines fail2ban reads name the client and no password', () => {
    const text = readFileSync(logFile, 'utf8');
    assert.ok(!/wrong-secret|alicepass/.test(text), 'no password in the log');
    const failed = gw.logs.map((l) => JSON.parse(l) as { msg: string; outcome?: string; peer?: string }).filter((l) => l.msg === 'login failed');
    assert.equal(failed.length, 5);
    assert.ok(failed.every((l) => l.outcome === 'auth-failed' && l.peer?.startsWith('127.0.0.4')));
    assert.ok(
      !execFileSync('fail2ban-regex', ['-o', 'ip', logFile, FILTER], { encoding: 'utf8' }).includes('6.6.6.6'),
      'a login name cannot pose as the address',
    );
  });

  it('the jail passes fail2ban-client -t, as shipped (journal) and reading a log file', () => {
    for (const variant of ['journal', 'file'] as const) {
      const conf = join(dir, `conf-${variant}`);
      cpSync('/etc/fail2ban', conf, { recursive: true });
      // Only our jail: Debian's default sshd jail needs an auth log this machine may not have.
      for (const name of readdirSync(join(conf, 'jail.d'))) rmSync(join(conf, 'jail.d', name));
      cpSync(FILTER, join(conf, 'filter.d', 'popgate.conf'));
      let jail = readFileSync(JAIL, 'utf8');
      if (variant === 'file') {
        jail = jail
          .replace(/^backend\s*=\s*systemd$/m, '')
          .replace(/^journalmatch.*$/m, '')
          .replace('#backend = auto', 'backend = auto')
          .replace(/^#logpath = .*$/m, `logpath = ${logFile}`);
        assert.match(jail, /^logpath = /m, 'the jail documents the log-file variant');
      }
      writeFileSync(join(conf, 'jail.d', 'popgate.conf'), jail);
      const r = spawnSync('fail2ban-client', ['-c', conf, '-t'], { encoding: 'utf8' });
      assert.equal(r.status, 0, `${variant}: ${r.stdout}${r.stderr}`);
      const dump = spawnSync('fail2ban-client', ['-c', conf, '-d'], { encoding: 'utf8' }).stdout;
      assert.match(dump, /\['add', 'popgate', '(systemd|auto)'\]/, `${variant}: the popgate jail is loaded`);
    }
  });
});
