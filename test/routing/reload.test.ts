/**
 * SIGHUP reload of a real `popgate serve` process: new sessions get the new tenants, a running
 * session finishes (and commits) on the old ones, and a bad config changes nothing.
 */
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { hashPassword } from '../../src/auth/password-hash.js';
import { UsersFile } from '../../src/auth/users-file.js';
import { start, stop, waitForGreeting, type Running } from '../helpers/cli-process.js';
import { cleanup, freePort, tempDir } from '../helpers/client-run.js';
import { addMessage } from '../helpers/maildir.js';
import { Pop3TestClient } from '../helpers/pop3-client.js';

/** Polls the process's JSON log for a line with this `msg`, after `from` lines. */
async function logLine(p: Running, msg: string, from: number, timeoutMs = 10_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lines = p
      .stdout()
      .split('\n')
      .slice(from)
      .filter((l) => l.startsWith('{'));
    const hit = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === msg);
    if (hit !== undefined) return hit;
    if (Date.now() > deadline) throw new Error(`no "${msg}" log line within ${timeoutMs} ms; stderr: ${p.stderr()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('config reload on SIGHUP', () => {
  let dir: string;
  let proc: Running | undefined;
  let port: number;
  let cfg: string;
  let oldMessage: string;

  const config = (mailRoot: string, extra: Record<string, unknown> = {}): string =>
    stringify({
      listeners: [{ host: '127.0.0.1', port }],
      allowPlaintextAuth: 'always',
      limits: { authFailureDelayMs: 50 },
      tenants: { home: { adapter: 'maildir', path: join(dir, mailRoot, '{user}'), users: join(dir, 'users.yaml'), ...extra } },
    });

  before(async () => {
    dir = tempDir('popgate-reload-');
    port = await freePort();
    const hash = await hashPassword('alicepw');
    new UsersFile(join(dir, 'users.yaml')).update((m) => m.set('alice', { password: hash }));
    oldMessage = addMessage(join(dir, 'old', 'alice'), 'Subject: old store\n\nold\n');
    addMessage(join(dir, 'new', 'alice'), 'Subject: new store 1\n\nnew\n');
    addMessage(join(dir, 'new', 'alice'), 'Subject: new store 2\n\nnew\n');
    cfg = join(dir, 'popgate.yaml');
    writeFileSync(cfg, config('old'));
    proc = start(['serve', '--config', cfg]);
    await waitForGreeting(port, proc);
  });
  after(() => {
    stop(proc);
    cleanup(dir);
  });

  it('new sessions use the new tenants at once; the running session keeps its mailbox and its QUIT still deletes there', async () => {
    const running = await Pop3TestClient.connect(port);
    await running.login('alice', 'alicepw');
    assert.match(await running.command('STAT'), /^\+OK 1 /);

    const mark = proc!.stdout().split('\n').length - 1;
    writeFileSync(cfg, config('new'));
    proc!.child.kill('SIGHUP');
    const reloaded = await logLine(proc!, 'config reloaded', mark);
    assert.deepEqual(reloaded.tenants, ['home']);

    const fresh = await Pop3TestClient.connect(port);
    await fresh.login('alice', 'alicepw');
    assert.match(await fresh.command('STAT'), /^\+OK 2 /, 'a new session reads the new mail root');
    await fresh.quit();

    assert.match(await running.command('STAT'), /^\+OK 1 /, 'the running session still has its snapshot');
    const retr = await running.multiline('RETR 1');
    assert.match(retr.body.toString(), /Subject: old store/);
    assert.match(await running.command('DELE 1'), /^\+OK/);
    assert.match(await running.quit(), /^\+OK/);
    assert.ok(!existsSync(join(dir, 'old', 'alice', 'new', oldMessage)), 'the old session deleted in the old store');
  });

  it('a config that does not load is logged with its problems and the running config stays', async () => {
    const mark = proc!.stdout().split('\n').length - 1;
    writeFileSync(cfg, config('new', { domains: ['not a domain'] }));
    proc!.child.kill('SIGHUP');
    const failed = await logLine(proc!, 'config reload failed; keeping the running config', mark);
    assert.deepEqual(failed.problems, ["tenants.home.domains.0: 'not a domain' is not a domain name or *.domain pattern"]);
    assert.equal(failed.level, 50, 'logged as an error');

    const c = await Pop3TestClient.connect(port);
    await c.login('alice', 'alicepw');
    assert.match(await c.command('STAT'), /^\+OK 2 /, 'still the config of the last good reload');
    await c.quit();
    assert.equal(proc!.child.exitCode, null, 'the gateway kept running');
  });

  it('a YAML syntax error is refused the same way', async () => {
    const mark = proc!.stdout().split('\n').length - 1;
    writeFileSync(cfg, 'listeners: [\n');
    proc!.child.kill('SIGHUP');
    const failed = await logLine(proc!, 'config reload failed; keeping the running config', mark);
    assert.match(String((failed.problems as string[])[0]), /^yaml: /);
    const c = await Pop3TestClient.connect(port);
    await c.login('alice', 'alicepw');
    await c.quit();
  });
});
