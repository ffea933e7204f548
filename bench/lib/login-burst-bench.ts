/**
 * The cost of a login, measured (issue 14): a popgate child with a Maildir tenant and a users
 * file of many accounts at the default scrypt cost.
 *  - cold: each account's first login (one scrypt hash each), CONCURRENCY at a time;
 *  - warm: the same accounts again (the verified-credentials cache answers);
 *  - burst: fresh accounts offered at RATE first logins a second for SECONDS, each on its own
 *    connection; each gets +OK or -ERR [SYS/TEMP] (shed: could not start within
 *    limits.loginQueueWaitMs, at its default) and the time it took.
 * Every account has the same stored hash (one hash to make, not thousands): a first login still
 * computes scrypt, since the cache is keyed by user, password and hash.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { hashPassword } from '../../src/auth/password-hash.js';
import { startPopgate, type PopgateLogLevel } from './popgate.js';
import { median } from './stats.js';

export interface LoginBurstOptions {
  readonly dir: string;
  /** Accounts for the cold and warm rates. */
  readonly accounts: number;
  readonly concurrency: number;
  /** First logins offered per second, and for how long. */
  readonly rate: number;
  readonly seconds: number;
  readonly popgateLog: PopgateLogLevel;
  readonly nodeArgs: readonly string[];
  readonly progress: (line: string) => void;
}

export interface LoginBurstResult {
  readonly accounts: number;
  readonly concurrency: number;
  readonly coldPerSecond: number;
  readonly warmPerSecond: number;
  readonly burst: {
    readonly rate: number;
    readonly seconds: number;
    readonly offered: number;
    readonly ok: number;
    readonly shed: number;
    /** Anything else: an error, a timeout, a closed connection. */
    readonly other: number;
    readonly successRate: number;
    readonly okMedianMs: number | undefined;
    readonly okMaxMs: number | undefined;
    readonly shedMaxMs: number | undefined;
    readonly firstOther: string | undefined;
  };
}

/** popgate's default limits.loginQueueWaitMs, the bound a shed answer should come within. */
export const DEFAULT_QUEUE_WAIT_MS = 3000;

interface Attempt {
  readonly reply: string;
  /** PASS sent -> its answer. */
  readonly ms: number;
}

/** connect, greeting, USER, PASS, QUIT: the PASS answer and its time; the reply is 'error: ...' on failure. */
function loginOnce(port: number, user: string, password: string, timeoutMs: number): Promise<Attempt> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let buffer = '';
    let step = 0;
    let sentAt = 0;
    const finish = (reply: string, ms = 0): void => {
      clearTimeout(timer);
      socket.removeAllListeners('data');
      socket.on('error', () => undefined);
      socket.end('QUIT\r\n');
      setTimeout(() => socket.destroy(), 1000).unref();
      resolve({ reply, ms });
    };
    const timer = setTimeout(() => finish(`error: no answer within ${timeoutMs} ms`), timeoutMs);
    socket.once('error', (err) => finish(`error: ${err.message}`));
    socket.once('close', () => finish('error: connection closed'));
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('latin1');
      for (let i = buffer.indexOf('\r\n'); i >= 0; i = buffer.indexOf('\r\n')) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        if (step === 0) {
          if (!line.startsWith('+OK')) return finish(`error: greeting ${line}`);
          socket.write(`USER ${user}\r\n`);
        } else if (step === 1) {
          if (!line.startsWith('+OK')) return finish(`error: USER ${line}`);
          sentAt = performance.now();
          socket.write(`PASS ${password}\r\n`);
        } else {
          return finish(line, performance.now() - sentAt);
        }
        step++;
      }
    });
  });
}

/** Logins of `users`, `concurrency` at a time; logins a second. Throws on any refusal. */
async function rate(port: number, users: readonly string[], password: string, concurrency: number): Promise<number> {
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < users.length) {
        const user = users[next++] as string;
        const a = await loginOnce(port, user, password, 60_000);
        if (!a.reply.startsWith('+OK')) throw new Error(`login of ${user} refused: ${a.reply}`);
      }
    }),
  );
  return users.length / ((performance.now() - started) / 1000);
}

export async function runLoginBurst(o: LoginBurstOptions): Promise<LoginBurstResult> {
  const password = 'bench-burst-password';
  const offered = o.rate * o.seconds;
  const steady = Array.from({ length: o.accounts }, (_, i) => `steady${i}`);
  const fresh = Array.from({ length: offered }, (_, i) => `burst${i}`);
  o.progress(`login-burst: ${steady.length + fresh.length} accounts (one scrypt hash shared)`);
  const hash = await hashPassword(password);
  const mailRoot = join(o.dir, 'mail');
  const users: Record<string, { password: string }> = {};
  for (const user of [...steady, ...fresh]) {
    users[user] = { password: hash };
    for (const sub of ['cur', 'new', 'tmp']) mkdirSync(join(mailRoot, user, sub), { recursive: true });
  }
  const usersFile = join(o.dir, 'users.yaml');
  writeFileSync(usersFile, stringify({ users }), { mode: 0o600 });
  const popgate = await startPopgate({
    dir: o.dir,
    backend: { adapter: 'maildir', mailPath: join(mailRoot, '{user}'), user: 'steady0', password, usersFile },
    logLevel: o.popgateLog,
    nodeArgs: o.nodeArgs,
    // Room for every connection of the burst; everything else at its default (scrypt cost, load shedding).
    limits: { maxConnections: 10_000, maxConnectionsPerIp: 10_000 },
  });
  try {
    o.progress(`login-burst: ${steady.length} cold logins, ${o.concurrency} at a time`);
    const coldPerSecond = await rate(popgate.port, steady, password, o.concurrency);
    o.progress(`login-burst: the same ${steady.length} again (warm)`);
    const warmPerSecond = await rate(popgate.port, steady, password, o.concurrency);
    o.progress(`login-burst: ${o.rate} first logins a second for ${o.seconds} s`);
    const t0 = performance.now();
    const attempts = await Promise.all(
      fresh.map(async (user, i) => {
        const wait = t0 + (i * 1000) / o.rate - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        return loginOnce(popgate.port, user, password, 60_000);
      }),
    );
    const ok = attempts.filter((a) => a.reply.startsWith('+OK'));
    const shed = attempts.filter((a) => a.reply.startsWith('-ERR [SYS/TEMP]'));
    const other = attempts.filter((a) => !a.reply.startsWith('+OK') && !a.reply.startsWith('-ERR [SYS/TEMP]'));
    const max = (xs: readonly Attempt[]): number | undefined => (xs.length === 0 ? undefined : Math.max(...xs.map((a) => a.ms)));
    return {
      accounts: steady.length,
      concurrency: o.concurrency,
      coldPerSecond,
      warmPerSecond,
      burst: {
        rate: o.rate,
        seconds: o.seconds,
        offered,
        ok: ok.length,
        shed: shed.length,
        other: other.length,
        successRate: ok.length / offered,
        okMedianMs: ok.length === 0 ? undefined : median(ok.map((a) => a.ms)),
        okMaxMs: max(ok),
        shedMaxMs: max(shed),
        firstOther: other[0]?.reply,
      },
    };
  } finally {
    await popgate.stop();
  }
}

/** The report's lines. */
export function loginBurstText(r: LoginBurstResult): string {
  const s = (ms: number | undefined): string => (ms === undefined ? '-' : `${(ms / 1000).toFixed(2)} s`);
  const pct = (n: number): string => `${((100 * n) / r.burst.offered).toFixed(1)}%`;
  return [
    `users-file logins per second, ${r.concurrency} clients at once: cold (first login of ${r.accounts} accounts, one scrypt each) ${r.coldPerSecond.toFixed(1)}/s; ` +
      `warm (the same again, cached) ${r.warmPerSecond.toFixed(0)}/s`,
    `burst of first logins, ${r.burst.rate}/s for ${r.burst.seconds} s (${r.burst.offered}): ${pct(r.burst.ok)} +OK (PASS answered in median ${s(r.burst.okMedianMs)}, max ${s(r.burst.okMaxMs)}), ` +
      `${pct(r.burst.shed)} [SYS/TEMP] (max ${s(r.burst.shedMaxMs)}; loginQueueWaitMs ${DEFAULT_QUEUE_WAIT_MS / 1000} s), ${r.burst.other} other` +
      (r.burst.firstOther === undefined ? '' : ` (first: ${r.burst.firstOther})`),
  ].join('\n');
}
