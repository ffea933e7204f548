/** The CLI as a child process (`node dist/src/cli.js ...`), for tests of serve, demo, route and reload. */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { run, type RunResult } from './client-run.js';
import { Pop3TestClient } from './pop3-client.js';

export const CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url));

/** Runs the CLI to completion. POPGATE_CONFIG is removed from the environment unless given. */
export function cli(args: readonly string[], opts: { input?: string; env?: Record<string, string> } = {}): Promise<RunResult> {
  const env = { ...process.env };
  delete env.POPGATE_CONFIG;
  return run(process.execPath, [CLI, ...args], { timeoutMs: 20_000, input: opts.input, env: { ...env, ...opts.env } });
}

/** A long-running CLI process (serve, demo) with its output collected. */
export interface Running {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
}

export function start(args: readonly string[], env: Record<string, string> = {}): Running {
  const base = { ...process.env };
  delete base.POPGATE_CONFIG;
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString('utf8')));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString('utf8')));
  return { child, stdout: () => out, stderr: () => err };
}

export function stop(p: Running | undefined): void {
  if (p !== undefined && p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
}

/** Waits until the gateway on `port` greets (the process may take a moment to listen). */
export async function waitForGreeting(port: number, p: Running, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (p.child.exitCode !== null) throw new Error(`the process exited (${p.child.exitCode}): ${p.stderr()}`);
    try {
      const c = await Pop3TestClient.connect(port);
      const greeting = c.greeting;
      await c.quit();
      assert.match(greeting, /^\+OK/);
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`no greeting on port ${port} within ${timeoutMs} ms: ${String(err)}; stderr: ${p.stderr()}`, { cause: err });
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
