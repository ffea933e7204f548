/**
 * popgate in a child process (`node dist/src/cli.js serve --config <yaml>`), so its CPU time
 * and memory are its own. The users file is made with `popgate user add`, password on stdin.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { NODE_FLAGS } from '../../src/node-flags.js';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { freePorts } from '../../test/helpers/dovecot.js';

/** dist/src/cli.js, next to this file's dist/bench/lib/. */
export const CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url));

export interface PopgateProcess {
  readonly pid: number;
  readonly port: number;
  readonly logPath: string;
  logTail(lines?: number): string;
  stop(): Promise<void>;
}

/**
 * The tenant popgate serves: a Maildir, an S3 bucket, a REST store or Gmail through a service
 * account (gateway-managed users), or an IMAP server (passthrough auth).
 */
export type PopgateBackend =
  | {
      readonly adapter: 'maildir';
      /** Path template of the Maildirs, with {user}. */ readonly mailPath: string;
      readonly user: string;
      readonly password: string;
      /** A users file made by the caller (many accounts), used instead of adding `user`. */
      readonly usersFile?: string;
    }
  | {
      readonly adapter: 's3';
      readonly endpoint: string;
      readonly bucket: string;
      /** Prefix template, with {user}. */
      readonly prefix: string;
      readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
      readonly user: string;
      readonly password: string;
    }
  | {
      readonly adapter: 'rest';
      readonly baseUrl: string;
      /** The store's bearer token, in a file (`secretFile`). */
      readonly tokenFile: string;
      /** POP3 users and passwords (the mailbox is the user name); deleteMode keep. */
      readonly users: Readonly<Record<string, string>>;
    }
  | {
      readonly adapter: 'gmail';
      readonly baseUrl: string;
      readonly tokenUrl: string;
      /** The service account's JSON key file (auth: serviceAccount). */
      readonly keyFile: string;
      /** The routed domain: POP3 logins are `local@domain`, the Google user is `{local}@{domain}`. */
      readonly domain: string;
      /** POP3 users (full addresses) and passwords; deleteMode keep. */
      readonly users: Readonly<Record<string, string>>;
      /** Tenant settings over the adapter's defaults (e.g. unitsPerSecond, maxInFlightPerUser). */
      readonly settings?: Readonly<Record<string, unknown>>;
    }
  | {
      readonly adapter: 'imap';
      readonly host: string;
      readonly port: number;
      readonly uidlFormat?: 'auto' | 'uid' | 'dovecot';
      readonly deleteMode?: 'expunge' | 'flag' | 'keep';
      /** `connectionReuse.seconds` (0: off). */
      readonly reuseSeconds?: number;
    };

export type PopgateLogLevel = 'warn' | 'info' | 'debug' | 'error' | 'trace';

export interface PopgateOptions {
  /** Folder for the config, users file and log. */
  readonly dir: string;
  readonly backend: PopgateBackend;
  readonly logLevel?: PopgateLogLevel;
  /** Extra node options for the child (e.g. --cpu-prof --cpu-prof-dir DIR). */
  readonly nodeArgs?: readonly string[];
  /** `limits` of the config (defaults otherwise). */
  readonly limits?: Readonly<Record<string, unknown>>;
}

function tail(path: string, lines: number): string {
  try {
    return readFileSync(path, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

export function addUser(usersFile: string, user: string, password: string): void {
  const r = spawnSync(process.execPath, [CLI, 'user', 'add', user, '-f', usersFile], { input: `${password}\n`, encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`popgate user add ${user} failed (exit ${String(r.status)}): ${r.stderr.trim()}`);
}

function greeting(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    let data = '';
    const done = (v: string | undefined): void => {
      clearTimeout(timer);
      s.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => done(undefined), 1000);
    s.on('data', (c: Buffer) => {
      data += c.toString('latin1');
      const i = data.indexOf('\r\n');
      if (i >= 0) {
        // Leave politely so the gateway logs no error.
        s.write('QUIT\r\n');
        done(data.slice(0, i));
      }
    });
    s.once('error', () => done(undefined));
    s.once('close', () => done(undefined));
  });
}

export async function startPopgate(opts: PopgateOptions): Promise<PopgateProcess> {
  const configPath = join(opts.dir, 'popgate.yaml');
  const logPath = join(opts.dir, 'popgate.log');
  const b = opts.backend;
  let tenant: Record<string, unknown>;
  if (b.adapter === 'maildir') {
    const usersFile = b.usersFile ?? join(opts.dir, 'users.yaml');
    if (b.usersFile === undefined) addUser(usersFile, b.user, b.password);
    tenant = { adapter: 'maildir', path: b.mailPath, users: usersFile };
  } else if (b.adapter === 's3') {
    const usersFile = join(opts.dir, 'users.yaml');
    addUser(usersFile, b.user, b.password);
    tenant = {
      adapter: 's3',
      endpoint: b.endpoint,
      forcePathStyle: true,
      bucket: b.bucket,
      prefix: b.prefix,
      credentials: { ...b.credentials },
      users: usersFile,
      deleteMode: 'keep',
    };
  } else if (b.adapter === 'rest') {
    const usersFile = join(opts.dir, 'users.yaml');
    for (const [user, password] of Object.entries(b.users)) addUser(usersFile, user, password);
    tenant = { adapter: 'rest', baseUrl: b.baseUrl, mailbox: '{user}', auth: 'bearer', secretFile: b.tokenFile, users: usersFile, deleteMode: 'keep' };
  } else if (b.adapter === 'gmail') {
    const usersFile = join(opts.dir, 'users.yaml');
    for (const [user, password] of Object.entries(b.users)) addUser(usersFile, user, password);
    tenant = {
      adapter: 'gmail',
      auth: 'serviceAccount',
      serviceAccountKey: b.keyFile,
      users: usersFile,
      domains: [b.domain],
      userName: '{local}@{domain}',
      baseUrl: b.baseUrl,
      tokenUrl: b.tokenUrl,
      deleteMode: 'keep',
      ...b.settings,
    };
  } else {
    // Plain IMAP is allowed for loopback hosts only; the POP3 login is sent on (passthrough).
    tenant = {
      adapter: 'imap',
      host: b.host,
      port: b.port,
      tls: 'none',
      folder: 'INBOX',
      auth: 'passthrough',
      uidlFormat: b.uidlFormat ?? 'dovecot',
      deleteMode: b.deleteMode ?? 'keep',
      connectionReuse: { seconds: b.reuseSeconds ?? 0 },
    };
  }
  const [port] = (await freePorts(1)) as [number];
  const config = {
    listeners: [{ host: '127.0.0.1', port, tls: 'none' }],
    tenants: { bench: tenant },
    defaultTenant: 'bench',
    allowPlaintextAuth: 'always',
    ...(opts.limits !== undefined && { limits: opts.limits }),
    log: { level: opts.logLevel ?? 'warn' },
  };
  writeFileSync(configPath, stringify(config));
  const out = openSync(logPath, 'a');
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, [...NODE_FLAGS, ...(opts.nodeArgs ?? []), CLI, 'serve', '--config', configPath], { stdio: ['ignore', out, out] });
  } finally {
    closeSync(out);
  }
  let exited = false;
  let exitInfo = '';
  const exitedPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = true;
      exitInfo = signal !== null ? `signal ${signal}` : `exit code ${String(code)}`;
      resolve();
    });
  });
  running.add(child);
  void exitedPromise.then(() => running.delete(child));

  const deadline = Date.now() + 15_000;
  let greeted: string | undefined;
  for (let i = 0; greeted === undefined && !exited && Date.now() < deadline; i++) {
    greeted = await greeting(port);
    if (greeted === undefined) await new Promise((r) => setTimeout(r, Math.min(20 * (i + 1), 200)));
  }
  if (greeted === undefined || !greeted.startsWith('+OK')) {
    if (!exited) child.kill('SIGKILL');
    await exitedPromise;
    throw new Error(`popgate did not start (${exited ? exitInfo : 'no greeting'}; got ${JSON.stringify(greeted)}).\n--- ${logPath} ---\n${tail(logPath, 30)}`);
  }
  let stopping: Promise<void> | undefined;
  return {
    pid: child.pid as number,
    port,
    logPath,
    logTail: (lines = 30) => tail(logPath, lines),
    stop() {
      stopping ??= (async () => {
        if (exited) return;
        child.kill('SIGTERM');
        let timer: NodeJS.Timeout | undefined;
        const late = await Promise.race([exitedPromise.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), 10_000)))]);
        clearTimeout(timer);
        if (late) {
          child.kill('SIGKILL');
          await exitedPromise;
        }
      })();
      return stopping;
    },
  };
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});
