/**
 * A private HAProxy 2.6 in TCP mode on 127.0.0.1 for tests: its own config file in a temporary
 * folder, run in the foreground as a child process (`-db`), one frontend per route, each to a
 * single server line (`send-proxy`, `send-proxy-v2`, health checks) written by the caller.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts } from './dovecot.js';
import { requireProgram } from './programs.js';

export interface HaproxyRoute {
  /** The server line's options after `server s1 127.0.0.1:PORT`, e.g. `send-proxy-v2 check inter 200ms`. */
  readonly server: string;
  readonly port: number;
  /** Backend lines before the server line, e.g. `option tcp-check`. */
  readonly backend?: readonly string[];
}

export interface HaproxyInstance {
  /** The frontend port of each route, in the order given. */
  readonly ports: readonly number[];
  readonly configPath: string;
  /** What HAProxy wrote on stdout and stderr so far. */
  output(): string;
  stop(): Promise<void>;
}

export function haproxyBinary(): string {
  requireProgram('haproxy');
  return 'haproxy';
}

export async function startHaproxy(routes: readonly HaproxyRoute[]): Promise<HaproxyInstance> {
  const binary = haproxyBinary();
  const dir = mkdtempSync(join(tmpdir(), 'popgate-haproxy-'));
  const ports = await freePorts(routes.length);
  const lines = ['global', '  maxconn 200', 'defaults', '  mode tcp', '  timeout connect 2s', '  timeout client 1m', '  timeout server 1m'];
  routes.forEach((route, i) => {
    lines.push(`frontend f${i}`, `  bind 127.0.0.1:${ports[i] as number}`, `  default_backend b${i}`);
    lines.push(`backend b${i}`, ...(route.backend ?? []).map((l) => `  ${l}`), `  server s1 127.0.0.1:${route.port} ${route.server}`);
  });
  const configPath = join(dir, 'haproxy.cfg');
  writeFileSync(configPath, lines.join('\n') + '\n');
  const check = spawnSync(binary, ['-c', '-q', '-f', configPath], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`haproxy -c refused the test config:\n${check.stderr}${check.stdout}\n${lines.join('\n')}`);
  const child: ChildProcess = spawn(binary, ['-db', '-f', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer): void => void (output = (output + chunk.toString('utf8')).slice(-20_000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  running.add(child);
  void exited.then(() => running.delete(child));
  const deadline = Date.now() + 10_000;
  for (const port of ports) {
    while (!(await accepts(port))) {
      if (child.exitCode !== null || Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`haproxy did not come up on 127.0.0.1:${port}:\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    ports,
    configPath,
    output: () => output,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** HAProxies still running when this process exits are killed, so a crashed test leaves none behind. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});
