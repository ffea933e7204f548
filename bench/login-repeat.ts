/**
 * Repeated logins to one small mailbox, as a device polling its account: login, STAT, QUIT, again
 * and again. (a) Dovecot's own POP3, (b) popgate -> IMAP with a new IMAP connection per session,
 * and (b+) the same with `connectionReuse` (the account's logged-in IMAP connection kept between
 * sessions). The three are measured in turn, session by session, so load from elsewhere on the
 * machine falls on all of them alike; min, median and p90 of the login time (connect .. PASS +OK)
 * and of the whole session.
 *
 *   node dist/bench/login-repeat.js [--sessions 200] [--messages 5]
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startDovecot } from '../test/helpers/dovecot.js';
import { Pop3TestClient } from '../test/helpers/pop3-client.js';
import { startPopgate, type PopgateProcess } from './lib/popgate.js';
import { median } from './lib/stats.js';

const USER = 'alice';
const PASSWORD = 'alice-bench-pw';
/** imap-login tuned like pop3-login (no login process per connection), as in bench/run.ts. */
const IMAP_LOGIN_TUNING = 'service imap-login {\n  service_count = 0\n  process_min_avail = 2\n}\n';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  const v = i < 0 ? undefined : process.argv[i + 1];
  if (v === undefined) return fallback;
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new Error(`${name} must be a whole number >= 1`);
  return Number(v);
}

function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] as number;
}

/** One session: the login and whole-session times in ms. */
async function session(port: number): Promise<{ login: number; whole: number }> {
  const started = performance.now();
  const c = await Pop3TestClient.connect(port);
  await c.login(USER, PASSWORD);
  const login = performance.now() - started;
  const stat = await c.command('STAT');
  if (!stat.startsWith('+OK')) throw new Error(`STAT: ${stat}`);
  await c.quit();
  return { login, whole: performance.now() - started };
}

async function main(): Promise<void> {
  const sessions = arg('--sessions', 200);
  const messages = arg('--messages', 5);
  const dir = mkdtempSync(join(tmpdir(), 'popgate-login-repeat-'));
  const stops: (() => Promise<void>)[] = [];
  try {
    const dovecot = await startDovecot({
      users: { [USER]: PASSWORD },
      protocols: ['imap', 'pop3'],
      pop3Tuning: true,
      mailMaxUseripConnections: 50,
      extraConfig: IMAP_LOGIN_TUNING,
    });
    stops.push(() => dovecot.stop());
    for (let i = 1; i <= messages; i++) dovecot.deliver(USER, `Subject: message ${i}\n\n${'body line\n'.repeat(100)}`);
    const popgate = async (name: string, reuseSeconds: number): Promise<PopgateProcess> => {
      mkdirSync(join(dir, name));
      const p = await startPopgate({
        dir: join(dir, name),
        backend: { adapter: 'imap', host: '127.0.0.1', port: dovecot.imapPort, uidlFormat: 'dovecot', deleteMode: 'keep', reuseSeconds },
      });
      stops.push(() => p.stop());
      return p;
    };
    const servers = [
      { name: '(a) dovecot pop3', port: dovecot.pop3Port },
      { name: '(b) popgate->imap, a connection per session', port: (await popgate('b', 0)).port },
      { name: '(b+) popgate->imap, connectionReuse 60 s', port: (await popgate('b-reuse', 60)).port },
    ];
    const load = loadavg()[0] as number;
    const results = servers.map(() => ({ login: [] as number[], whole: [] as number[] }));
    for (let i = 0; i < 5; i++) for (const s of servers) await session(s.port);
    for (let i = 0; i < sessions; i++) {
      for (const [k, s] of servers.entries()) {
        const r = await session(s.port);
        results[k]?.login.push(r.login);
        results[k]?.whole.push(r.whole);
      }
    }
    const row = (cells: readonly string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(46) : c.padStart(9))).join(' ');
    const ms = (x: number): string => x.toFixed(1);
    process.stdout.write(`login-repeat: ${sessions} sessions each (login, STAT, QUIT) on ${messages} messages, the three servers in turn\n`);
    process.stdout.write(row(['server', 'login min', 'median', 'p90', 'session', 'median']) + '\n');
    for (const [k, s] of servers.entries()) {
      const r = results[k] as { login: number[]; whole: number[] };
      process.stdout.write(row([s.name, ms(Math.min(...r.login)), ms(median(r.login)), ms(quantile(r.login, 0.9)), '', ms(median(r.whole))]) + '\n');
    }
    const med = (k: number): number => median(results[k]?.login ?? []);
    process.stdout.write(
      `login median ratios: b/a ${(med(1) / med(0)).toFixed(2)}x, b+/a ${(med(2) / med(0)).toFixed(2)}x, b+/b ${(med(2) / med(1)).toFixed(2)}x\n`,
    );
    process.stdout.write(`load average (1 min) before ${load.toFixed(2)}, after ${(loadavg()[0] as number).toFixed(2)}\n`);
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
