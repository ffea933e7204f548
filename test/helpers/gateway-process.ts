/**
 * Real `popgate serve` processes on one shared Maildir and users file: several gateway
 * instances (or one with workers) serving the same mailboxes, as behind a load balancer.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { hashPassword } from '../../src/auth/password-hash.js';
import { UsersFile } from '../../src/auth/users-file.js';
import { start, stop, waitForGreeting, type Running } from './cli-process.js';
import { cleanup, exited, freePort, tempDir } from './client-run.js';
import { makeMaildir } from './maildir.js';

/** Mailboxes and accounts (password = name + 'pass') several gateways serve. */
export class SharedMailboxes {
  readonly dir = tempDir('shared');
  readonly usersFile = join(this.dir, 'users.yaml');
  private configs = 0;

  private constructor() {}

  static async create(users: readonly string[]): Promise<SharedMailboxes> {
    const m = new SharedMailboxes();
    const hashed = await Promise.all(users.map(async (u) => [u, await hashPassword(`${u}pass`)] as const));
    new UsersFile(m.usersFile).update((map) => {
      for (const [u, password] of hashed) map.set(u, { password });
    });
    for (const u of users) makeMaildir(m.maildir(u));
    return m;
  }

  maildir(user: string): string {
    return join(this.dir, 'mail', user);
  }

  /** A config serving these mailboxes on `port`; `extra` keys are merged over the top level, `tenant` into the tenant. */
  config(port: number, extra: Record<string, unknown> = {}, tenant: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      listeners: [{ host: '127.0.0.1', port }],
      allowPlaintextAuth: 'always',
      limits: { authFailureDelayMs: 50 },
      tenants: { main: { adapter: 'maildir', path: join(this.dir, 'mail', '{user}'), users: this.usersFile, ...tenant } },
      ...extra,
    };
  }

  /** Writes a config file and returns its path. */
  writeConfig(config: Record<string, unknown>, path = join(this.dir, `popgate-${++this.configs}.yaml`)): string {
    writeFileSync(path, stringify(config));
    return path;
  }

  remove(): void {
    cleanup(this.dir);
  }
}

export interface GatewayProcess {
  readonly port: number;
  readonly proc: Running;
  readonly configPath: string;
  /** The JSON log lines written so far, parsed. */
  logs(): Record<string, unknown>[];
  /** Lines whose `msg` is this. */
  lines(msg: string): Record<string, unknown>[];
  /** Waits for a log line with this `msg` (and these fields), after the first `from` lines. */
  waitForLine(msg: string, fields?: Record<string, unknown>, timeoutMs?: number, from?: number): Promise<Record<string, unknown>>;
  signal(signal: NodeJS.Signals): void;
  /** Resolves with the exit code and signal. */
  exited(timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL if still running. */
  kill(): void;
}

/** Starts `popgate serve` on a config of these mailboxes and waits for its greeting. */
export async function startGatewayProcess(
  mailboxes: SharedMailboxes,
  extra: Record<string, unknown> = {},
  tenant: Record<string, unknown> = {},
): Promise<GatewayProcess> {
  const port = await freePort();
  const configPath = mailboxes.writeConfig(mailboxes.config(port, extra, tenant));
  const proc = start(['serve', '--config', configPath]);
  try {
    await waitForGreeting(port, proc, 20_000);
  } catch (err) {
    stop(proc);
    throw err;
  }
  const logs = (): Record<string, unknown>[] =>
    proc
      .stdout()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  const matches = (line: Record<string, unknown>, msg: string, fields: Record<string, unknown>): boolean =>
    line.msg === msg && Object.entries(fields).every(([k, v]) => line[k] === v);
  return {
    port,
    proc,
    configPath,
    logs,
    lines: (msg) => logs().filter((l) => l.msg === msg),
    async waitForLine(msg, fields = {}, timeoutMs = 10_000, from = 0) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hit = logs()
          .slice(from)
          .find((l) => matches(l, msg, fields));
        if (hit !== undefined) return hit;
        if (Date.now() > deadline) throw new Error(`no "${msg}" ${JSON.stringify(fields)} log line within ${timeoutMs} ms; stderr: ${proc.stderr()}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    signal: (signal) => void proc.child.kill(signal),
    exited: (timeoutMs = 30_000) => exited(proc.child, timeoutMs),
    kill: () => stop(proc),
  };
}
