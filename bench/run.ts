/**
 * `npm run bench`: popgate's Maildir adapter against Dovecot's own POP3 server on the same
 * Maildir, with the project's own clients (raw pipelined TypeScript client, Python poplib).
 *
 *   node dist/bench/run.js [--quick] [--only maildir-2000,maildir-1mb,login-10000]
 *                          [--clients raw,poplib] [--runs 3] [--warmup 1] [--pipeline 8]
 *                          [--json FILE] [--keep]
 *
 * Each workload gets a fresh Maildir (user alice), a fresh Dovecot (tuned as for a fair
 * comparison: pop3_no_flag_updates, maildir_very_dirty_syncs, pop3-login service_count = 0,
 * process_min_avail = 2) and a fresh popgate child process. Per server and client: one
 * verified warm-up session (message count, octets and SHA-256 of every message), then the
 * median of `--runs` sessions. Exits non-zero on any protocol error or mismatch.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { dovecotMailOwner, dovecotVersion, startDovecot, type DovecotInstance } from '../test/helpers/dovecot.js';
import { BenchProtocolError, clientLabel, runClientSession, type ClientKind } from './lib/clients.js';
import { generateMaildir, type GeneratedMaildir } from './lib/maildir-gen.js';
import { startPopgate, type PopgateProcess } from './lib/popgate.js';
import { childrenOf, memoryKiB, procStat, resetPeakRss, sampleChildrenPeak, treeCpuS } from './lib/proc.js';
import type { SessionResult } from './clients/raw-client.js';

// ---------------------------------------------------------------- options

interface Args {
  readonly quick: boolean;
  readonly only: ReadonlySet<string> | undefined;
  readonly clients: ReadonlySet<ClientKind>;
  readonly runs: number;
  readonly warmup: number;
  readonly pipeline: number;
  readonly json: string | undefined;
  readonly keep: boolean;
  /** Prepare the first selected workload, start both servers, print how to reach them, wait for a signal. */
  readonly serve: boolean;
}

interface Workload {
  readonly name: string;
  readonly count: number;
  readonly size: number;
  readonly kind: 'download' | 'login';
  readonly clients: readonly ClientKind[];
}

function workloads(quick: boolean): Workload[] {
  return [
    { name: 'maildir-2000', count: quick ? 200 : 2000, size: 20_000, kind: 'download', clients: ['raw', 'poplib'] },
    { name: 'maildir-1mb', count: quick ? 20 : 200, size: 1_000_000, kind: 'download', clients: ['raw'] },
    { name: 'login-10000', count: quick ? 1000 : 10_000, size: 20_000, kind: 'login', clients: ['raw'] },
  ];
}

const USAGE = `usage: node dist/bench/run.js [--quick] [--only NAMES] [--clients raw,poplib] [--runs N] [--warmup N] [--pipeline W] [--json FILE] [--keep] [--serve]
  --serve: prepare the first selected workload's Maildir, start Dovecot and popgate on it and wait (Ctrl-C stops)
  workloads: ${workloads(false).map((w) => w.name).join(', ')}`;

function parseArgs(argv: readonly string[]): Args {
  const names = new Set(workloads(false).map((w) => w.name));
  let quick = false;
  let keep = false;
  let serve = false;
  let only: Set<string> | undefined;
  let clients = new Set<ClientKind>(['raw', 'poplib']);
  let runs = 3;
  let warmup = 1;
  let pipeline = 8;
  let json: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value\n${USAGE}`);
      return v;
    };
    const int = (min: number): number => {
      const v = value();
      if (!/^\d+$/.test(v) || Number(v) < min) throw new Error(`${a} must be a whole number >= ${min}`);
      return Number(v);
    };
    if (a === '--quick') quick = true;
    else if (a === '--keep') keep = true;
    else if (a === '--serve') serve = true;
    else if (a === '--only') {
      only = new Set(value().split(',').filter((s) => s !== ''));
      for (const n of only) if (!names.has(n)) throw new Error(`unknown workload ${n}\n${USAGE}`);
    } else if (a === '--clients') {
      const list = value().split(',').filter((s) => s !== '');
      for (const c of list) if (c !== 'raw' && c !== 'poplib') throw new Error(`unknown client ${c} (raw, poplib)`);
      clients = new Set(list as ClientKind[]);
    } else if (a === '--runs') runs = int(1);
    else if (a === '--warmup') warmup = int(0);
    else if (a === '--pipeline') pipeline = int(1);
    else if (a === '--json') json = value();
    else if (a === '--help' || a === '-h') {
      process.stdout.write(USAGE + '\n');
      process.exit(0);
    } else throw new Error(`unknown argument ${a}\n${USAGE}`);
  }
  return { quick, only, clients, runs, warmup, pipeline, json, keep, serve };
}

// ---------------------------------------------------------------- servers and measurements

type ServerName = 'dovecot' | 'popgate';

interface Measured {
  readonly session: SessionResult;
  /** Server CPU seconds during the session. */
  readonly cpuS: number;
  /** Server peak RSS during the session, MiB (undefined: not measurable). */
  readonly peakMiB: number | undefined;
}

interface Server {
  readonly name: ServerName;
  readonly port: number;
  /** Starts measuring; the returned function ends it (after the session's processes are gone). */
  begin(): () => Promise<{ cpuS: number; peakMiB: number | undefined }>;
}

function dovecotServer(d: DovecotInstance): Server {
  return {
    name: 'dovecot',
    port: d.pop3Port,
    begin() {
      const cpu0 = treeCpuS(d.pid);
      const sampler = sampleChildrenPeak(d.pid, 'pop3');
      return async () => {
        // The session's pop3 process exits after QUIT; wait (bounded) so the master has reaped
        // it and its CPU time shows in the master's cutime/cstime.
        for (let i = 0; i < 100 && childrenOf(d.pid).some((c) => c.comm === 'pop3'); i++) await sleep(10);
        await sleep(20);
        const peak = sampler.stop();
        return { cpuS: treeCpuS(d.pid) - cpu0, peakMiB: peak > 0 ? peak / 1024 : undefined };
      };
    },
  };
}

function popgateServer(p: PopgateProcess): Server {
  return {
    name: 'popgate',
    port: p.port,
    begin() {
      const resetOk = resetPeakRss(p.pid);
      const cpu0 = procStat(p.pid)?.cpuS ?? NaN;
      return async () => {
        await sleep(20);
        const cpu1 = procStat(p.pid)?.cpuS ?? NaN;
        const mem = memoryKiB(p.pid);
        return { cpuS: cpu1 - cpu0, peakMiB: resetOk && mem !== undefined ? mem.hwm / 1024 : undefined };
      };
    },
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

interface Ctx {
  readonly args: Args;
  readonly user: string;
  readonly password: string;
}

async function measuredSession(ctx: Ctx, server: Server, kind: ClientKind, max: number | undefined): Promise<Measured> {
  const end = server.begin();
  const session = await runClientSession({ kind, port: server.port, user: ctx.user, password: ctx.password, pipeline: ctx.args.pipeline, ...(max !== undefined && { max }) });
  const { cpuS, peakMiB } = await end();
  return { session, cpuS, peakMiB };
}

function check(cond: boolean, what: string): void {
  if (!cond) throw new BenchProtocolError(what);
}

/** The session saw exactly the generated mailbox. */
function checkSession(server: ServerName, s: SessionResult, mail: GeneratedMaildir, retrieved: number): void {
  check(s.count === mail.count, `${server}: STAT said ${s.count} messages, the Maildir has ${mail.count}`);
  check(s.statSize === mail.crlfBytes, `${server}: STAT said ${s.statSize} octets, the messages have ${mail.crlfBytes}`);
  check(s.n === retrieved, `${server}: retrieved ${s.n} messages, expected ${retrieved}`);
  if (retrieved === mail.count) check(s.bytes === mail.crlfBytes, `${server}: received ${s.bytes} message octets, expected ${mail.crlfBytes}`);
  if (s.digest !== undefined) check(s.digest === mail.digest, `${server}: message contents differ from the Maildir (digest ${s.digest.slice(0, 16)} != ${mail.digest.slice(0, 16)})`);
}

// ---------------------------------------------------------------- statistics and output

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

interface Summary {
  readonly n: number;
  readonly bytes: number;
  readonly totalS: number;
  readonly mbPerS: number;
  readonly msgsPerS: number;
  readonly loginMs: number;
  readonly statMs: number;
  readonly uidlMs: number;
  readonly cpuS: number;
  readonly peakMiB: number | undefined;
  readonly sessions: readonly Measured[];
}

function summarize(ms: readonly Measured[]): Summary {
  const first = ms[0] as Measured;
  const totalS = median(ms.map((m) => m.session.totalS));
  const peaks = ms.map((m) => m.peakMiB).filter((p): p is number => p !== undefined);
  return {
    n: first.session.n,
    bytes: first.session.bytes,
    totalS,
    mbPerS: first.session.bytes / 1e6 / totalS,
    msgsPerS: first.session.n / totalS,
    loginMs: median(ms.map((m) => m.session.loginMs)),
    statMs: median(ms.map((m) => m.session.statMs)),
    uidlMs: median(ms.map((m) => m.session.uidlMs)),
    cpuS: median(ms.map((m) => m.cpuS)),
    peakMiB: peaks.length > 0 ? Math.max(...peaks) : undefined,
    sessions: ms,
  };
}

type Row = readonly string[];

function table(header: Row, rows: readonly Row[], rightFrom: number): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (r: Row): string =>
    r
      .map((c, i) => (i >= rightFrom ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd();
  return [fmt(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt)].join('\n');
}

function num(x: number | undefined, digits: number): string {
  return x === undefined || !Number.isFinite(x) ? 'n/a' : x.toFixed(digits);
}

function ratio(p: number | undefined, d: number | undefined): string {
  if (p === undefined || d === undefined || !Number.isFinite(p) || !Number.isFinite(d) || d === 0) return 'n/a';
  return `${(p / d).toFixed(2)}x`;
}

interface DownloadResult {
  readonly workload: Workload;
  readonly client: string;
  readonly dovecot: Summary;
  readonly popgate: Summary;
}

interface LoginResult {
  readonly workload: Workload;
  readonly dovecot: { cold: Summary; warm: Summary };
  readonly popgate: { cold: Summary; warm: Summary };
}

function downloadTable(results: readonly DownloadResult[]): string {
  const header = ['workload', 'client', 'server', 'MB/s', 'msgs/s', 'login ms', 'UIDL ms', 'session s', 'srv CPU s', 'srv peak RSS MiB'];
  const rows: Row[] = [];
  for (const r of results) {
    const label = `${r.workload.count} x ~${r.workload.size >= 1e6 ? `${r.workload.size / 1e6} MB` : `${r.workload.size / 1e3} KB`}`;
    const line = (name: string, s: Summary, first: boolean): Row => [
      first ? label : '',
      first ? r.client : '',
      name,
      num(s.mbPerS, 1),
      num(s.msgsPerS, 0),
      num(s.loginMs, 1),
      num(s.uidlMs, 1),
      num(s.totalS, 3),
      num(s.cpuS, 2),
      num(s.peakMiB, 1),
    ];
    rows.push(line('dovecot', r.dovecot, true));
    rows.push(line('popgate', r.popgate, false));
    const d = r.dovecot;
    const p = r.popgate;
    rows.push(['', '', 'popgate/dovecot', ratio(p.mbPerS, d.mbPerS), ratio(p.msgsPerS, d.msgsPerS), ratio(p.loginMs, d.loginMs), ratio(p.uidlMs, d.uidlMs), ratio(p.totalS, d.totalS), ratio(p.cpuS, d.cpuS), ratio(p.peakMiB, d.peakMiB)]);
  }
  return table(header, rows, 3);
}

function loginTable(results: readonly LoginResult[]): string {
  const header = ['workload', 'server', 'session', 'login ms', 'STAT ms', 'UIDL ms', 'session ms', 'srv CPU ms', 'srv peak RSS MiB'];
  const rows: Row[] = [];
  for (const r of results) {
    const label = `login+STAT+UIDL, ${r.workload.count} msgs`;
    const line = (first: boolean, server: string, phase: string, s: Summary): Row => [
      first ? label : '',
      server,
      phase,
      num(s.loginMs, 1),
      num(s.statMs, 1),
      num(s.uidlMs, 1),
      num(s.totalS * 1000, 1),
      num(s.cpuS * 1000, 0),
      num(s.peakMiB, 1),
    ];
    rows.push(line(true, 'dovecot', 'cold (1st)', r.dovecot.cold));
    rows.push(line(false, 'dovecot', 'warm', r.dovecot.warm));
    rows.push(line(false, 'popgate', 'cold (1st)', r.popgate.cold));
    rows.push(line(false, 'popgate', 'warm', r.popgate.warm));
    for (const phase of ['cold', 'warm'] as const) {
      const d = r.dovecot[phase];
      const p = r.popgate[phase];
      rows.push(['', 'popgate/dovecot', phase, ratio(p.loginMs, d.loginMs), ratio(p.statMs, d.statMs), ratio(p.uidlMs, d.uidlMs), ratio(p.totalS, d.totalS), ratio(p.cpuS, d.cpuS), ratio(p.peakMiB, d.peakMiB)]);
    }
  }
  return table(header, rows, 3);
}

// ---------------------------------------------------------------- workloads

interface Servers {
  readonly dovecot: DovecotInstance;
  readonly popgate: PopgateProcess;
  readonly list: readonly Server[];
}

const cleanups: (() => Promise<void>)[] = [];

async function startServers(ctx: Ctx, wdir: string, mailRoot: string): Promise<Servers> {
  const dovecot = await startDovecot({ users: { [ctx.user]: ctx.password }, protocols: ['pop3'], mailRoot, pop3Tuning: true, mailMaxUseripConnections: 50 });
  cleanups.push(() => dovecot.stop());
  const pdir = join(wdir, 'popgate');
  mkdirSync(pdir, { recursive: true });
  const popgate = await startPopgate({ dir: pdir, mailPath: join(mailRoot, '{user}'), user: ctx.user, password: ctx.password, logLevel: 'warn' });
  cleanups.push(() => popgate.stop());
  return { dovecot, popgate, list: [dovecotServer(dovecot), popgateServer(popgate)] };
}

async function stopServers(s: Servers): Promise<void> {
  await Promise.all([s.dovecot.stop(), s.popgate.stop()]);
}

/** Adds both servers' log tails to a failure. */
function withLogs(err: unknown, s: Servers): Error {
  const e = err instanceof Error ? err : new Error(String(err));
  e.message += `\n--- popgate log (tail) ---\n${s.popgate.logTail(15)}\n--- dovecot log (tail) ---\n${s.dovecot.logTail(15)}`;
  return e;
}

function prepareMail(ctx: Ctx, root: string, w: Workload): { wdir: string; mailRoot: string; mail: GeneratedMaildir } {
  const wdir = join(root, w.name);
  const mailRoot = join(wdir, 'mail');
  mkdirSync(mailRoot, { recursive: true });
  // Dovecot runs as its own user: it must be able to reach the Maildir.
  chmodSync(wdir, 0o755);
  chmodSync(mailRoot, 0o755);
  const t0 = Date.now();
  const owner = dovecotMailOwner();
  const mail = generateMaildir({ path: join(mailRoot, ctx.user), count: w.count, size: w.size, owner });
  progress(`${w.name}: generated ${mail.count} messages, ${(mail.crlfBytes / 1e6).toFixed(1)} MB in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return { wdir, mailRoot, mail };
}

function progress(line: string): void {
  process.stderr.write(`[bench] ${line}\n`);
}

/** Rounds alternate the server order (D P, P D, ...), so background load hits both alike. */
function roundOrder(list: readonly Server[], round: number): readonly Server[] {
  return round % 2 === 0 ? list : [...list].reverse();
}

async function downloadWorkload(ctx: Ctx, root: string, w: Workload): Promise<{ results: DownloadResult[]; memory: MemoryRow }> {
  const { wdir, mailRoot, mail } = prepareMail(ctx, root, w);
  const servers = await startServers(ctx, wdir, mailRoot);
  const memory = memoryAtStart(w, servers);
  const results: DownloadResult[] = [];
  try {
    for (const kind of w.clients) {
      if (!ctx.args.clients.has(kind)) continue;
      const label = clientLabel(kind, ctx.args.pipeline);
      for (const server of servers.list) {
        for (let i = 0; i < ctx.args.warmup; i++) {
          // The first warm-up verifies every message; Dovecot builds its index here.
          const s = await runClientSession({ kind, port: server.port, user: ctx.user, password: ctx.password, pipeline: ctx.args.pipeline, verify: i === 0 });
          checkSession(server.name, s, mail, mail.count);
        }
      }
      const measured: Record<ServerName, Measured[]> = { dovecot: [], popgate: [] };
      for (let i = 0; i < ctx.args.runs; i++) {
        for (const server of roundOrder(servers.list, i)) {
          const m = await measuredSession(ctx, server, kind, undefined);
          checkSession(server.name, m.session, mail, mail.count);
          measured[server.name].push(m);
        }
      }
      const dovecot = summarize(measured.dovecot);
      const popgate = summarize(measured.popgate);
      for (const [name, sum] of [['dovecot', dovecot], ['popgate', popgate]] as const) {
        progress(`${w.name} ${label} ${name}: ${sum.mbPerS.toFixed(1)} MB/s, ${sum.msgsPerS.toFixed(0)} msgs/s (sessions ${sum.sessions.map((m) => m.session.totalS.toFixed(3)).join(', ')} s)`);
      }
      results.push({ workload: w, client: label, dovecot, popgate });
    }
    memoryAtEnd(memory, servers);
  } catch (err) {
    throw withLogs(err, servers);
  } finally {
    await stopServers(servers);
  }
  return { results, memory };
}

async function loginWorkload(ctx: Ctx, root: string, w: Workload): Promise<{ result: LoginResult; memory: MemoryRow }> {
  const { wdir, mailRoot, mail } = prepareMail(ctx, root, w);
  const servers = await startServers(ctx, wdir, mailRoot);
  const memory = memoryAtStart(w, servers);
  try {
    // Cold: the first session after start (popgate: no password or size caches; Dovecot: no index yet).
    const cold: Partial<Record<ServerName, Measured>> = {};
    for (const server of servers.list) {
      const m = await measuredSession(ctx, server, 'raw', 0);
      checkSession(server.name, m.session, mail, 0);
      cold[server.name] = m;
    }
    for (let i = 1; i < ctx.args.warmup; i++) {
      for (const server of servers.list) checkSession(server.name, (await measuredSession(ctx, server, 'raw', 0)).session, mail, 0);
    }
    const warm: Record<ServerName, Measured[]> = { dovecot: [], popgate: [] };
    for (let i = 0; i < ctx.args.runs; i++) {
      for (const server of roundOrder(servers.list, i)) {
        const m = await measuredSession(ctx, server, 'raw', 0);
        checkSession(server.name, m.session, mail, 0);
        warm[server.name].push(m);
      }
    }
    memoryAtEnd(memory, servers);
    const out = (name: ServerName): { cold: Summary; warm: Summary } => ({ cold: summarize([cold[name] as Measured]), warm: summarize(warm[name]) });
    const result: LoginResult = { workload: w, dovecot: out('dovecot'), popgate: out('popgate') };
    for (const name of ['dovecot', 'popgate'] as const) {
      progress(`${w.name} ${name}: cold ${(result[name].cold.totalS * 1000).toFixed(1)} ms, warm ${(result[name].warm.totalS * 1000).toFixed(1)} ms`);
    }
    return { result, memory };
  } catch (err) {
    throw withLogs(err, servers);
  } finally {
    await stopServers(servers);
  }
}

// ---------------------------------------------------------------- memory at rest

interface MemoryRow {
  readonly workload: Workload;
  popgateStartMiB: number | undefined;
  popgateEndMiB: number | undefined;
  dovecotStartMiB: number | undefined;
  dovecotEndMiB: number | undefined;
}

/** Sum of VmRSS over the Dovecot master and all its service processes, MiB. */
function dovecotTotalMiB(d: DovecotInstance): number | undefined {
  const pids = [d.pid, ...childrenOf(d.pid).map((c) => c.pid)];
  let kib = 0;
  for (const pid of pids) kib += memoryKiB(pid)?.rss ?? 0;
  return kib > 0 ? kib / 1024 : undefined;
}

function popgateMiB(p: PopgateProcess): number | undefined {
  const m = memoryKiB(p.pid);
  return m === undefined ? undefined : m.rss / 1024;
}

function memoryAtStart(w: Workload, s: Servers): MemoryRow {
  return { workload: w, popgateStartMiB: popgateMiB(s.popgate), popgateEndMiB: undefined, dovecotStartMiB: dovecotTotalMiB(s.dovecot), dovecotEndMiB: undefined };
}

function memoryAtEnd(row: MemoryRow, s: Servers): void {
  row.popgateEndMiB = popgateMiB(s.popgate);
  row.dovecotEndMiB = dovecotTotalMiB(s.dovecot);
}

function memoryTable(rows: readonly MemoryRow[]): string {
  const header = ['workload', 'popgate after start', 'popgate after sessions', 'dovecot (all processes) after start', 'dovecot (all processes) after sessions'];
  return table(
    header,
    rows.map((r) => [r.workload.name, num(r.popgateStartMiB, 1), num(r.popgateEndMiB, 1), num(r.dovecotStartMiB, 1), num(r.dovecotEndMiB, 1)]),
    1,
  );
}

// ---------------------------------------------------------------- main

async function main(): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 2;
  }
  const root = mkdtempSync(join(tmpdir(), 'popgate-bench-'));
  chmodSync(root, 0o755);
  const ctx: Ctx = { args, user: 'alice', password: `bench-${randomBytes(6).toString('hex')}` };
  let interrupted = false;
  const onSignal = (): void => {
    if (interrupted) process.exit(130);
    interrupted = true;
    progress('interrupted: stopping servers');
    void cleanupAll(root, args.keep).then(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  if (args.serve) return serveOnly(ctx, root);
  const downloads: DownloadResult[] = [];
  const logins: LoginResult[] = [];
  const memory: MemoryRow[] = [];
  const loadBefore = loadavg();
  let status = 0;
  try {
    for (const w of workloads(args.quick)) {
      if (args.only !== undefined && !args.only.has(w.name)) continue;
      if (w.kind === 'download') {
        if (!w.clients.some((c) => args.clients.has(c))) continue;
        const r = await downloadWorkload(ctx, root, w);
        downloads.push(...r.results);
        memory.push(r.memory);
      } else {
        const r = await loginWorkload(ctx, root, w);
        logins.push(r.result);
        memory.push(r.memory);
      }
    }
  } catch (err) {
    status = 1;
    process.stderr.write(`\nbench FAILED: ${(err as Error).name}: ${(err as Error).message}\n`);
  }

  const header = [
    `popgate bench: node ${process.version}, Dovecot ${dovecotVersion()}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), loopback 127.0.0.1`,
    `medians of ${args.runs} sessions after ${args.warmup} warm-up (the first warm-up checks count, octets and SHA-256 of every message)${args.quick ? '; --quick sizes' : ''}`,
    'session = connect, USER/PASS, STAT, UIDL, RETR 1..N, QUIT; MB = 10^6 message octets (CRLF, un-stuffed) / whole session time; login = connect..PASS ok',
    'srv CPU = server CPU time per session (popgate: its process; Dovecot: master + services, incl. reaped pop3 processes)',
    'srv peak RSS = popgate: VmHWM of its process (reset before each session); Dovecot: summed VmHWM of the per-session pop3 processes (sampled every 20 ms; master, auth, login processes not included)',
  ];
  process.stdout.write('\n' + header.join('\n') + '\n');
  if (downloads.length > 0) process.stdout.write('\nDownload (RETR all)\n' + downloadTable(downloads) + '\n');
  if (logins.length > 0) process.stdout.write('\nLogin + STAT + UIDL (no RETR), raw client\n' + loginTable(logins) + '\n');
  if (memory.length > 0) process.stdout.write('\nServer RSS at rest, MiB\n' + memoryTable(memory) + '\n');
  process.stdout.write(`\nload average (1 min) before ${loadBefore[0]?.toFixed(2)}, after ${loadavg()[0]?.toFixed(2)} on ${cpus().length} CPUs: other work on the machine skews the figures\n`);
  if (args.json !== undefined) {
    writeFileSync(args.json, JSON.stringify({ status, args: { ...args, only: args.only && [...args.only], clients: [...args.clients] }, downloads, logins, memory }, null, 2));
    progress(`wrote ${args.json}`);
  }
  await cleanupAll(root, args.keep);
  return status;
}

/** --serve: both servers on one workload's Maildir until SIGINT/SIGTERM, for measurements by hand. */
async function serveOnly(ctx: Ctx, root: string): Promise<number> {
  const w = workloads(ctx.args.quick).find((x) => ctx.args.only === undefined || ctx.args.only.has(x.name)) as Workload;
  const { wdir, mailRoot, mail } = prepareMail(ctx, root, w);
  const servers = await startServers(ctx, wdir, mailRoot);
  process.stdout.write(
    `${w.name}: ${mail.count} messages, ${mail.crlfBytes} octets in ${join(mailRoot, ctx.user)}\n` +
      `dovecot POP3 127.0.0.1 ${servers.dovecot.pop3Port} (pid ${servers.dovecot.pid})\n` +
      `popgate POP3 127.0.0.1 ${servers.popgate.port} (pid ${servers.popgate.pid})\n` +
      `user ${ctx.user} password ${ctx.password}\n` +
      'Ctrl-C (or SIGTERM) stops both and removes the data.\n',
  );
  // Keep the process alive until a signal arrives (the handler stops both servers and exits).
  setInterval(() => undefined, 60_000);
  await new Promise<never>(() => undefined);
  return 0;
}

async function cleanupAll(root: string, keep: boolean): Promise<void> {
  const all = cleanups.splice(0);
  await Promise.all(all.map((c) => c().catch((err: unknown) => progress(`cleanup: ${(err as Error).message}`))));
  if (keep) progress(`kept ${root}`);
  else rmSync(root, { recursive: true, force: true });
}

process.exitCode = await main();
