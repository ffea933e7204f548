/** Runs one benchmark session with the project's own clients, each in its own process. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { SessionResult } from '../clients/raw-client.js';

/** POP3 clients: the raw pipelined client and poplib. `imapflow` is the direct-IMAP reference (d). */
export type ClientKind = 'raw' | 'poplib' | 'imapflow';

/** dist/bench/clients/raw-client.js and the Python client in the source tree (bench/clients/). */
const RAW_CLIENT = fileURLToPath(new URL('../clients/raw-client.js', import.meta.url));
const POPLIB_CLIENT = fileURLToPath(new URL('../../../bench/clients/poplib_client.py', import.meta.url));
const IMAPFLOW_CLIENT = fileURLToPath(new URL('../clients/imapflow-client.js', import.meta.url));

export interface ClientRun {
  readonly kind: ClientKind;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly pipeline: number;
  readonly max?: number;
  readonly verify?: boolean;
  /** imapflow only: one unmeasured session first, in the same process (JIT warm). */
  readonly prime?: boolean;
  /** With prime: called after the priming session; the measured session starts when it resolves. */
  readonly onPrimed?: () => Promise<void>;
  readonly timeoutS?: number;
}

export class BenchProtocolError extends Error {
  override readonly name = 'BenchProtocolError';
}

export function clientLabel(kind: ClientKind, pipeline: number): string {
  return kind === 'raw' ? `raw pipe=${pipeline}` : kind === 'poplib' ? 'poplib' : 'imapflow fetch 1:*';
}

function isSessionResult(v: unknown): v is SessionResult & { ok: true } {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return o.ok === true && ['n', 'bytes', 'count', 'statSize', 'loginMs', 'statMs', 'uidlMs', 'retrS', 'totalS'].every((k) => typeof o[k] === 'number');
}

/** One session (no warm-up), as a child process; rejects on any protocol error. For `imapflow`, `port` is the IMAP port. */
export function runClientSession(run: ClientRun): Promise<SessionResult> {
  const common = ['127.0.0.1', String(run.port), run.user, run.password, '--runs', '1', '--warmup', '0', '--json'];
  if (run.max !== undefined) common.push('--max', String(run.max));
  if (run.verify === true) common.push('--verify');
  const primed = run.prime === true && run.kind === 'imapflow';
  if (primed) common.push('--prime');
  const handshake = primed && run.onPrimed !== undefined;
  if (handshake) common.push('--handshake');
  const timeoutS = run.timeoutS ?? 300;
  const [cmd, args] =
    run.kind === 'raw'
      ? [process.execPath, [RAW_CLIENT, ...common, '--pipeline', String(run.pipeline), '--timeout', String(timeoutS)]]
      : run.kind === 'poplib'
        ? ['python3', [POPLIB_CLIENT, ...common, '--timeout', String(timeoutS)]]
        : [process.execPath, [IMAPFLOW_CLIENT, ...common, '--timeout', String(timeoutS)]];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: [handshake ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let go = false;
    child.stdin?.on('error', () => undefined);
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString('utf8');
      if (handshake && !go && out.includes('{"primed":true}\n')) {
        go = true;
        void run.onPrimed().then(
          () => child.stdin?.end('go\n'),
          () => child.kill('SIGKILL'),
        );
      }
    });
    child.stderr?.on('data', (c: Buffer) => (err = (err + c.toString('utf8')).slice(-4000)));
    const killer = setTimeout(() => child.kill('SIGKILL'), (timeoutS + 30) * 1000);
    child.once('error', (e) => {
      clearTimeout(killer);
      reject(e);
    });
    child.once('close', (code, signal) => {
      clearTimeout(killer);
      const last = out.trim().split('\n').pop() ?? '';
      let parsed: unknown;
      try {
        parsed = JSON.parse(last);
      } catch {
        parsed = undefined;
      }
      if (code === 0 && isSessionResult(parsed)) return resolve(parsed);
      const reason =
        typeof parsed === 'object' && parsed !== null && typeof (parsed as { error?: unknown }).error === 'string'
          ? (parsed as { error: string }).error
          : `exit ${String(code ?? signal)}; stdout ${JSON.stringify(out.slice(-500))}; stderr ${JSON.stringify(err.slice(-1000))}`;
      reject(new BenchProtocolError(`${clientLabel(run.kind, run.pipeline)} client: ${reason}`));
    });
  });
}
