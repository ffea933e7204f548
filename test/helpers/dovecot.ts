/**
 * A private Dovecot (IMAP + POP3) on 127.0.0.1 for tests and benchmarks.
 *
 * Everything lives under one temporary directory: its own dovecot.conf (never /etc/dovecot),
 * base_dir, state_dir, log file, passwd-file users with plain passwords and Maildirs
 * (`maildir:<mailRoot>/%u`). As root it runs as the `dovecot` system user (Dovecot refuses mail
 * users with UID 0); otherwise as the current user. Ports are free ports picked on 127.0.0.1.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  chownSync,
  closeSync,
  copyFileSync,
  existsSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { createServer, connect, type AddressInfo } from 'node:net';
import { hostname, tmpdir, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { requireProgram } from './programs.js';
import { testCert } from './tls.js';

export type DovecotProtocol = 'imap' | 'pop3';

export interface DovecotOptions {
  /** Users and their plain passwords (default: alice/alicepass). */
  readonly users?: Readonly<Record<string, string>>;
  /** Protocols to serve (default: both). */
  readonly protocols?: readonly DovecotProtocol[];
  /** Also open implicit-TLS listeners (pop3s, imaps) with the test certificate; STLS/STARTTLS then work too. */
  readonly tls?: boolean;
  /** Folder holding one Maildir per user (`<mailRoot>/<user>`); default `<dir>/mail`. Made readable by Dovecot. */
  readonly mailRoot?: string;
  /**
   * The settings that make Dovecot's POP3 fastest (use them when comparing against it):
   * pop3_no_flag_updates, maildir_very_dirty_syncs, pop3-login service_count = 0 and
   * process_min_avail = 2.
   */
  readonly pop3Tuning?: boolean;
  /** `pop3_uidl_format` (Dovecot's default is `%08Xu%08Xv`). */
  readonly pop3UidlFormat?: string;
  /** `mail_max_userip_connections` for IMAP and POP3 (Dovecot's default is 10). */
  readonly mailMaxUseripConnections?: number;
  /** `auth_failure_delay` in seconds (default 0: failed logins answer quickly). */
  readonly authFailureDelaySeconds?: number;
  /** Raw lines appended to dovecot.conf. */
  readonly extraConfig?: string;
  /** How long to wait for the listeners (default 15 s). */
  readonly startTimeoutMs?: number;
  /** Keep the directory after stop() (for debugging). */
  readonly keepDir?: boolean;
}

export interface DovecotInstance {
  readonly dir: string;
  readonly configPath: string;
  readonly logPath: string;
  readonly imapPort: number;
  readonly pop3Port: number;
  readonly pop3sPort?: number;
  readonly imapsPort?: number;
  /** The master process id (its children are the service processes). */
  readonly pid: number;
  /** Users and their plain passwords. */
  readonly users: Readonly<Record<string, string>>;
  /** Owner of the mail files (the Dovecot user as root, else the current user). */
  readonly owner: MailOwner;
  /** The CA certificate clients should trust (with `tls`). */
  readonly caCertPath?: string;
  /** The user's Maildir (with cur/, new/, tmp/). */
  mailDir(user: string): string;
  /** Delivers a message into the user's new/ (tmp/ then rename), named with ,S= and ,W=; returns the file name. */
  deliver(user: string, content: string | Buffer): string;
  /** Gives a file or folder (recursively) to the mail owner so Dovecot can read and change it. */
  own(path: string): void;
  /** Runs `doveadm -c <config> ...args` (stdin from `input`); resolves stdout, rejects with stderr. */
  doveadm(args: readonly string[], input?: string | Buffer): Promise<string>;
  /** The last lines of Dovecot's log and its stderr. */
  logTail(lines?: number): string;
  /** Stops Dovecot (SIGTERM to the master, SIGKILL after 10 s), waits, removes the directory. Idempotent. */
  stop(): Promise<void>;
}

export interface MailOwner {
  readonly uid: number;
  readonly gid: number;
  readonly name: string;
  readonly group: string;
  /** True when the harness runs as root and Dovecot runs as the `dovecot` user. */
  readonly dropsPrivileges: boolean;
}

const DEFAULT_USERS: Readonly<Record<string, string>> = { alice: 'alicepass' };
const USER_NAME = /^[A-Za-z0-9_][A-Za-z0-9._@+=-]{0,63}$/;
const START_ATTEMPTS = 3;
const STOP_TIMEOUT_MS = 10_000;

let instanceCounter = 0;
let deliverCounter = 0;

/** Who owns mail files: the `dovecot` system user when we are root, else ourselves. */
export function dovecotMailOwner(): MailOwner {
  const me = userInfo();
  if (me.uid !== 0) return { uid: me.uid, gid: me.gid, name: me.username, group: groupName(me.gid), dropsPrivileges: false };
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('dovecot:'));
  const fields = line?.split(':');
  const uid = Number(fields?.[2]);
  const gid = Number(fields?.[3]);
  if (fields === undefined || !Number.isInteger(uid) || !Number.isInteger(gid)) {
    throw new Error('running as root, but there is no "dovecot" system user to run Dovecot as (is dovecot-core installed?)');
  }
  return { uid, gid, name: 'dovecot', group: groupName(gid), dropsPrivileges: true };
}

function groupName(gid: number): string {
  try {
    const line = readFileSync('/etc/group', 'utf8')
      .split('\n')
      .find((l) => l.split(':')[2] === String(gid));
    const name = line?.split(':')[0];
    if (name !== undefined && name !== '') return name;
  } catch {
    // No /etc/group: fall through.
  }
  throw new Error(`no group name for gid ${gid} in /etc/group (Dovecot needs one for default_internal_group)`);
}

/** Path of a program: the first existing candidate, else the name after checking it is on PATH. */
function program(name: string, candidates: readonly string[]): string {
  for (const c of candidates) if (existsSync(c)) return c;
  requireProgram(name);
  return name;
}

export function dovecotBinary(): string {
  return program('dovecot', ['/usr/sbin/dovecot']);
}

function doveadmBinary(): string {
  return program('doveadm', ['/usr/bin/doveadm', '/usr/sbin/doveadm']);
}

/** Chowns a path and everything below it (lchown semantics: links are not followed). */
export function chownTree(path: string, uid: number, gid: number): void {
  const stack = [path];
  for (let guard = 0; stack.length > 0 && guard < 10_000_000; guard++) {
    const p = stack.pop() as string;
    const st = lstatSync(p);
    if (st.uid !== uid || st.gid !== gid) chownSync(p, uid, gid);
    if (st.isDirectory()) for (const name of readdirSync(p)) stack.push(join(p, name));
  }
}

/** Distinct free TCP ports on 127.0.0.1 (bound to port 0, then closed). */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolvePort, reject) => {
          const s = createServer();
          s.once('error', reject);
          s.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => resolvePort(s));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  return ports;
}

/** CRLF size of a message: what ,W= records and POP3 announces. */
function crlfSize(body: Buffer): number {
  let n = body.length;
  for (let i = body.indexOf(0x0a); i >= 0; i = body.indexOf(0x0a, i + 1)) if (i === 0 || body[i - 1] !== 0x0d) n++;
  return n;
}

interface Ports {
  imap: number;
  pop3: number;
  imaps?: number;
  pop3s?: number;
}

interface Layout {
  dir: string;
  configPath: string;
  logPath: string;
  mailRoot: string;
  usersPath: string;
  /** instance_name of the running attempt; service processes are titled "dovecot-<instance>/<service>". */
  instance: string;
  owner: MailOwner;
  users: Readonly<Record<string, string>>;
  certPath?: string;
  keyPath?: string;
}

function configText(layout: Layout, ports: Ports, opts: DovecotOptions, instance: string): string {
  const protocols = opts.protocols ?? ['imap', 'pop3'];
  if (protocols.length === 0) throw new Error('startDovecot: protocols must not be empty');
  const { dir, owner } = layout;
  const tls = opts.tls === true;
  const tuning = opts.pop3Tuning === true;
  const lines: string[] = [
    `# Generated by test/helpers/dovecot.ts for a private test instance; /etc/dovecot is not read.`,
    `instance_name = ${instance}`,
    `base_dir = ${dir}/run`,
    `state_dir = ${dir}/state`,
    `log_path = ${layout.logPath}`,
    `info_log_path = ${layout.logPath}`,
    `protocols = ${protocols.join(' ')}`,
    `listen = 127.0.0.1`,
    `shutdown_clients = yes`,
    `default_internal_user = ${owner.name}`,
    `default_internal_group = ${owner.group}`,
    `default_login_user = ${owner.name}`,
    `first_valid_uid = ${owner.uid}`,
    `last_valid_uid = ${owner.uid}`,
    `first_valid_gid = ${owner.gid}`,
    `last_valid_gid = ${owner.gid}`,
    `disable_plaintext_auth = no`,
    `auth_mechanisms = plain login`,
    `auth_failure_delay = ${opts.authFailureDelaySeconds ?? 0} secs`,
    `mail_location = maildir:${layout.mailRoot}/%u`,
    `namespace inbox {`,
    `  inbox = yes`,
    `}`,
    `passdb {`,
    `  driver = passwd-file`,
    `  args = scheme=PLAIN username_format=%u ${layout.usersPath}`,
    `}`,
    `userdb {`,
    `  driver = passwd-file`,
    `  args = username_format=%u ${layout.usersPath}`,
    `}`,
  ];
  if (tls) {
    lines.push(`ssl = yes`, `ssl_cert = <${layout.certPath}`, `ssl_key = <${layout.keyPath}`, `ssl_min_protocol = TLSv1.2`);
  } else {
    lines.push(`ssl = no`);
  }
  lines.push(
    `service imap-login {`,
    `  chroot =`,
    `  inet_listener imap {`,
    `    address = 127.0.0.1`,
    `    port = ${protocols.includes('imap') ? ports.imap : 0}`,
    `  }`,
    `  inet_listener imaps {`,
    `    address = 127.0.0.1`,
    `    port = ${tls && protocols.includes('imap') ? ports.imaps : 0}`,
    `    ssl = yes`,
    `  }`,
    `}`,
    `service pop3-login {`,
    `  chroot =`,
    `  inet_listener pop3 {`,
    `    address = 127.0.0.1`,
    `    port = ${protocols.includes('pop3') ? ports.pop3 : 0}`,
    `  }`,
    `  inet_listener pop3s {`,
    `    address = 127.0.0.1`,
    `    port = ${tls && protocols.includes('pop3') ? ports.pop3s : 0}`,
    `    ssl = yes`,
    `  }`,
    ...(tuning ? [`  service_count = 0`, `  process_min_avail = 2`] : []),
    `}`,
    `service anvil {`,
    `  chroot =`,
    `  unix_listener anvil-auth-penalty {`,
    `    mode = 0`,
    `  }`,
    `}`,
  );
  const perUserIp = opts.mailMaxUseripConnections === undefined ? [] : [`  mail_max_userip_connections = ${opts.mailMaxUseripConnections}`];
  lines.push(`protocol imap {`, ...perUserIp, `}`);
  lines.push(
    `protocol pop3 {`,
    ...perUserIp,
    ...(opts.pop3UidlFormat !== undefined ? [`  pop3_uidl_format = ${opts.pop3UidlFormat}`] : []),
    ...(tuning ? [`  pop3_no_flag_updates = yes`] : []),
    `}`,
  );
  if (tuning) lines.push(`maildir_very_dirty_syncs = yes`);
  if (opts.extraConfig !== undefined) lines.push(opts.extraConfig);
  return lines.join('\n') + '\n';
}

function tailOf(path: string, lines: number): string {
  try {
    return readFileSync(path, 'utf8')
      .split('\n')
      .slice(-lines - 1)
      .join('\n')
      .trim();
  } catch {
    return '(no log file)';
  }
}

/** Waits for a greeting on a port (`+OK` for POP3, `* OK` for IMAP). Resolves false on any failure. */
function greets(port: number, tls: boolean): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ host: '127.0.0.1', port });
    let data = '';
    const finish = (ok: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      done(ok);
    };
    const timer = setTimeout(() => finish(false), 1000);
    socket.once('error', () => finish(false));
    socket.once('close', () => finish(false));
    if (tls) {
      // For an implicit-TLS port, an accepted TCP connection is enough (the handshake is the client's job).
      socket.once('connect', () => finish(true));
      return;
    }
    socket.on('data', (chunk: Buffer) => {
      data += chunk.toString('latin1');
      if (data.includes('\r\n')) finish(/^(\+OK|\* OK)/.test(data));
    });
  });
}

/** Starts a private Dovecot. Fails with the tail of its log if it does not come up. */
export async function startDovecot(opts: DovecotOptions = {}): Promise<DovecotInstance> {
  const dovecot = dovecotBinary();
  const owner = dovecotMailOwner();
  if (owner.dropsPrivileges) requireProgram('setpriv');
  const users = opts.users ?? DEFAULT_USERS;
  for (const [name, password] of Object.entries(users)) {
    if (!USER_NAME.test(name)) throw new Error(`startDovecot: unusable user name ${JSON.stringify(name)}`);
    if (/[:\n\r]/.test(password) || password === '') throw new Error(`startDovecot: the password of ${name} must be non-empty without ':' or line breaks`);
  }

  const dir = mkdtempSync(join(tmpdir(), 'popgate-dovecot-'));
  const layout: Layout = {
    dir,
    configPath: join(dir, 'dovecot.conf'),
    logPath: join(dir, 'dovecot.log'),
    mailRoot: resolve(opts.mailRoot ?? join(dir, 'mail')),
    usersPath: join(dir, 'users'),
    instance: '',
    owner,
    users,
  };
  try {
    for (const sub of ['run', 'state', 'home']) mkdirSync(join(dir, sub), { recursive: true });
    mkdirSync(layout.mailRoot, { recursive: true });
    const passwd = Object.entries(users).map(([name, password]) => {
      mkdirSync(join(dir, 'home', name), { recursive: true });
      for (const sub of ['cur', 'new', 'tmp']) mkdirSync(join(layout.mailRoot, name, sub), { recursive: true });
      return `${name}:{PLAIN}${password}:${owner.uid}:${owner.gid}::${join(dir, 'home', name)}::`;
    });
    writeFileSync(layout.usersPath, passwd.join('\n') + '\n', { mode: 0o600 });
    let caCertPath: string | undefined;
    if (opts.tls === true) {
      // Copy: testCert()'s folder is private to us, and Dovecot reads the files as its own user.
      const cert = testCert();
      layout.certPath = join(dir, 'cert.pem');
      layout.keyPath = join(dir, 'key.pem');
      copyFileSync(cert.certPath, layout.certPath);
      copyFileSync(cert.keyPath, layout.keyPath);
      caCertPath = layout.certPath;
    }
    writeFileSync(layout.logPath, '');
    if (owner.dropsPrivileges) {
      chownTree(dir, owner.uid, owner.gid);
      if (!layout.mailRoot.startsWith(dir + '/')) chownTree(layout.mailRoot, owner.uid, owner.gid);
    }

    let lastError: Error | undefined;
    for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
      const [imap, pop3, imaps, pop3s] = (await freePorts(4)) as [number, number, number, number];
      const ports: Ports = opts.tls === true ? { imap, pop3, imaps, pop3s } : { imap, pop3 };
      layout.instance = `popgate-test-${process.pid}-${++instanceCounter}`;
      writeFileSync(layout.configPath, configText(layout, ports, opts, layout.instance));
      if (owner.dropsPrivileges) chownSync(layout.configPath, owner.uid, owner.gid);
      try {
        const running = await launch(dovecot, layout, ports, opts);
        return instanceHandle(layout, ports, running, opts, caCertPath);
      } catch (err) {
        lastError = err as Error;
        if (!/Address already in use/i.test(lastError.message)) break;
      }
    }
    throw lastError ?? new Error('startDovecot: failed');
  } catch (err) {
    if (opts.keepDir !== true) rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

interface Running {
  child: ChildProcess;
  exited: Promise<void>;
  isExited: () => boolean;
  output: () => string;
}

async function launch(dovecot: string, layout: Layout, ports: Ports, opts: DovecotOptions): Promise<Running> {
  const { owner } = layout;
  const [cmd, args] = owner.dropsPrivileges
    ? ['setpriv', [`--reuid=${owner.uid}`, `--regid=${owner.gid}`, '--init-groups', dovecot, '-F', '-c', layout.configPath]]
    : [dovecot, ['-F', '-c', layout.configPath]];
  const child = spawn(cmd, args, { cwd: layout.dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exited = false;
  let exitInfo = '';
  const exitedPromise = new Promise<void>((resolveExit) => {
    child.once('exit', (code, signal) => {
      exited = true;
      exitInfo = signal !== null ? `signal ${signal}` : `exit code ${String(code)}`;
      resolveExit();
    });
    child.once('error', (err) => {
      exited = true;
      exitInfo = err.message;
      resolveExit();
    });
  });
  activeChildren.add(child);
  void exitedPromise.then(() => activeChildren.delete(child));

  const protocols = opts.protocols ?? ['imap', 'pop3'];
  const checks: { port: number; tls: boolean }[] = [];
  if (protocols.includes('pop3')) checks.push({ port: ports.pop3, tls: false });
  if (protocols.includes('imap')) checks.push({ port: ports.imap, tls: false });
  if (opts.tls === true && protocols.includes('pop3') && ports.pop3s !== undefined) checks.push({ port: ports.pop3s, tls: true });
  if (opts.tls === true && protocols.includes('imap') && ports.imaps !== undefined) checks.push({ port: ports.imaps, tls: true });

  const deadline = Date.now() + (opts.startTimeoutMs ?? 15_000);
  const pending = new Set(checks);
  for (let round = 0; pending.size > 0; round++) {
    if (exited) break;
    if (Date.now() > deadline) break;
    for (const c of [...pending]) if (await greets(c.port, c.tls)) pending.delete(c);
    if (pending.size > 0) await new Promise((r) => setTimeout(r, Math.min(25 * (round + 1), 200)));
  }
  if (pending.size === 0 && !exited) {
    return { child, exited: exitedPromise, isExited: () => exited, output: () => output };
  }
  const why = exited
    ? `dovecot exited (${exitInfo})`
    : `timed out after ${opts.startTimeoutMs ?? 15_000} ms waiting for ports ${[...pending].map((c) => c.port).join(', ')}`;
  if (!exited) {
    child.kill('SIGKILL');
    await exitedPromise;
  }
  throw new Error(
    `startDovecot: ${why}.\n--- dovecot stdout/stderr ---\n${output.trim() || '(empty)'}\n--- ${layout.logPath} (tail) ---\n${tailOf(layout.logPath, 30)}`,
  );
}

function instanceHandle(layout: Layout, ports: Ports, running: Running, opts: DovecotOptions, caCertPath: string | undefined): DovecotInstance {
  const { owner, dir } = layout;
  const mailDir = (user: string): string => {
    if (!USER_NAME.test(user)) throw new Error(`mailDir: unusable user name ${JSON.stringify(user)}`);
    return join(layout.mailRoot, user);
  };
  const own = (path: string): void => {
    if (owner.dropsPrivileges) chownTree(path, owner.uid, owner.gid);
  };
  let stopping: Promise<void> | undefined;
  const handle: DovecotInstance = {
    dir,
    configPath: layout.configPath,
    logPath: layout.logPath,
    imapPort: ports.imap,
    pop3Port: ports.pop3,
    ...(ports.pop3s !== undefined && { pop3sPort: ports.pop3s }),
    ...(ports.imaps !== undefined && { imapsPort: ports.imaps }),
    ...(caCertPath !== undefined && { caCertPath }),
    pid: running.child.pid as number,
    users: layout.users,
    owner,
    mailDir,
    own,
    deliver(user, content) {
      const box = mailDir(user);
      for (const sub of ['cur', 'new', 'tmp']) {
        const p = join(box, sub);
        if (!existsSync(p)) {
          mkdirSync(p, { recursive: true });
          own(box);
        }
      }
      const body = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
      deliverCounter++;
      const time = Math.floor(Date.now() / 1000);
      const name = `${time}.M${deliverCounter}P${process.pid}.${hostname().replace(/[/:,]/g, '_')},S=${body.length},W=${crlfSize(body)}`;
      const tmp = join(box, 'tmp', name);
      const fd = openSync(tmp, 'wx', 0o600);
      try {
        writeSync(fd, body);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      own(tmp);
      renameSync(tmp, join(box, 'new', name));
      return name;
    },
    doveadm(args, input) {
      const bin = doveadmBinary();
      return new Promise((resolveRun, reject) => {
        const child = spawn(bin, ['-c', layout.configPath, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
        child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
        child.once('error', reject);
        child.once('close', (code) => {
          if (code === 0) resolveRun(out);
          else reject(new Error(`doveadm ${args.join(' ')} failed (exit ${String(code)}): ${err.trim() || out.trim()}`));
        });
        child.stdin.on('error', () => undefined);
        child.stdin.end(input ?? '');
      });
    },
    logTail(lines = 30) {
      const out = running.output().trim();
      return `${tailOf(layout.logPath, lines)}${out === '' ? '' : `\n--- stdout/stderr ---\n${out.split('\n').slice(-lines).join('\n')}`}`;
    },
    stop() {
      stopping ??= (async () => {
        if (!running.isExited()) {
          running.child.kill('SIGTERM');
          let timer: NodeJS.Timeout | undefined;
          const timedOut = await Promise.race([
            running.exited.then(() => false),
            new Promise<boolean>((r) => (timer = setTimeout(() => r(true), STOP_TIMEOUT_MS))),
          ]);
          clearTimeout(timer);
          if (timedOut) {
            running.child.kill('SIGKILL');
            await running.exited;
          }
        }
        await waitForOrphans(running.child.pid as number, layout.instance);
        if (opts.keepDir !== true) rmSync(dir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
  return handle;
}

/** Service processes left behind by the master (normally none: it stops them first). Bounded wait, then SIGKILL. */
async function waitForOrphans(masterPid: number, instance: string): Promise<void> {
  const orphans = (): number[] => {
    const found: number[] = [];
    let names: string[];
    try {
      names = readdirSync('/proc');
    } catch {
      return found;
    }
    for (const name of names) {
      if (!/^\d+$/.test(name)) continue;
      try {
        const cmdline = readFileSync(`/proc/${name}/cmdline`, 'latin1');
        const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
        const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
        if (state !== 'Z' && cmdline.startsWith(`dovecot-${instance}/`) && Number(name) !== masterPid) {
          found.push(Number(name));
        }
      } catch {
        // Gone meanwhile.
      }
    }
    return found;
  };
  for (let i = 0; i < 40; i++) {
    if (orphans().length === 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  for (const pid of orphans()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

/** Masters still running when this process exits are killed, so a crashed test leaves no Dovecot behind. */
const activeChildren = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of activeChildren) child.kill('SIGKILL');
});

/** Dovecot's version string, e.g. "2.3.19.1 (9b53102964)". */
export function dovecotVersion(): string {
  const r = spawnSync(dovecotBinary(), ['--version'], { encoding: 'utf8' });
  return (r.stdout ?? '').trim() || 'unknown';
}
