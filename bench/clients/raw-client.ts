/**
 * A raw-socket POP3 download client for benchmarks (any POP3 server).
 *
 * One session = connect, greeting, USER/PASS, STAT, UIDL, RETR 1..N (up to --pipeline W
 * commands in flight), QUIT. Nothing is deleted. Bodies are scanned with bulk searches for
 * "\r\n.\r\n" and "\r\n..", so the client costs little next to the server.
 *
 * Usage: node dist/bench/clients/raw-client.js HOST PORT USER PASSWORD
 *          [--pipeline W] [--runs N] [--warmup N] [--max N] [--verify] [--json] [--timeout S]
 * --max 0 gives login + STAT + UIDL sessions. --verify hashes every message (SHA-256 of the
 * un-stuffed body) and reports a digest of the sorted hashes, to compare servers.
 * --json prints one JSON object per session. Exit status 1 on any protocol error.
 */
import { createHash } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseClientArgs } from '../lib/client-args.js';

export interface SessionOptions {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** RETR commands in flight (1 = one at a time). */
  readonly pipeline: number;
  /** Retrieve at most this many messages (default: all). */
  readonly max?: number;
  readonly verify: boolean;
  readonly timeoutMs: number;
}

export interface SessionResult {
  /** Messages retrieved. */
  readonly n: number;
  /** Message octets received (un-stuffed, CRLF line ends). */
  readonly bytes: number;
  /** STAT's count and size. */
  readonly count: number;
  readonly statSize: number;
  readonly loginMs: number;
  readonly statMs: number;
  readonly uidlMs: number;
  readonly retrS: number;
  readonly totalS: number;
  /** With verify: SHA-256 over the sorted per-message SHA-256 hex digests (one per line). */
  readonly digest?: string;
  /** SHA-256 of the UIDL listing (un-stuffed body), to compare two servers' UIDLs. */
  readonly uidlDigest?: string;
  /** The first line of the UIDL listing. */
  readonly uidlFirst?: string;
  /** CPU seconds of the client process in the session (reported by the imapflow client). */
  readonly clientCpuS?: number;
}

const CRLF = Buffer.from('\r\n');
const TERMINATOR = Buffer.from('\r\n.\r\n');
const STUFFED = Buffer.from('\r\n..');
const MAX_STATUS_LINE = 64 * 1024;

interface Reply {
  readonly status: string;
  /** Un-stuffed body octets (multi-line replies). */
  readonly bytes: number;
  /** The un-stuffed body, when collected. */
  readonly body?: Buffer;
}

interface Pending {
  readonly what: string;
  readonly multi: boolean;
  readonly collect: boolean;
  readonly resolve: (r: Reply) => void;
  readonly reject: (e: Error) => void;
}

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
}

/** Removes dot-stuffing from a raw body (which still starts with the status line's CRLF). */
function unstuffWithLead(raw: Buffer): Buffer {
  const parts: Buffer[] = [];
  let from = 0;
  for (let i = raw.indexOf(STUFFED); i >= 0; i = raw.indexOf(STUFFED, i + 4)) {
    parts.push(raw.subarray(from, i + 3));
    from = i + 4;
  }
  parts.push(raw.subarray(from));
  return Buffer.concat(parts).subarray(2);
}

class RawPop3 {
  private readonly queue: Pending[] = [];
  private carry: Buffer | undefined;
  private inBody = false;
  private bodyBytes = 0;
  private stuffed = 0;
  private status = '';
  private pieces: Buffer[] = [];
  private failed: Error | undefined;
  /** Called after each received chunk has been parsed (to batch follow-up commands). */
  afterChunk: (() => void) | undefined;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.fail(new ProtocolError(`socket error: ${err.message}`)));
    socket.on('close', () => this.fail(new ProtocolError('connection closed by server')));
    socket.on('timeout', () => {
      this.fail(new ProtocolError('timeout'));
      socket.destroy();
    });
  }

  static open(opts: SessionOptions): Promise<{ client: RawPop3; greeting: Promise<Reply> }> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: opts.host, port: opts.port, noDelay: true });
      socket.setTimeout(opts.timeoutMs);
      const client = new RawPop3(socket);
      // The greeting is the first reply: expect it before any data can arrive.
      const greeting = client.expect('greeting', false, false);
      socket.once('connect', () => resolve({ client, greeting }));
      socket.once('error', reject);
    });
  }

  expect(what: string, multi: boolean, collect: boolean): Promise<Reply> {
    return new Promise((resolve, reject) => this.expectThen(what, multi, collect, resolve, reject));
  }

  /** Like expect(), but the callback runs synchronously while the reply is parsed (before afterChunk). */
  expectThen(what: string, multi: boolean, collect: boolean, resolve: (r: Reply) => void, reject: (e: Error) => void): void {
    if (this.failed !== undefined) return reject(this.failed);
    this.queue.push({ what, multi, collect, resolve, reject });
  }

  write(data: string): void {
    this.socket.write(data);
  }

  command(line: string, multi = false, collect = false): Promise<Reply> {
    const reply = this.expect(line.split(' ')[0] as string, multi, collect);
    this.write(line + '\r\n');
    return reply;
  }

  close(): void {
    this.socket.removeAllListeners('close');
    this.socket.on('close', () => undefined);
    this.socket.destroy();
  }

  /** Called once if the connection fails (even when no reply is pending). */
  onFailure: ((err: Error) => void) | undefined;

  private fail(err: Error): void {
    if (this.failed !== undefined) return;
    this.failed = err;
    const waiting = this.queue.splice(0);
    for (const p of waiting) p.reject(err);
    this.onFailure?.(err);
  }

  private onData(chunk: Buffer): void {
    if (this.failed !== undefined) return;
    try {
      this.parse(chunk);
    } catch (err) {
      this.fail(err as Error);
      this.socket.destroy();
      return;
    }
    this.afterChunk?.();
  }

  private parse(chunk: Buffer): void {
    const buf = this.carry === undefined ? chunk : Buffer.concat([this.carry, chunk]);
    this.carry = undefined;
    let pos = 0;
    while (pos < buf.length) {
      const cur = this.queue[0];
      if (cur === undefined) throw new ProtocolError(`unexpected data from server: ${JSON.stringify(buf.toString('latin1', pos, pos + 80))}`);
      if (!this.inBody) {
        const eol = buf.indexOf(CRLF, pos);
        if (eol < 0) {
          if (buf.length - pos > MAX_STATUS_LINE) throw new ProtocolError('status line too long');
          this.carry = Buffer.from(buf.subarray(pos));
          return;
        }
        const line = buf.toString('latin1', pos, eol);
        if (!line.startsWith('+OK')) throw new ProtocolError(`${cur.what}: server said: ${line}`);
        if (!cur.multi) {
          this.queue.shift();
          cur.resolve({ status: line, bytes: 0 });
          pos = eol + 2;
          continue;
        }
        // Scan the body from the status line's CRLF, so a first line ".." or an empty
        // body (".\r\n") match the same patterns as later lines.
        this.inBody = true;
        this.status = line;
        this.bodyBytes = -2;
        this.stuffed = 0;
        this.pieces = [];
        pos = eol;
        continue;
      }
      const end = buf.indexOf(TERMINATOR, pos);
      const scanTo = end >= 0 ? end : Math.max(pos, buf.length - 4);
      for (let i = buf.indexOf(STUFFED, pos); i >= 0 && i < scanTo; i = buf.indexOf(STUFFED, i + 4)) this.stuffed++;
      if (end < 0) {
        // The last 4 octets may begin a terminator or a stuffed dot: look at them again.
        this.bodyBytes += scanTo - pos;
        if (cur.collect) this.pieces.push(Buffer.from(buf.subarray(pos, scanTo)));
        this.carry = Buffer.from(buf.subarray(scanTo));
        return;
      }
      this.bodyBytes += end + 2 - pos;
      let body: Buffer | undefined;
      if (cur.collect) {
        this.pieces.push(buf.subarray(pos, end + 2));
        body = unstuffWithLead(Buffer.concat(this.pieces));
        this.pieces = [];
      }
      this.inBody = false;
      this.queue.shift();
      const bytes = this.bodyBytes - this.stuffed;
      if (body !== undefined && body.length !== bytes) throw new ProtocolError(`internal: body length ${body.length} != counted ${bytes}`);
      cur.resolve(body === undefined ? { status: this.status, bytes } : { status: this.status, bytes, body });
      pos = end + 5;
    }
  }
}

function countLines(body: Buffer): number {
  let n = 0;
  for (let i = body.indexOf(CRLF); i >= 0; i = body.indexOf(CRLF, i + 2)) n++;
  return n;
}

/** Phase durations of a session from its six marks: connect, logged in, STAT, UIDL, RETRs done, QUIT done. */
export function phaseTimes(t0: number, t1: number, t2: number, t3: number, t4: number, t5: number) {
  return { loginMs: t1 - t0, statMs: t2 - t1, uidlMs: t3 - t2, retrS: (t4 - t3) / 1000, totalS: (t5 - t0) / 1000 };
}

export function combineDigests(hex: string[]): string {
  return createHash('sha256')
    .update([...hex].sort().join('\n'))
    .digest('hex');
}

export async function runSession(opts: SessionOptions): Promise<SessionResult> {
  const t0 = performance.now();
  const { client, greeting } = await RawPop3.open(opts);
  try {
    await greeting;
    await client.command(`USER ${opts.user}`);
    await client.command(`PASS ${opts.password}`);
    const t1 = performance.now();
    const stat = (await client.command('STAT')).status.split(' ');
    const count = Number(stat[1]);
    const statSize = Number(stat[2]);
    if (!Number.isInteger(count) || !Number.isInteger(statSize)) throw new ProtocolError(`bad STAT answer: ${stat.join(' ')}`);
    const t2 = performance.now();
    const uidl = await client.command('UIDL', true, true);
    const uidlLines = countLines(uidl.body ?? Buffer.alloc(0));
    if (uidlLines !== count) throw new ProtocolError(`UIDL listed ${uidlLines} messages, STAT said ${count}`);
    const t3 = performance.now();
    const uidlDigest = createHash('sha256')
      .update(uidl.body ?? Buffer.alloc(0))
      .digest('hex');
    const uidlFirst = (uidl.body ?? Buffer.alloc(0)).toString('latin1', 0, 200).split('\r\n')[0] ?? '';

    const n = opts.max === undefined ? count : Math.min(count, opts.max);
    const width = Math.max(1, opts.pipeline);
    const hashes: string[] = [];
    let bytes = 0;
    let next = 1;
    let inFlight = 0;
    let done = 0;
    await new Promise<void>((resolve, reject) => {
      if (n === 0) return resolve();
      const sendMore = (): void => {
        let out = '';
        while (inFlight < width && next <= n) {
          const msn = next++;
          inFlight++;
          out += `RETR ${msn}\r\n`;
          // Synchronous completion: afterChunk (sendMore) then sees the freed slots.
          client.expectThen(
            `RETR ${msn}`,
            true,
            opts.verify,
            (r) => {
              inFlight--;
              done++;
              bytes += r.bytes;
              if (r.body !== undefined) hashes.push(createHash('sha256').update(r.body).digest('hex'));
              if (done === n) resolve();
            },
            reject,
          );
        }
        if (out !== '') client.write(out);
      };
      client.afterChunk = sendMore;
      client.onFailure = reject;
      sendMore();
    });
    client.afterChunk = undefined;
    client.onFailure = undefined;
    const t4 = performance.now();
    await client.command('QUIT');
    const t5 = performance.now();
    return {
      n,
      bytes,
      count,
      statSize,
      ...phaseTimes(t0, t1, t2, t3, t4, t5),
      uidlDigest,
      uidlFirst,
      ...(opts.verify && { digest: combineDigests(hashes) }),
    };
  } finally {
    client.close();
  }
}

// ---------------------------------------------------------------- command line

interface CliOptions extends SessionOptions {
  readonly runs: number;
  readonly warmup: number;
  readonly json: boolean;
}

function parseArgs(argv: readonly string[]): CliOptions {
  const a = parseClientArgs(
    argv,
    'usage: raw-client HOST PORT USER PASSWORD [--pipeline W] [--runs N] [--warmup N] [--max N] [--verify] [--json] [--timeout S]',
    ['pipeline', 'runs', 'warmup', 'max', 'timeout'],
    ['verify', 'json'],
  );
  const max = a.optionalInt('max');
  return {
    host: a.host,
    port: a.port,
    user: a.user,
    password: a.password,
    pipeline: a.int('pipeline', 1),
    ...(max !== undefined && { max }),
    verify: a.flags.has('verify'),
    timeoutMs: a.int('timeout', 120) * 1000,
    runs: a.int('runs', 3),
    warmup: a.int('warmup', 1),
    json: a.flags.has('json'),
  };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

async function main(): Promise<number> {
  let opts: CliOptions;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 2;
  }
  const label = `raw,pipeline=${opts.pipeline}`;
  const results: SessionResult[] = [];
  try {
    for (let r = 0; r < opts.warmup + opts.runs; r++) {
      const res = await runSession(opts);
      const kind = r < opts.warmup ? 'warmup' : 'run';
      if (kind === 'run') results.push(res);
      if (opts.json) {
        process.stdout.write(JSON.stringify({ ok: true, kind, client: label, ...res }) + '\n');
      } else {
        process.stdout.write(
          `${kind} ${r + 1}: ${res.n} msgs ${(res.bytes / 1e6).toFixed(2)} MB login ${res.loginMs.toFixed(1)} ms stat ${res.statMs.toFixed(1)} ms ` +
            `uidl ${res.uidlMs.toFixed(1)} ms retr ${res.retrS.toFixed(3)} s total ${res.totalS.toFixed(3)} s -> ` +
            `${(res.bytes / 1e6 / res.totalS).toFixed(1)} MB/s ${(res.n / res.totalS).toFixed(0)} msgs/s${res.digest === undefined ? '' : ` digest ${res.digest.slice(0, 16)}`}\n`,
        );
      }
    }
  } catch (err) {
    const msg = `${(err as Error).name}: ${(err as Error).message}`;
    process.stdout.write(opts.json ? JSON.stringify({ ok: false, error: msg }) + '\n' : `pop3 retr-all: ERROR ${msg}\n`);
    return 1;
  }
  if (!opts.json && results.length > 0) {
    const first = results[0] as SessionResult;
    const total = median(results.map((r) => r.totalS));
    process.stdout.write(
      `pop3 retr-all: ${first.n} msgs, ${(first.bytes / 1e6).toFixed(2)} MB, ${total.toFixed(3)} s, ${(first.bytes / 1e6 / total).toFixed(1)} MB/s, ` +
        `${(first.n / total).toFixed(0)} msgs/s (median of ${results.length} runs, client=${label})\n`,
    );
  }
  return 0;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = await main();
}
