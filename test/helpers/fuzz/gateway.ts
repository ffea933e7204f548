/** The fuzzer's gateway under test (test/helpers/pop3-fuzz.ts): a popgate child with Maildir users. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { hashPassword } from '../../../src/auth/password-hash.js';
import { UsersFile } from '../../../src/auth/users-file.js';
import { NODE_FLAGS } from '../../../src/node-flags.js';
import { freePorts } from '../dovecot.js';
import { addMessage, makeMaildir } from '../maildir.js';
import { MAX_BAD_COMMANDS } from './limits.js';

export interface FuzzUser {
  readonly name: string;
  readonly password: string;
  readonly maildir: string;
  /** The messages as written (LF line ends), in listing order. */
  readonly messages: readonly { readonly file: string; readonly content: Buffer }[];
}

export interface FuzzGateway {
  readonly port: number;
  readonly pid: number;
  readonly users: readonly FuzzUser[];
  /** Resident set size and its peak (VmRSS, VmHWM), in octets. */
  memory(): { rss: number; peak: number };
  /** The JS heap plus Buffer memory in use after a full garbage collection in the child (octets). */
  liveHeap(): Promise<number>;
  /** The process exited (crashed). */
  exited(): string | undefined;
  logTail(lines?: number): string;
  stop(): Promise<void>;
}

const CLI = fileURLToPath(new URL('../../../src/cli.js', import.meta.url));
const GC_PROBE = new URL('../gc-probe.js', import.meta.url).href;

function fuzzMessages(user: number): Buffer[] {
  return [
    Buffer.from(`From: a@example.com\nSubject: plain ${user}\n\nHello.\n`),
    Buffer.from(`From: b@example.com\r\nSubject: crlf\r\n\r\n.leading dot\r\n..two\r\n.\r\nend\r\n`),
    Buffer.from(`Subject: no final line end\n\nlast line`),
    Buffer.concat([Buffer.from('Subject: 8bit \xe9\xff\n\nNUL \0 and bare CR \r here\n', 'latin1')]),
    Buffer.from(`Subject: long\n\n${'x'.repeat(3000)}\n${'y'.repeat(100)}\n`.repeat(4)),
  ];
}

export async function startFuzzGateway(userCount: number): Promise<FuzzGateway> {
  const dir = mkdtempSync(join(tmpdir(), 'popgate-fuzz-'));
  const usersFile = join(dir, 'users.yaml');
  const users: FuzzUser[] = [];
  const entries: [string, string][] = [];
  for (let u = 0; u < userCount; u++) {
    const name = `fuzz${u}`;
    const password = `pw${u}`;
    const maildir = makeMaildir(join(dir, 'mail', name));
    const messages = fuzzMessages(u).map((content, i) => ({
      file: addMessage(maildir, content, { time: 1_600_000_000 + i, sizeFields: i % 2 === 0 }),
      content,
    }));
    users.push({ name, password, maildir, messages });
    entries.push([name, await hashPassword(password)]);
  }
  new UsersFile(usersFile).update((map) => {
    for (const [name, password] of entries) map.set(name, { password });
  });
  const [port] = (await freePorts(1)) as [number];
  const configPath = join(dir, 'popgate.yaml');
  writeFileSync(
    configPath,
    stringify({
      listeners: [{ host: '127.0.0.1', port, tls: 'none' }],
      tenants: { main: { adapter: 'maildir', path: join(dir, 'mail', '{user}'), users: usersFile } },
      defaultTenant: 'main',
      allowPlaintextAuth: 'always',
      auth: { mechanisms: ['PLAIN', 'LOGIN', 'XOAUTH2', 'OAUTHBEARER', 'CRAM-MD5'], apop: true },
      // No login penalties: the fuzzer fails logins by the thousand from one address on purpose.
      limits: { authFailureDelayMs: 0, maxBadCommands: MAX_BAD_COMMANDS, authPenalty: { baseMs: 0 } },
      log: { level: 'warn' },
    }),
  );
  let log = '';
  const probeFile = join(dir, 'gc-probe.json');
  const child: ChildProcess = spawn(process.execPath, [...NODE_FLAGS, '--expose-gc', '--import', GC_PROBE, CLI, 'serve', '--config', configPath], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, POPGATE_GC_PROBE_FILE: probeFile },
  });
  const keep = (c: Buffer): void => {
    log = (log + c.toString('utf8')).slice(-50_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let exitInfo: string | undefined;
  const exitedPromise = new Promise<void>((resolve) => child.once('exit', (code, signal) => ((exitInfo = signal ?? `exit ${String(code)}`), resolve())));
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (exitInfo !== undefined) throw new Error(`popgate exited at start (${exitInfo}): ${log}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: '127.0.0.1', port });
      s.once('data', () => (s.end('QUIT\r\n'), resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`popgate did not listen: ${log}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const status = (): string => readFileSync(`/proc/${child.pid as number}/status`, 'latin1');
  const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status())?.[1] ?? NaN) * 1024;
  return {
    port,
    pid: child.pid as number,
    users,
    memory: () => ({ rss: kib('VmRSS'), peak: kib('VmHWM') }),
    exited: () => exitInfo,
    async liveHeap() {
      rmSync(probeFile, { force: true });
      child.kill('SIGUSR2');
      for (let i = 0; i < 200; i++) {
        await new Promise((r) => setTimeout(r, 10));
        try {
          const usage = JSON.parse(readFileSync(probeFile, 'utf8')) as { heapUsed: number; arrayBuffers: number };
          return usage.heapUsed + usage.arrayBuffers;
        } catch {
          // Not written yet.
        }
      }
      throw new Error('the gc probe did not answer');
    },
    logTail: (lines = 20) => log.trim().split('\n').slice(-lines).join('\n'),
    async stop() {
      if (exitInfo === undefined) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exitedPromise;
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
