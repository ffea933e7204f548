/**
 * The command line, run as a child process (`node dist/src/cli.js ...`): config errors and exit
 * codes, POPGATE_CONFIG, serve + SIGTERM, check, demo, and the users-file commands.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { hashPassword } from '../../src/auth/password-hash.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { messageFiles } from '../helpers/maildir.js';
import { Pop3TestClient } from '../helpers/pop3-client.js';
import { requireProgram } from '../helpers/programs.js';
import { deliveredFiles, firstDifference, smallCorpus, storeCorpus, wireBody, wireSize } from '../helpers/client-corpus.js';
import { cleanup, exited, freePort, run, tempDir, type RunResult } from '../helpers/client-run.js';
import { cli, start, stop, waitForGreeting, type Running } from '../helpers/cli-process.js';

const POPLIB_SCRIPT = fileURLToPath(new URL('../../../test/clients/fixtures/poplib_fetch.py', import.meta.url));

function curl(args: readonly string[]): Promise<RunResult> {
  return run('curl', ['-s', '-S', '--max-time', '15', ...args], { timeoutMs: 20_000 });
}

/** USER/PASS against a gateway; returns the PASS reply. */
async function tryLogin(port: number, user: string, password: string): Promise<string> {
  const c = await Pop3TestClient.connect(port);
  try {
    const u = await c.command(`USER ${user}`);
    if (!u.startsWith('+OK')) return u;
    return await c.command(`PASS ${password}`);
  } finally {
    await c.quit().catch(() => undefined);
    c.destroy();
  }
}

const VALID = (
  port: number,
  extra = '',
  limits = '{ authFailureDelayMs: 0, shutdownGraceSeconds: 2 }',
): string => `listeners: [{ host: 127.0.0.1, port: ${port} }]
tenants:
  main: { adapter: maildir, path: "mail/{user}", users: users.yaml }
allowPlaintextAuth: always
limits: ${limits}
${extra}`;

/** Nine levels of nine aliases each: 9^9 nodes if expanded (the parser refuses to). */
function aliasBomb(): string {
  const lines = ['a: &a [x, x, x, x, x, x, x, x, x]'];
  for (let i = 1; i < 9; i++) {
    const prev = String.fromCharCode(96 + i);
    const name = String.fromCharCode(97 + i);
    lines.push(`${name}: &${name} [${Array.from({ length: 9 }, () => `*${prev}`).join(', ')}]`);
  }
  return lines.join('\n') + '\n';
}

describe('popgate --version', () => {
  it('--version and -V print the package version and exit 0', async () => {
    const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../../../package.json', import.meta.url)), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const r = await cli([flag]);
      assert.equal(r.code, 0, flag);
      assert.equal(r.stdout.trim(), pkg.version, flag);
    }
  });
});

describe('popgate serve/check: config errors', () => {
  let dir: string;
  const cases: { name: string; text: string; key: RegExp }[] = [
    { name: 'a string where a number belongs', text: VALID(1110, '', '{ idleTimeoutSeconds: ten }'), key: /^config error: limits\.idleTimeoutSeconds: /m },
    { name: 'an unknown key', text: VALID(1110, 'bogusKey: 1'), key: /^config error: .*bogusKey/m },
    { name: 'defaultTenant naming no tenant', text: VALID(1110, 'defaultTenant: nope'), key: /^config error: defaultTenant: /m },
    {
      name: 'a starttls listener without a tls section',
      text: VALID(1110).replace('port: 1110 }', 'port: 1110, tls: starttls }'),
      key: /^config error: listeners\.0\.tls: /m,
    },
    {
      name: 'a TLS listener whose cert file is missing',
      text: VALID(1110, 'tls: { cert: nope-cert.pem, key: nope-key.pem }').replace('port: 1110 }', 'port: 1110, tls: implicit }'),
      key: /^config error: tls\.cert: cannot read/m,
    },
    { name: 'a YAML syntax error', text: 'listeners: [\n', key: /^config error: yaml: /m },
    { name: 'a YAML alias bomb', text: aliasBomb(), key: /^config error: yaml: Excessive alias count/m },
    {
      name: 'a redis url that is not one (its password is not echoed)',
      text: VALID(1110, "redis: { url: 'http://:plaintext-secret@127.0.0.1:6379' }"),
      key: /^config error: redis\.url: must start with redis:\/\/ or rediss:\/\//m,
    },
    {
      name: 'a redis TLS CA file that is missing',
      text: VALID(1110, "redis: { url: 'rediss://127.0.0.1:6379', tls: { ca: nope-ca.pem } }"),
      key: /^config error: redis\.tls\.ca: cannot read .*nope-ca\.pem: ENOENT/m,
    },
    {
      name: 'workers above 1 without redis',
      text: VALID(1110, 'workers: 2'),
      key: /^config error: workers: 2 runs several processes, .*: set redis\.url, or use workers: 1$/m,
    },
    {
      name: 'a users file with a plaintext password',
      text: VALID(1110).replace('users.yaml', 'bad-users.yaml'),
      key: /^config error: tenants\.main\.users: .*bob\.password/m,
    },
  ];
  /** serve and check on every case, run concurrently up front (each is a node start-up). */
  const results = new Map<string, Promise<RunResult>>();
  before(() => {
    dir = tempDir('cli-config');
    writeFileSync(join(dir, 'bad-users.yaml'), 'users:\n  bob: { password: plaintext-secret }\n');
    for (const c of cases) {
      const file = join(dir, `${c.name.replace(/\W+/g, '-')}.yaml`);
      writeFileSync(file, c.text);
      for (const cmd of ['serve', 'check']) {
        const p = cli([cmd, '--config', file]);
        p.catch(() => undefined);
        results.set(`${cmd} ${c.name}`, p);
      }
    }
  });
  after(() => cleanup(dir));

  for (const c of cases) {
    for (const cmd of ['serve', 'check']) {
      it(`${cmd} exits with code 2 and names the key: ${c.name}`, async () => {
        const r = await (results.get(`${cmd} ${c.name}`) as Promise<RunResult>);
        assert.equal(r.code, 2, `exit ${r.code}; stdout: ${r.stdout}; stderr: ${r.stderr}`);
        assert.match(r.stderr, c.key);
        assert.ok(!r.stderr.includes('plaintext-secret'), 'a bad password value is not echoed');
      });
    }
  }

  it('a missing config file: code 2, the message names the file', async () => {
    const file = join(dir, 'does-not-exist.yaml');
    for (const cmd of ['serve', 'check']) {
      const r = await cli([cmd, '--config', file]);
      assert.equal(r.code, 2, `${cmd}: exit ${r.code}; stderr: ${r.stderr}`);
      assert.ok(r.stderr.includes(file) && /cannot read/.test(r.stderr), r.stderr);
    }
  });

  it('no --config and no POPGATE_CONFIG: code 2, the message names both', async () => {
    const r = await cli(['serve']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--config/);
    assert.match(r.stderr, /POPGATE_CONFIG/);
  });

  it('check --config prints ok for a valid config (exit 0)', async () => {
    const good = join(dir, 'check-good.yaml');
    writeFileSync(good, VALID(1110));
    const ok = await cli(['check', '--config', good]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, `${good}: ok (1 listeners, 1 tenants)\n`);
  });

  it('POPGATE_CONFIG works in place of --config (check)', async () => {
    const good = join(dir, 'env-good.yaml');
    writeFileSync(good, VALID(1110));
    const ok = await cli(['check'], { env: { POPGATE_CONFIG: good } });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /: ok \(/);
    const bad = join(dir, 'env-bad.yaml');
    writeFileSync(bad, VALID(1110, '', '{ idleTimeoutSeconds: ten }'));
    const r = await cli(['serve'], { env: { POPGATE_CONFIG: bad } });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /limits\.idleTimeoutSeconds/);
  });
});

describe('popgate serve', () => {
  let dir: string;
  let proc: Running | undefined;
  const messages = smallCorpus();
  before(async () => {
    requireProgram('curl');
    dir = tempDir('cli-serve');
    storeCorpus(join(dir, 'mail', 'alice'), messages);
    const add = await cli(['user', 'add', 'alice', '-f', join(dir, 'users.yaml')], { input: 'alicepass\n' });
    assert.equal(add.code, 0, add.stderr);
  });
  after(() => {
    stop(proc);
    cleanup(dir);
  });

  it('serves mail to curl (config given by POPGATE_CONFIG, relative paths from the config folder) and exits 0 on SIGTERM', async () => {
    const port = await freePort();
    const cfg = join(dir, 'env.yaml');
    writeFileSync(cfg, VALID(port));
    proc = start(['serve'], { POPGATE_CONFIG: cfg });
    await waitForGreeting(port, proc);
    const list = await curl([`pop3://127.0.0.1:${port}/`, '-u', 'alice:alicepass']);
    assert.equal(list.code, 0, list.stderr);
    assert.equal(list.stdout, messages.map((m, i) => `${i + 1} ${wireSize(m.content)}\r\n`).join(''));
    const retr = await curl([`pop3://127.0.0.1:${port}/3`, '-u', 'alice:alicepass']);
    const expected = wireBody((messages[2] as { content: Buffer }).content);
    assert.ok(retr.out.equals(expected), firstDifference(retr.out, expected));
    const started = Date.now();
    proc.child.kill('SIGTERM');
    const { code, signal } = await exited(proc.child, 5000);
    assert.equal(signal, null);
    assert.equal(code, 0, `exit code after SIGTERM; stderr: ${proc.stderr()}`);
    assert.ok(Date.now() - started < 2000, 'an idle gateway stops at once');
  });

  it('on SIGTERM, a running session may go on for the grace period, then is closed with -ERR; nothing is deleted; exit 0', async () => {
    const port = await freePort();
    const cfg = join(dir, 'serve.yaml');
    writeFileSync(cfg, VALID(port)); // shutdownGraceSeconds: 2
    proc = start(['serve', '--config', cfg]);
    await waitForGreeting(port, proc);
    const before = messageFiles(join(dir, 'mail', 'alice'));
    const c = await Pop3TestClient.connect(port);
    try {
      await c.login('alice', 'alicepass');
      assert.match(await c.command('DELE 1'), /^\+OK/);
      const started = Date.now();
      proc.child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 300));
      // Still served during the grace period; new connections are not accepted.
      assert.match(await c.command('NOOP'), /^\+OK/);
      const late = await curl([`pop3://127.0.0.1:${port}/`, '-u', 'alice:alicepass']);
      assert.notEqual(late.code, 0, 'no new sessions after SIGTERM');
      const last = await c.closed(6000);
      assert.match(last, /^-ERR \[SYS\/TEMP\]/);
      const { code } = await exited(proc.child, 6000);
      const took = Date.now() - started;
      assert.equal(code, 0, proc.stderr());
      assert.ok(took >= 1500, `the session got the grace period (${took} ms)`);
      assert.ok(took < 5000, `exited within the grace period and a margin (${took} ms)`);
    } finally {
      c.destroy();
    }
    assert.deepEqual(messageFiles(join(dir, 'mail', 'alice')), before, 'DELE without QUIT deleted nothing');
  });
});

describe('popgate demo', () => {
  let dir: string;
  let proc: Running | undefined;
  before(() => {
    requireProgram('curl');
    requireProgram('python3');
    dir = tempDir('cli-demo');
  });
  after(() => {
    stop(proc);
    cleanup(dir);
  });

  const dataDir = (): string => join(dir, 'data');
  const demoMaildir = (): string => join(dataDir(), 'mail', 'demo');

  async function startDemo(): Promise<{ port: number; p: Running }> {
    const port = await freePort();
    const p = start(['demo', '--port', String(port), '--data', dataDir()]);
    proc = p;
    const deadline = Date.now() + 10_000;
    while (!p.stderr().includes('Stop with Ctrl-C')) {
      if (p.child.exitCode !== null) throw new Error(`demo exited ${p.child.exitCode}: ${p.stderr()}`);
      if (Date.now() > deadline) throw new Error(`no instructions within 10 s: ${p.stderr()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return { port, p };
  }

  async function stopDemo(p: Running): Promise<void> {
    p.child.kill('SIGTERM');
    const { code } = await exited(p.child, 5000);
    assert.equal(code, 0);
  }

  it('prints instructions (curl and poplib), serves the 5 demo messages to curl and poplib', async () => {
    const { port, p } = await startDemo();
    const text = p.stderr();
    assert.ok(text.includes(`curl -s pop3://127.0.0.1:${port}/ -u demo:demo`), text);
    assert.match(text, /poplib/);
    // The printed commands work as printed.
    const listLine = text.split('\n').find((l) => l.includes('list messages:'));
    assert.ok(listLine);
    const listCmd = listLine.slice(listLine.indexOf('curl'));
    const list = await run('sh', ['-c', listCmd], { timeoutMs: 20_000 });
    assert.equal(list.code, 0, list.stderr);
    assert.equal(list.stdout.split('\r\n').filter((l) => l !== '').length, 5, list.stdout);
    const pyLine = text.split('\n').find((l) => l.includes('python3 -c'));
    assert.ok(pyLine, text);
    const py = await run('sh', ['-c', pyLine.slice(pyLine.indexOf('python3'))], { timeoutMs: 20_000 });
    assert.equal(py.code, 0, py.stderr);
    assert.match(py.stdout, /^\(5, \d+\)\n/);
    assert.match(py.stdout, /Subject: Welcome to popgate/);
    // Every demo message comes out exactly as stored.
    const stored = ['new', 'cur']
      .flatMap((sub) => readdirSync(join(demoMaildir(), sub)).map((f) => join(demoMaildir(), sub, f)))
      .sort((a, b) => (a.split('/').pop() as string).localeCompare(b.split('/').pop() as string));
    assert.equal(stored.length, 5);
    const out = join(dir, 'poplib-out');
    const r = await run('python3', [POPLIB_SCRIPT, JSON.stringify({ host: '127.0.0.1', port, user: 'demo', password: 'demo', outdir: out })], {
      timeoutMs: 30_000,
    });
    assert.equal(r.code, 0, r.stderr);
    const got = deliveredFiles(out);
    assert.equal(got.length, 5);
    stored.forEach((file, i) => {
      const expected = wireBody(readFileSync(file));
      const actual = (got[i] as { content: Buffer }).content;
      assert.ok(actual.equals(expected), `demo message ${i + 1}: ${firstDifference(actual, expected)}`);
    });
    for (let n = 1; n <= 5; n++) {
      const c = await curl([`pop3://127.0.0.1:${port}/${n}`, '-u', 'demo:demo']);
      assert.equal(c.code, 0, c.stderr);
      const expected = wireBody(readFileSync(stored[n - 1] as string));
      assert.ok(c.out.equals(expected), `curl RETR ${n}: ${firstDifference(c.out, expected)}`);
    }
    await stopDemo(p);
  });

  it('a second start on the same data folder does not add the messages again', async () => {
    const usersBefore = readFileSync(join(dataDir(), 'users.yaml'), 'utf8');
    const filesBefore = messageFiles(demoMaildir());
    assert.equal(filesBefore.length, 5);
    const { port, p } = await startDemo();
    const list = await curl([`pop3://127.0.0.1:${port}/`, '-u', 'demo:demo']);
    assert.equal(list.code, 0, list.stderr);
    assert.equal(list.stdout.split('\r\n').filter((l) => l !== '').length, 5, list.stdout);
    assert.deepEqual(messageFiles(demoMaildir()), filesBefore);
    assert.equal(readFileSync(join(dataDir(), 'users.yaml'), 'utf8'), usersBefore, 'the demo account is not re-created');
    await stopDemo(p);
  });
});

describe('popgate user add|passwd|remove|list', () => {
  let dir: string;
  let usersFile: string;
  let gw: TestGateway;
  before(async () => {
    dir = tempDir('cli-users');
    usersFile = join(dir, 'users.yaml');
    mkdirSync(join(dir, 'mail'), { recursive: true });
    // A gateway that authenticates against the users file the CLI edits (re-read on change).
    gw = await startTestGateway({ tenant: { users: usersFile, path: join(dir, 'mail', '{user}') } });
  });
  after(async () => {
    await gw?.stop();
    cleanup(dir);
  });

  it('add reads the password from stdin and stores only a $scrypt$ hash, in a 0600 file', async () => {
    const r = await cli(['user', 'add', 'carol', '-f', usersFile], { input: 'carol-first-pw\n' });
    assert.equal(r.code, 0, r.stderr);
    const text = readFileSync(usersFile, 'utf8');
    assert.match(text, /carol:\n\s+password: \$scrypt\$ln=\d+,r=\d+,p=\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+\n/);
    assert.ok(!text.includes('carol-first-pw'), 'the plaintext password is not in the file');
    assert.equal(statSync(usersFile).mode & 0o777, 0o600);
    assert.equal(await tryLogin(gw.port, 'carol', 'carol-first-pw'), '+OK Logged in.');
    assert.match(await tryLogin(gw.port, 'carol', 'wrong'), /^-ERR \[AUTH\]/);
  });

  it('add --shared-secret reads a second line as the secret', async () => {
    const r = await cli(['user', 'add', 'dave', '-f', usersFile, '--shared-secret'], { input: 'dave-pw\ndave-secret\n' });
    assert.equal(r.code, 0, r.stderr);
    const text = readFileSync(usersFile, 'utf8');
    assert.match(text, /dave:\n\s+password: \$scrypt\$[^\n]+\n\s+secret: dave-secret\n/);
    assert.ok(!text.includes('dave-pw'), 'the plaintext password is not in the file');
    assert.equal(statSync(usersFile).mode & 0o777, 0o600);
    assert.equal(await tryLogin(gw.port, 'dave', 'dave-pw'), '+OK Logged in.');
  });

  it('add of an existing name fails and leaves the file as it was', async () => {
    const before = readFileSync(usersFile, 'utf8');
    const r = await cli(['user', 'add', 'carol', '-f', usersFile], { input: 'another\n' });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /already exists/);
    assert.equal(readFileSync(usersFile, 'utf8'), before);
    assert.equal(await tryLogin(gw.port, 'carol', 'another'), '-ERR [AUTH] Authentication failed.');
  });

  it('list prints the names', async () => {
    const r = await cli(['user', 'list', '-f', usersFile]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'carol\ndave\n');
  });

  it('passwd changes the password: the old one no longer logs in, the new one does', async () => {
    assert.equal(await tryLogin(gw.port, 'carol', 'carol-first-pw'), '+OK Logged in.');
    const r = await cli(['user', 'passwd', 'carol', '-f', usersFile], { input: 'carol-second-pw\n' });
    assert.equal(r.code, 0, r.stderr);
    const text = readFileSync(usersFile, 'utf8');
    assert.ok(!text.includes('carol-second-pw'));
    assert.equal(statSync(usersFile).mode & 0o777, 0o600);
    assert.match(await tryLogin(gw.port, 'carol', 'carol-first-pw'), /^-ERR \[AUTH\]/);
    assert.equal(await tryLogin(gw.port, 'carol', 'carol-second-pw'), '+OK Logged in.');
  });

  it('passwd without --shared-secret keeps the stored secret', async () => {
    const r = await cli(['user', 'passwd', 'dave', '-f', usersFile], { input: 'dave-pw-2\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(readFileSync(usersFile, 'utf8'), /secret: dave-secret\n/);
    assert.equal(await tryLogin(gw.port, 'dave', 'dave-pw-2'), '+OK Logged in.');
  });

  it('passwd of an unknown user fails', async () => {
    const r = await cli(['user', 'passwd', 'nobody', '-f', usersFile], { input: 'x\n' });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /no user "nobody"/);
  });

  it('remove deletes the account: it can no longer log in, and list no longer shows it', async () => {
    const r = await cli(['user', 'remove', 'carol', '-f', usersFile]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(await tryLogin(gw.port, 'carol', 'carol-second-pw'), /^-ERR \[AUTH\]/);
    const list = await cli(['user', 'list', '-f', usersFile]);
    assert.equal(list.stdout, 'dave\n');
    const again = await cli(['user', 'remove', 'carol', '-f', usersFile]);
    assert.notEqual(again.code, 0, 'removing a missing user fails');
  });

  it('a password with spaces, as stored by user add, logs in with USER/PASS (or add refuses it)', async () => {
    // RFC 1939: "a POP3 server may treat spaces in the argument as part of the password".
    for (const [name, password] of [
      ['gina', 'two words'],
      ['hank', ' leading space'],
      ['ivan', 'trailing space '],
    ] as const) {
      const r = await cli(['user', 'add', name, '-f', usersFile], { input: `${password}\n` });
      if (r.code !== 0) continue; // refusing such a password at add time is also correct
      assert.equal(await tryLogin(gw.port, name, password), '+OK Logged in.', `USER ${name} / PASS ${JSON.stringify(password)}`);
    }
  });

  it('refuses an empty password, missing input and an unsafe user name', async () => {
    const before = readFileSync(usersFile, 'utf8');
    for (const [args, input] of [
      [['user', 'add', 'erin', '-f', usersFile], '\n'],
      [['user', 'add', 'erin', '-f', usersFile], ''],
      [['user', 'add', '../erin', '-f', usersFile], 'pw\n'],
      [['user', 'add', 'frank', '-f', usersFile, '--shared-secret'], 'only-a-password\n'],
    ] as const) {
      const r = await cli(args, { input });
      assert.notEqual(r.code, 0, `${args.join(' ')} with ${JSON.stringify(input)} must fail`);
    }
    assert.equal(readFileSync(usersFile, 'utf8'), before, 'the file is unchanged');
  });
});

describe('popgate check/serve: users file permissions and names, plaintext warnings', () => {
  let dir: string;
  let hash: string;
  before(async () => {
    dir = tempDir('cli-users-rules');
    hash = await hashPassword('pw');
  });
  after(() => cleanup(dir));

  /** A config whose only tenant reads `users-<tag>.yaml`, written with `names` and `mode`. */
  function setup(tag: string, opts: { mode?: number; names?: readonly string[]; config?: string; tenantExtra?: string } = {}): string {
    const users = join(dir, `users-${tag}.yaml`);
    const entries = (opts.names ?? ['alice']).map((n) => `  ${JSON.stringify(n)}: { password: '${hash}' }\n`).join('');
    writeFileSync(users, `users:\n${entries}`);
    chmodSync(users, opts.mode ?? 0o600);
    const config = join(dir, `config-${tag}.yaml`);
    writeFileSync(
      config,
      opts.config ??
        `listeners: [{ host: 127.0.0.1, port: 1110 }]\ntenants:\n  main: { adapter: maildir, path: "mail/{user}", users: users-${tag}.yaml${opts.tenantExtra ?? ''} }\n`,
    );
    return config;
  }

  it('a users file with mode 0600 and the default plaintext policy: ok, no warning', async () => {
    const r = await cli(['check', '--config', setup('clean')]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
  });

  it('a users file others can read (0644) or the group can read (0640): ok with a warning naming the file and the mode', async () => {
    for (const [mode, who] of [
      [0o644, 'anyone can read it'],
      [0o640, 'its group can read it'],
      [0o620, 'its group can write it'],
    ] as const) {
      const r = await cli(['check', '--config', setup(`mode-${mode.toString(8)}`, { mode })]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, new RegExp(`^warning: users file \\S+users-mode-${mode.toString(8)}\\.yaml has mode 0${mode.toString(8)}: ${who}`, 'm'));
    }
  });

  it('a users file others can write (0602, 0666) is a config error (exit 2) for check and serve', async () => {
    for (const mode of [0o602, 0o666]) {
      const config = setup(`writable-${mode.toString(8)}`, { mode });
      for (const cmd of ['check', 'serve']) {
        const r = await cli([cmd, '--config', config]);
        assert.equal(r.code, 2, `${cmd}: ${r.stderr}`);
        assert.match(r.stderr, /^config error: tenants\.main\.users: users file \S+ is writable by others \(mode 06\d\d\)/m);
      }
    }
  });

  it('allowPlaintextAuth: always on a listener without TLS: check warns, naming the listener', async () => {
    const config = setup('plain', {
      config: `listeners: [{ host: 127.0.0.1, port: 1110 }]\ntenants:\n  main: { adapter: maildir, path: "mail/{user}", users: users-plain.yaml }\nallowPlaintextAuth: always\n`,
    });
    const r = await cli(['check', '--config', config]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^warning: listeners\.0 \(127\.0\.0\.1:1110\) has no TLS and allowPlaintextAuth is 'always'/m);
  });

  it('a PROXY protocol listener trusting every address: check warns, naming the listener', async () => {
    const config = setup('proxy-all', {
      config: `listeners: [{ host: 127.0.0.1, port: 1110, proxyProtocol: { trusted: ['0.0.0.0/0', '10.0.0.0/8'] } }]\ntenants:\n  main: { adapter: maildir, path: "mail/{user}", users: users-proxy-all.yaml }\n`,
    });
    const r = await cli(['check', '--config', config]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^warning: listeners\.0 \(127\.0\.0\.1:1110\) trusts PROXY headers from 0\.0\.0\.0\/0: anyone can claim any client address/m);
    assert.doesNotMatch(r.stderr, /10\.0\.0\.0\/8/, 'a narrower block is not warned about');
  });

  it('serve logs the same warnings at start-up', async () => {
    const port = await freePort();
    const config = setup('serve-warn', {
      mode: 0o644,
      config: `listeners: [{ host: 127.0.0.1, port: ${port} }]\ntenants:\n  main: { adapter: maildir, path: "mail/{user}", users: users-serve-warn.yaml }\nallowPlaintextAuth: always\n`,
    });
    const p = start(['serve', '--config', config]);
    try {
      await waitForGreeting(port, p);
      const warnings = p
        .stdout()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { level: number; warning?: string })
        .filter((l) => l.level === 40 && l.warning !== undefined)
        .map((l) => l.warning as string);
      assert.ok(
        warnings.some((w) => /users-serve-warn\.yaml has mode 0644/.test(w)),
        JSON.stringify(warnings),
      );
      assert.ok(
        warnings.some((w) => /^listeners\.0 .*in clear/.test(w)),
        JSON.stringify(warnings),
      );
    } finally {
      stop(p);
    }
  });

  it('a users file entry whose name popgate user add would refuse is a config error naming the entry (escaped)', async () => {
    for (const bad of ['../etc', '-rf', 'two words', 'a/b', 'x'.repeat(129), 'eve\u2028admin']) {
      const r = await cli(['check', '--config', setup(`bad-${Buffer.from(bad).toString('hex').slice(0, 16)}`, { names: ['alice', bad] })]);
      assert.equal(r.code, 2, `${JSON.stringify(bad)}: ${r.stderr}`);
      assert.match(r.stderr, /^config error: tenants\.main\.users: users file \S+: users\.\S.*: not a valid user name/m);
      assert.ok(!r.stderr.includes('\u2028'), 'the name is escaped');
    }
    const escaped = await cli(['check', '--config', setup('bad-sep', { names: ['eve\u2028admin'] })]);
    assert.match(escaped.stderr, /users\.eve\\u\{2028\}admin: not a valid user name/);
  });

  it("a tenant whose userName puts a '/' in names ({domain}/{local}) may hold example.com/john, not example.com/../x", async () => {
    const extra = ", userName: '{domain}/{local}', domains: [example.com]";
    const ok = await cli(['check', '--config', setup('slash-ok', { names: ['example.com/john'], tenantExtra: extra })]);
    assert.equal(ok.code, 0, ok.stderr);
    const bad = await cli(['check', '--config', setup('slash-bad', { names: ['example.com/../x'], tenantExtra: extra })]);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /users\.example\.com\/\.\.\/x: not a valid user name/);
    const plain = await cli(['check', '--config', setup('slash-plain', { names: ['example.com/john'] })]);
    assert.equal(plain.code, 2, 'without such a template a / is refused');
  });
});
