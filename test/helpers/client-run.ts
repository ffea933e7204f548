/** Running real client programs as child processes, with timeouts, for the client and CLI tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout as raw bytes. */
  readonly out: Buffer;
}

export interface RunOptions {
  readonly timeoutMs?: number;
  readonly env?: NodeJS.ProcessEnv;
  readonly input?: string | Buffer;
  readonly cwd?: string;
}

/** Runs a program to completion; kills it (SIGKILL) and rejects after the timeout. */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `${cmd} ${args.join(' ')} did not finish within ${timeoutMs} ms; stderr: ${Buffer.concat(err).toString('utf8').slice(-2000)}; stdout: ${Buffer.concat(out).toString('utf8').slice(-2000)}`,
        ),
      );
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const o = Buffer.concat(out);
      resolve({ code, signal, stdout: o.toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), out: o });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

/** A fresh temporary folder (removed by `cleanup`). */
export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `popgate-${prefix}-`));
}

export function cleanup(...dirs: (string | undefined)[]): void {
  for (const d of dirs) if (d !== undefined) rmSync(d, { recursive: true, force: true });
}

/**
 * Writes an MDA script that stores each message it gets on stdin in `outDir` as 00001, 00002, ...
 * (deliveries are sequential in every client used here), and returns its path.
 */
export function numberingMda(dir: string, outDir: string): string {
  mkdirSync(dir, { recursive: true });
  mkdirSync(outDir, { recursive: true });
  const script = join(dir, 'deliver.sh');
  writeFileSync(script, `#!/bin/sh\nset -e\nn=$(ls "${outDir}" | wc -l)\ncat > "${outDir}/$(printf %05d $((n + 1)))"\n`);
  chmodSync(script, 0o755);
  return script;
}

/** A TCP port that was free a moment ago (bind to port 0, read it, close). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Resolves with the exit code (and signal) of a running child, or rejects after `timeoutMs`. */
export function exited(child: ChildProcess, timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`process ${child.pid} did not exit within ${timeoutMs} ms`)), timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
}
