/**
 * A private redis-server on 127.0.0.1: a free port, a temporary folder, no persistence
 * (`--save '' --appendonly no`), so a stop loses its data as a crashed cache would. It can be
 * stopped and started again on the same port, or hung (an outage the gateway must ride out).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './client-run.js';
import { requireProgram } from './programs.js';

const START_TIMEOUT_MS = 10_000;

export class RedisServer {
  private child: ChildProcess | undefined;
  private output = '';

  private constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  static async start(): Promise<RedisServer> {
    requireProgram('redis-server');
    const server = new RedisServer(await freePort(), mkdtempSync(join(tmpdir(), 'popgate-redis-')));
    await server.resume();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts the server again on its port (after `pause()`), empty; resolves once it accepts connections. */
  async resume(): Promise<void> {
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir, '--loglevel', 'notice'];
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.output = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error(`redis-server did not start within ${START_TIMEOUT_MS} ms:\n${this.output}`)), START_TIMEOUT_MS);
      const fail = (err: Error): void => {
        clearTimeout(timer);
        child.kill('SIGKILL');
        reject(err);
      };
      const onData = (d: Buffer): void => {
        this.output += d.toString('utf8');
        if (/Ready to accept connections/.test(this.output)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code) => fail(new Error(`redis-server exited with code ${code}:\n${this.output}`)));
    });
  }

  /** Stops the server (its data is lost); resolves once the process has exited. */
  async pause(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    await exited;
  }

  /** Stops (SIGSTOP) or resumes (SIGCONT) the process: connections stay open, nothing answers. */
  hang(on: boolean): void {
    this.child?.kill(on ? 'SIGSTOP' : 'SIGCONT');
  }

  async stop(): Promise<void> {
    this.hang(false);
    await this.pause();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** A client of its own, for looking at what the gateway stored (quit it after use). */
  client(): Redis {
    return new Redis(this.port, '127.0.0.1', { lazyConnect: false, maxRetriesPerRequest: 1 });
  }
}
