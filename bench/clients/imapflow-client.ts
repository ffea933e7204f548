/**
 * Direct IMAP download with imapflow, the reference for what popgate's IMAP adapter could
 * reach: one session = connect + LOGIN (imapflow's connect()), SELECT (read-only), one
 * `FETCH 1:* (UID BODY.PEEK[])`, LOGOUT. With --max 0 the fetch is `FETCH 1:* (UID
 * RFC822.SIZE)` instead: what a POP3 gateway needs for login + STAT + UIDL.
 *
 * Usage: node dist/bench/clients/imapflow-client.js HOST PORT USER PASSWORD
 *          [--folder INBOX] [--runs N] [--warmup N] [--max 0] [--verify] [--json] [--timeout S] [--prime]
 * Plain IMAP (no TLS): for loopback benchmarks only. --prime runs one unmeasured, unreported
 * session before each session, in the same process: imapflow's parser is then JIT-compiled
 * (a fresh process spends ~0.5 s of CPU on 1,000 size fetches, a warm one ~0.15 s).
 * --handshake (with --prime, for the bench driver): after priming, print {"primed":true} and wait
 * for a line on stdin before the measured session, so the driver measures the server over it only. The JSON has the raw client's fields
 * (login = connect..LOGIN done, STAT = SELECT, UIDL = the size fetch, or 0) plus clientCpuS.
 * Exit status 1 on any error.
 */
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { ImapFlow } from 'imapflow';
import { combineDigests, phaseTimes, type SessionResult } from './raw-client.js';
import { parseClientArgs } from '../lib/client-args.js';

export interface ImapSessionOptions {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly folder: string;
  /** 0: sizes only (no bodies); undefined: every message. */
  readonly max?: number;
  readonly verify: boolean;
  readonly timeoutMs: number;
}

export interface ImapSessionResult extends SessionResult {
  /** CPU seconds this client process spent in the session (imapflow's parsing). */
  readonly clientCpuS: number;
}

export async function runImapSession(opts: ImapSessionOptions): Promise<ImapSessionResult> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const client = new ImapFlow({
    host: opts.host,
    port: opts.port,
    secure: false,
    doSTARTTLS: false,
    auth: { user: opts.user, pass: opts.password },
    logger: false,
    disableAutoIdle: true,
    connectionTimeout: opts.timeoutMs,
    greetingTimeout: opts.timeoutMs,
    socketTimeout: opts.timeoutMs,
  });
  let lastError: Error | undefined;
  client.on('error', (err: Error) => (lastError = err));
  try {
    await client.connect();
    const t1 = performance.now();
    const mailbox = await client.mailboxOpen(opts.folder, { readOnly: true });
    const count = mailbox.exists;
    const t2 = performance.now();
    let statSize = 0;
    let n = 0;
    let bytes = 0;
    const hashes: string[] = [];
    let t3 = t2;
    if (count > 0) {
      if (opts.max === 0) {
        for await (const m of client.fetch('1:*', { uid: true, size: true })) {
          if (typeof m.size !== 'number') throw new Error(`no RFC822.SIZE for UID ${m.uid}`);
          statSize += m.size;
          n++;
        }
        if (n !== count) throw new Error(`FETCH 1:* listed ${n} messages, SELECT said ${count}`);
        t3 = performance.now();
        n = 0;
      } else {
        for await (const m of client.fetch('1:*', { uid: true, source: true })) {
          if (m.source === undefined) throw new Error(`no source for UID ${m.uid}`);
          n++;
          bytes += m.source.length;
          if (opts.verify) hashes.push(createHash('sha256').update(m.source).digest('hex'));
        }
        if (n !== count) throw new Error(`FETCH 1:* returned ${n} messages, SELECT said ${count}`);
        // The octets received are the sizes (what a POP3 STAT would say).
        statSize = bytes;
      }
    }
    const t4 = performance.now();
    await client.logout();
    const t5 = performance.now();
    const cpu = process.cpuUsage(cpu0);
    return {
      n,
      bytes,
      count,
      statSize,
      ...phaseTimes(t0, t1, t2, t3, t4, t5),
      clientCpuS: (cpu.user + cpu.system) / 1e6,
      ...(opts.verify && { digest: combineDigests(hashes) }),
    };
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    const extra = e as Error & { responseText?: string; code?: string };
    throw new Error(
      `${e.message}${extra.responseText !== undefined ? ` (${extra.responseText})` : ''}${extra.code !== undefined ? ` [${extra.code}]` : ''}${lastError !== undefined && lastError !== e ? `; ${lastError.message}` : ''}`,
      { cause: err },
    );
  } finally {
    client.close();
  }
}

// ---------------------------------------------------------------- command line

interface CliOptions extends ImapSessionOptions {
  readonly prime: boolean;
  readonly handshake: boolean;
  readonly runs: number;
  readonly warmup: number;
  readonly json: boolean;
}

function parseArgs(argv: readonly string[]): CliOptions {
  const a = parseClientArgs(
    argv,
    'usage: imapflow-client HOST PORT USER PASSWORD [--folder F] [--runs N] [--warmup N] [--max 0] [--verify] [--json] [--timeout S] [--prime] [--handshake]',
    ['folder', 'runs', 'warmup', 'max', 'timeout'],
    ['verify', 'json', 'prime', 'handshake'],
  );
  const max = a.optionalInt('max');
  if (max !== undefined && max !== 0) throw new Error('--max: only 0 (sizes only) is supported; without it every message is fetched');
  return {
    host: a.host,
    port: a.port,
    user: a.user,
    password: a.password,
    folder: a.text('folder') ?? 'INBOX',
    ...(max !== undefined && { max }),
    verify: a.flags.has('verify'),
    timeoutMs: a.int('timeout', 120) * 1000,
    runs: a.int('runs', 3),
    warmup: a.int('warmup', 1),
    json: a.flags.has('json'),
    prime: a.flags.has('prime'),
    handshake: a.flags.has('handshake'),
  };
}

/** Waits for one line on stdin (the driver's "go"). */
function readLine(timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const done = (err?: Error): void => {
      clearTimeout(timer);
      process.stdin.off('data', onData);
      process.stdin.off('end', onEnd);
      process.stdin.pause();
      if (err === undefined) resolve();
      else reject(err);
    };
    const onData = (c: Buffer): void => {
      buf += c.toString('latin1');
      if (buf.includes('\n')) done();
    };
    const onEnd = (): void => done(new Error('stdin closed before the go line'));
    const timer = setTimeout(() => done(new Error('no go line on stdin')), timeoutMs);
    process.stdin.on('data', onData);
    process.stdin.once('end', onEnd);
  });
}

async function main(): Promise<number> {
  let opts: CliOptions;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 2;
  }
  const results: ImapSessionResult[] = [];
  try {
    for (let r = 0; r < opts.warmup + opts.runs; r++) {
      if (opts.prime) {
        await runImapSession({ ...opts, verify: false });
        if (opts.handshake) {
          process.stdout.write('{"primed":true}\n');
          await readLine(opts.timeoutMs);
        }
      }
      const res = await runImapSession(opts);
      const kind = r < opts.warmup ? 'warmup' : 'run';
      if (kind === 'run') results.push(res);
      if (opts.json) process.stdout.write(JSON.stringify({ ok: true, kind, client: 'imapflow', ...res }) + '\n');
      else {
        process.stdout.write(
          `${kind} ${r + 1}: ${res.count} msgs ${(res.bytes / 1e6).toFixed(2)} MB login ${res.loginMs.toFixed(1)} ms select ${res.statMs.toFixed(1)} ms ` +
            `sizes ${res.uidlMs.toFixed(1)} ms fetch ${res.retrS.toFixed(3)} s total ${res.totalS.toFixed(3)} s client CPU ${res.clientCpuS.toFixed(2)} s` +
            (res.n > 0 ? ` -> ${(res.bytes / 1e6 / res.totalS).toFixed(1)} MB/s ${(res.n / res.totalS).toFixed(0)} msgs/s` : '') +
            `${res.digest === undefined ? '' : ` digest ${res.digest.slice(0, 16)}`}\n`,
        );
      }
    }
  } catch (err) {
    const msg = `${(err as Error).name}: ${(err as Error).message}`;
    process.stdout.write(opts.json ? JSON.stringify({ ok: false, error: msg }) + '\n' : `imapflow fetch-all: ERROR ${msg}\n`);
    return 1;
  }
  return 0;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = await main();
}
