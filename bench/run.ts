/**
 * `npm run bench`: on the same Maildir, in the same run, with the same clients:
 *   (a) Dovecot's own POP3 server (tuned as for a fair comparison),
 *   (b) popgate -> IMAP -> the same Dovecot (a popgate child with an imap tenant, passthrough auth),
 *   (c) popgate's Maildir adapter,
 *   (d) direct IMAP download with imapflow (one FETCH 1:* session; the reference for (b)).
 * Beside them: the S3 workload (bench/lib/s3-bench.ts, s3rver), the REST workloads
 * (bench/lib/rest-bench.ts, the reference store in a child process) and the Gmail workloads
 * (bench/lib/gmail-bench.ts, the Gmail API stand-in in a child process), each with its direct download (e).
 * And login-burst (bench/lib/login-burst-bench.ts): users-file logins per second cold and warm, and
 * how a burst of first logins is answered (served or shed with [SYS/TEMP]).
 *
 *   node dist/bench/run.js [--quick] [--only maildir-2000,maildir-1mb,login-10000,s3-2000,rest-2000,rest-1mb,gmail-2000,gmail-1mb,login-burst]
 *                          [--servers a,b,c,d] [--clients raw,poplib] [--runs 3] [--warmup 1]
 *                          [--pipeline 8] [--json FILE] [--keep] [--serve]
 *                          [--popgate-log debug] [--cpu-prof DIR]
 *
 * Each workload gets a fresh Maildir (user alice), a fresh Dovecot (IMAP + POP3 on that Maildir;
 * pop3_no_flag_updates, maildir_very_dirty_syncs, pop3-login and imap-login with service_count = 0
 * and process_min_avail = 2) and fresh popgate child processes. Per server and client: one
 * verified warm-up session (message count, octets and SHA-256 of every message), then the
 * median of `--runs` sessions, the servers taking turns. Exits non-zero on any protocol error
 * or mismatch; a missed performance target is reported, never a failure.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { dovecotMailOwner, dovecotVersion, startDovecot, type DovecotInstance } from '../test/helpers/dovecot.js';
import { BenchProtocolError, clientLabel, runClientSession, type ClientKind } from './lib/clients.js';
import { generateMaildir, type GeneratedMaildir } from './lib/maildir-gen.js';
import { startPopgate, type PopgateLogLevel, type PopgateProcess } from './lib/popgate.js';
import { gmailBigLine, gmailTable, runGmailWorkload, GMAIL_SETTINGS_NOTE } from './lib/gmail-bench.js';
import type { StoreBenchResult, StoreRow } from './lib/http-store-bench.js';
import { restBigLine, restTable, runRestWorkload, type RestBenchResult, type RestRow } from './lib/rest-bench.js';
import { runS3Workload, s3Table, type S3BenchResult } from './lib/s3-bench.js';
import { loginBurstText, runLoginBurst, type LoginBurstResult } from './lib/login-burst-bench.js';
import { childrenOf, memoryKiB, procStat, resetPeakRss, sampleChildrenPeak, treeCpuS } from './lib/proc.js';
import type { SessionResult } from './clients/raw-client.js';
import { median } from './lib/stats.js';

// ---------------------------------------------------------------- options

/** The four ways to download the same Maildir (see the file comment). */
type ServerId = 'a' | 'b' | 'c' | 'd';
const SERVER_IDS: readonly ServerId[] = ['a', 'b', 'c', 'd'];
const SERVER_NAMES: Readonly<Record<ServerId, string>> = {
  a: '(a) dovecot pop3',
  b: '(b) popgate->imap',
  c: '(c) popgate maildir',
  d: '(d) imapflow direct',
};
type PopClient = 'raw' | 'poplib';

interface Args {
  readonly quick: boolean;
  readonly only: ReadonlySet<string> | undefined;
  readonly servers: ReadonlySet<ServerId>;
  readonly clients: ReadonlySet<PopClient>;
  readonly runs: number;
  readonly warmup: number;
  readonly pipeline: number;
  readonly json: string | undefined;
  readonly keep: boolean;
  /** Prepare the first selected workload, start the servers, print how to reach them, wait for a signal. */
  readonly serve: boolean;
  readonly popgateLog: PopgateLogLevel;
  /** Write a V8 CPU profile of each popgate child into this folder (at its exit). */
  readonly cpuProf: string | undefined;
  /** (b)'s `connectionReuse.seconds`: 0 (off, the default) or how long a logged-in IMAP connection is kept. */
  readonly imapReuse: number;
}

interface Workload {
  readonly name: string;
  readonly count: number;
  readonly size: number;
  readonly kind: 'download' | 'login' | 's3' | 'rest' | 'gmail' | 'burst';
  readonly clients: readonly PopClient[];
  /** rest, gmail: also one message of about this many octets, RETRed while popgate's RSS is sampled. */
  readonly bigMessage?: number;
}

function workloads(quick: boolean): Workload[] {
  return [
    { name: 'maildir-2000', count: quick ? 200 : 2000, size: 20_000, kind: 'download', clients: ['raw', 'poplib'] },
    { name: 'maildir-1mb', count: quick ? 20 : 200, size: 1_000_000, kind: 'download', clients: ['raw'] },
    { name: 'login-10000', count: quick ? 1000 : 10_000, size: 20_000, kind: 'login', clients: ['raw'] },
    // popgate's S3 adapter on s3rver (bench/lib/s3-bench.ts); not one of the servers a..d.
    { name: 's3-2000', count: quick ? 200 : 2000, size: 20_000, kind: 's3', clients: ['raw', 'poplib'] },
    // popgate's REST adapter on the reference store in a child process (bench/lib/rest-bench.ts).
    { name: 'rest-2000', count: quick ? 200 : 2000, size: 20_000, kind: 'rest', clients: ['raw', 'poplib'] },
    { name: 'rest-1mb', count: quick ? 20 : 200, size: 1_000_000, kind: 'rest', clients: ['raw', 'poplib'], bigMessage: 25_000_000 },
    // popgate's Gmail adapter on the Gmail API stand-in in a child process (bench/lib/gmail-bench.ts).
    { name: 'gmail-2000', count: quick ? 200 : 2000, size: 20_000, kind: 'gmail', clients: ['raw', 'poplib'] },
    { name: 'gmail-1mb', count: quick ? 20 : 200, size: 1_000_000, kind: 'gmail', clients: ['raw', 'poplib'], bigMessage: 25_000_000 },
    // Users-file login rates (count: accounts for cold and warm) and a burst of first logins (bench/lib/login-burst-bench.ts).
    { name: 'login-burst', count: quick ? 50 : 200, size: 0, kind: 'burst', clients: ['raw'] },
  ];
}

const LOG_LEVELS: readonly PopgateLogLevel[] = ['error', 'warn', 'info', 'debug', 'trace'];

const USAGE = `usage: node dist/bench/run.js [--quick] [--only NAMES] [--servers a,b,c,d] [--clients raw,poplib] [--runs N] [--warmup N] [--pipeline W]
                              [--json FILE] [--keep] [--serve] [--popgate-log LEVEL] [--cpu-prof DIR] [--imap-reuse SECONDS]
  servers: ${SERVER_IDS.map((s) => SERVER_NAMES[s]).join(', ')}
  --serve: prepare the first selected workload's Maildir, start Dovecot and both popgates on it and wait (Ctrl-C stops)
  --popgate-log: the popgate children's log level (default warn; debug logs each IMAP backend call's ms)
  --cpu-prof DIR: run the popgate children with node --cpu-prof (profiles written to DIR when they stop)
  --imap-reuse SECONDS: (b) keeps each account's IMAP connection this long after QUIT for its next session (default 0: off)
  workloads: ${workloads(false)
    .map((w) => w.name)
    .join(', ')}`;

function parseArgs(argv: readonly string[]): Args {
  const names = new Set(workloads(false).map((w) => w.name));
  let quick = false;
  let keep = false;
  let serve = false;
  let only: Set<string> | undefined;
  let servers = new Set<ServerId>(SERVER_IDS);
  let clients = new Set<PopClient>(['raw', 'poplib']);
  let runs: number | undefined;
  let warmup = 1;
  let pipeline = 8;
  let json: string | undefined;
  let popgateLog: PopgateLogLevel = 'warn';
  let cpuProf: string | undefined;
  let imapReuse = 0;
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
      only = new Set(
        value()
          .split(',')
          .filter((s) => s !== ''),
      );
      for (const n of only) if (!names.has(n)) throw new Error(`unknown workload ${n}\n${USAGE}`);
    } else if (a === '--servers') {
      const list = value()
        .split(',')
        .filter((s) => s !== '');
      for (const s of list) if (!(SERVER_IDS as readonly string[]).includes(s)) throw new Error(`unknown server ${s} (a, b, c, d)`);
      if (list.length === 0) throw new Error('--servers needs at least one of a, b, c, d');
      servers = new Set(list as ServerId[]);
    } else if (a === '--clients') {
      const list = value()
        .split(',')
        .filter((s) => s !== '');
      for (const c of list) if (c !== 'raw' && c !== 'poplib') throw new Error(`unknown client ${c} (raw, poplib)`);
      clients = new Set(list as PopClient[]);
    } else if (a === '--runs') runs = int(1);
    else if (a === '--warmup') warmup = int(0);
    else if (a === '--pipeline') pipeline = int(1);
    else if (a === '--json') json = value();
    else if (a === '--popgate-log') {
      const v = value();
      if (!(LOG_LEVELS as readonly string[]).includes(v)) throw new Error(`--popgate-log: one of ${LOG_LEVELS.join(', ')}`);
      popgateLog = v as PopgateLogLevel;
    } else if (a === '--cpu-prof') cpuProf = resolve(value());
    else if (a === '--imap-reuse') imapReuse = int(0);
    else if (a === '--help' || a === '-h') {
      process.stdout.write(USAGE + '\n');
      process.exit(0);
    } else throw new Error(`unknown argument ${a}\n${USAGE}`);
  }
  // --quick is a smoke test: one measured session each unless --runs says otherwise.
  return { quick, only, servers, clients, runs: runs ?? (quick ? 1 : 3), warmup, pipeline, json, keep, serve, popgateLog, cpuProf, imapReuse };
}

// ---------------------------------------------------------------- servers and measurements

/** What one session cost the servers. */
interface Usage {
  /** popgate process CPU seconds (b, c). */
  readonly gwCpuS: number | undefined;
  /** Dovecot CPU seconds: master, services and reaped per-session processes (all of a, b, d; idle for c). */
  readonly dvCpuS: number;
  /** popgate VmHWM, MiB (reset before the session). */
  readonly gwPeakMiB: number | undefined;
  /** Summed VmHWM of Dovecot's per-session process(es) (pop3 for a, imap for b and d), MiB. */
  readonly dvPeakMiB: number | undefined;
}

interface Measured {
  readonly session: SessionResult;
  readonly usage: Usage;
}

interface Server {
  readonly id: ServerId;
  /** POP3 port for a, b, c; Dovecot's IMAP port for d. */
  readonly port: number;
  readonly protocol: 'pop3' | 'imap';
  /** Starts measuring; the returned function ends it (after the session's processes are gone). */
  begin(): () => Promise<Usage>;
  /** Waits (bounded) until Dovecot's per-session processes of earlier sessions are gone. */
  settle(): Promise<void>;
}

function makeServer(id: ServerId, d: DovecotInstance, gw: PopgateProcess | undefined): Server {
  // The Dovecot process that serves the session: pop3 for (a), imap for (b) (popgate's backend
  // connection) and (d); none for (c).
  const dvComm = id === 'a' ? 'pop3' : id === 'c' ? undefined : 'imap';
  const settle = async (): Promise<void> => {
    if (dvComm !== undefined) for (let i = 0; i < 100 && childrenOf(d.pid).some((c) => c.comm === dvComm); i++) await sleep(10);
  };
  return {
    settle,
    id,
    port: id === 'a' ? d.pop3Port : id === 'd' ? d.imapPort : (gw as PopgateProcess).port,
    protocol: id === 'd' ? 'imap' : 'pop3',
    begin() {
      const dv0 = treeCpuS(d.pid);
      const sampler = dvComm === undefined ? undefined : sampleChildrenPeak(d.pid, dvComm);
      const gwReset = gw !== undefined && resetPeakRss(gw.pid);
      const gw0 = gw === undefined ? undefined : procStat(gw.pid)?.cpuS;
      return async () => {
        // The per-session process exits after QUIT/LOGOUT; wait (bounded) so the master has
        // reaped it and its CPU time shows in the master's cutime/cstime.
        await settle();
        await sleep(20);
        const peak = sampler?.stop() ?? 0;
        const gw1 = gw === undefined ? undefined : procStat(gw.pid)?.cpuS;
        const mem = gw === undefined ? undefined : memoryKiB(gw.pid);
        return {
          gwCpuS: gw0 !== undefined && gw1 !== undefined ? gw1 - gw0 : undefined,
          dvCpuS: treeCpuS(d.pid) - dv0,
          gwPeakMiB: gwReset && mem !== undefined ? mem.hwm / 1024 : undefined,
          dvPeakMiB: peak > 0 ? peak / 1024 : undefined,
        };
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

/** The client a server is measured with: the POP3 client for a, b, c; imapflow for d. */
function clientFor(server: Server, kind: PopClient): ClientKind {
  return server.protocol === 'imap' ? 'imapflow' : kind;
}

function session(
  ctx: Ctx,
  server: Server,
  kind: PopClient,
  opts: { max?: number; verify?: boolean; prime?: boolean; onPrimed?: () => Promise<void> },
): Promise<SessionResult> {
  return runClientSession({ kind: clientFor(server, kind), port: server.port, user: ctx.user, password: ctx.password, pipeline: ctx.args.pipeline, ...opts });
}

/**
 * One measured session. (d) is primed unless `cold`: its process first runs one unmeasured
 * session, so imapflow is JIT-compiled as it is in a long-running popgate; the server is
 * measured over the second session only.
 */
async function measuredSession(ctx: Ctx, server: Server, kind: PopClient, max: number | undefined, cold = false): Promise<Measured> {
  const opts = max === undefined ? {} : { max };
  if (server.id === 'd' && !cold) {
    let end: (() => Promise<Usage>) | undefined;
    const onPrimed = async (): Promise<void> => {
      await server.settle();
      end = server.begin();
    };
    const s = await session(ctx, server, kind, { ...opts, prime: true, onPrimed });
    if (end === undefined) throw new BenchProtocolError(`${SERVER_NAMES[server.id]}: the client did not report its priming session`);
    return { session: s, usage: await end() };
  }
  const end = server.begin();
  const s = await session(ctx, server, kind, opts);
  return { session: s, usage: await end() };
}

function check(cond: boolean, what: string): void {
  if (!cond) throw new BenchProtocolError(what);
}

/** The session saw exactly the generated mailbox. */
function checkSession(server: ServerId, s: SessionResult, mail: GeneratedMaildir, retrieved: number): void {
  const who = SERVER_NAMES[server];
  check(s.count === mail.count, `${who}: STAT said ${s.count} messages, the Maildir has ${mail.count}`);
  check(s.statSize === mail.crlfBytes, `${who}: STAT said ${s.statSize} octets, the messages have ${mail.crlfBytes}`);
  check(s.n === retrieved, `${who}: retrieved ${s.n} messages, expected ${retrieved}`);
  if (retrieved === mail.count) check(s.bytes === mail.crlfBytes, `${who}: received ${s.bytes} message octets, expected ${mail.crlfBytes}`);
  if (s.digest !== undefined)
    check(s.digest === mail.digest, `${who}: message contents differ from the Maildir (digest ${s.digest.slice(0, 16)} != ${mail.digest.slice(0, 16)})`);
}

// ---------------------------------------------------------------- statistics

function medianOf(xs: readonly (number | undefined)[]): number | undefined {
  const v = xs.filter((x): x is number => x !== undefined && Number.isFinite(x));
  return v.length === 0 ? undefined : median(v);
}

function maxOf(xs: readonly (number | undefined)[]): number | undefined {
  const v = xs.filter((x): x is number => x !== undefined && Number.isFinite(x));
  return v.length === 0 ? undefined : Math.max(...v);
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
  /** Connect .. UIDL listed (d: connect .. sizes fetched). */
  readonly loginUidlMs: number;
  readonly gwCpuS: number | undefined;
  readonly dvCpuS: number | undefined;
  readonly clientCpuS: number | undefined;
  readonly gwPeakMiB: number | undefined;
  readonly dvPeakMiB: number | undefined;
  readonly sessions: readonly Measured[];
}

function summarize(ms: readonly Measured[]): Summary {
  const first = ms[0] as Measured;
  const totalS = median(ms.map((m) => m.session.totalS));
  return {
    n: first.session.n,
    bytes: first.session.bytes,
    totalS,
    mbPerS: first.session.bytes / 1e6 / totalS,
    msgsPerS: first.session.n / totalS,
    loginMs: median(ms.map((m) => m.session.loginMs)),
    statMs: median(ms.map((m) => m.session.statMs)),
    uidlMs: median(ms.map((m) => m.session.uidlMs)),
    loginUidlMs: median(ms.map((m) => m.session.loginMs + m.session.statMs + m.session.uidlMs)),
    gwCpuS: medianOf(ms.map((m) => m.usage.gwCpuS)),
    dvCpuS: medianOf(ms.map((m) => m.usage.dvCpuS)),
    clientCpuS: medianOf(ms.map((m) => m.session.clientCpuS)),
    gwPeakMiB: maxOf(ms.map((m) => m.usage.gwPeakMiB)),
    dvPeakMiB: maxOf(ms.map((m) => m.usage.dvPeakMiB)),
    sessions: ms,
  };
}

// ---------------------------------------------------------------- targets

/** A goal from the issue: `value op limit`. A MISS is reported, never a failure. */
interface Target {
  readonly what: string;
  readonly value: number | undefined;
  readonly op: '>=' | '<=';
  readonly limit: number;
}

function verdict(t: Target): 'PASS' | 'MISS' | 'n/a' {
  if (t.value === undefined || !Number.isFinite(t.value)) return 'n/a';
  return (t.op === '>=' ? t.value >= t.limit : t.value <= t.limit) ? 'PASS' : 'MISS';
}

function targetCell(t: Target | undefined): string {
  return t === undefined ? '' : `${t.op} ${t.limit.toFixed(2)}x ${verdict(t)}`;
}

function ratioValue(p: number | undefined, d: number | undefined): number | undefined {
  if (p === undefined || d === undefined || !Number.isFinite(p) || !Number.isFinite(d) || d === 0) return undefined;
  return p / d;
}

// ---------------------------------------------------------------- output

type Row = readonly string[];

function table(header: Row, rows: readonly Row[], rightFrom: number, leftCols: ReadonlySet<number> = new Set()): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (r: Row): string =>
    header
      .map((_, i) => {
        const c = r[i] ?? '';
        return i >= rightFrom && !leftCols.has(i) ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number);
      })
      .join('  ')
      .trimEnd();
  return [fmt(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt)].join('\n');
}

function num(x: number | undefined, digits: number): string {
  return x === undefined || !Number.isFinite(x) ? 'n/a' : x.toFixed(digits);
}

function ratio(p: number | undefined, d: number | undefined): string {
  const r = ratioValue(p, d);
  return r === undefined ? 'n/a' : `${r.toFixed(2)}x`;
}

function sizeLabel(w: Workload): string {
  return `${w.count.toLocaleString('en-US')} x ~${w.size >= 1e6 ? `${w.size / 1e6} MB` : `${w.size / 1e3} KB`}`;
}

interface ClientGroup {
  readonly kind: PopClient;
  readonly label: string;
  readonly byServer: Partial<Record<ServerId, Summary>>;
}

interface DownloadResult {
  readonly workload: Workload;
  readonly groups: readonly ClientGroup[];
  /** (d), measured once per workload (interleaved with the first client's rounds). */
  readonly imapflow: Summary | undefined;
  /** Whether (b)'s UIDL listing (uidlFormat dovecot) equals Dovecot's own (a), in words. */
  readonly uidlNote: string | undefined;
}

interface LoginResult {
  readonly workload: Workload;
  readonly byServer: Partial<Record<ServerId, { cold: Summary; warm: Summary }>>;
  readonly uidlNote: string | undefined;
}

const targets: Target[] = [];

/** Throughput targets of the issue, per client: pipelined b/a >= 0.8, c/a >= 1.0; poplib b/a >= 0.95. */
function throughputTarget(w: Workload, kind: PopClient, pair: 'b/a' | 'c/a' | 'b/d', value: number | undefined): Target | undefined {
  let limit: number | undefined;
  if (kind === 'raw' && pair === 'b/a') limit = 0.8;
  else if (kind === 'raw' && pair === 'c/a') limit = 1.0;
  else if (kind === 'poplib' && pair === 'b/a') limit = 0.95;
  if (limit === undefined) return undefined;
  return { what: `${sizeLabel(w)}, ${kind === 'raw' ? 'pipelined' : 'poplib'}: MB/s ${pair}`, value, op: '>=', limit };
}

function downloadTable(results: readonly DownloadResult[]): string {
  const header = [
    'workload',
    'client',
    'server',
    'MB/s',
    'msgs/s',
    'login ms',
    'session s',
    'popgate CPU s',
    'dovecot CPU s',
    'client CPU s',
    'popgate peak MiB',
    'dovecot peak MiB',
    'target (issue)',
  ];
  const rows: Row[] = [];
  for (const r of results) {
    let first = true;
    const line = (client: string, id: ServerId, s: Summary): Row => {
      const row = [
        first ? sizeLabel(r.workload) : '',
        client,
        SERVER_NAMES[id],
        num(s.mbPerS, 1),
        num(s.msgsPerS, 0),
        num(s.loginMs, 1),
        num(s.totalS, 3),
        num(s.gwCpuS, 2),
        num(s.dvCpuS, 2),
        num(s.clientCpuS, 2),
        num(s.gwPeakMiB, 1),
        num(s.dvPeakMiB, 1),
        '',
      ];
      first = false;
      return row;
    };
    for (const g of r.groups) {
      let firstInGroup = true;
      for (const id of ['a', 'b', 'c'] as const) {
        const s = g.byServer[id];
        if (s === undefined) continue;
        rows.push(line(firstInGroup ? g.label : '', id, s));
        firstInGroup = false;
      }
    }
    if (r.imapflow !== undefined) rows.push(line(clientLabel('imapflow', 0), 'd', r.imapflow));
    for (const g of r.groups) {
      const a = g.byServer.a;
      const pairs: [string, Summary | undefined, Summary | undefined][] = [
        ['b/a', g.byServer.b, a],
        ['c/a', g.byServer.c, a],
        ['b/d', g.byServer.b, r.imapflow],
      ];
      for (const [pair, p, q] of pairs) {
        if (p === undefined || q === undefined) continue;
        const t = throughputTarget(r.workload, g.kind, pair as 'b/a' | 'c/a' | 'b/d', ratioValue(p.mbPerS, q.mbPerS));
        if (t !== undefined) targets.push(t);
        rows.push([
          '',
          g.label,
          `ratio ${pair}`,
          ratio(p.mbPerS, q.mbPerS),
          ratio(p.msgsPerS, q.msgsPerS),
          ratio(p.loginMs, q.loginMs),
          ratio(p.totalS, q.totalS),
          '',
          ratio(p.dvCpuS, q.dvCpuS),
          '',
          '',
          '',
          targetCell(t),
        ]);
      }
    }
  }
  return table(header, rows, 3, new Set([12]));
}

function loginTable(results: readonly LoginResult[]): string {
  const header = [
    'workload',
    'server',
    'session',
    'login ms',
    'STAT ms',
    'UIDL ms',
    'login+UIDL ms',
    'session ms',
    'popgate CPU ms',
    'dovecot CPU ms',
    'client CPU ms',
    'popgate peak MiB',
    'dovecot peak MiB',
    'target (issue)',
  ];
  const rows: Row[] = [];
  for (const r of results) {
    let first = true;
    const label = `login+STAT+UIDL, ${r.workload.count.toLocaleString('en-US')} msgs`;
    for (const id of SERVER_IDS) {
      const x = r.byServer[id];
      if (x === undefined) continue;
      for (const phase of ['cold', 'warm'] as const) {
        const s = x[phase];
        rows.push([
          first ? label : '',
          SERVER_NAMES[id],
          phase === 'cold' ? 'cold (1st)' : 'warm',
          num(s.loginMs, 1),
          num(s.statMs, 1),
          num(s.uidlMs, 1),
          num(s.loginUidlMs, 1),
          num(s.totalS * 1000, 1),
          num(s.gwCpuS === undefined ? undefined : s.gwCpuS * 1000, 0),
          num(s.dvCpuS === undefined ? undefined : s.dvCpuS * 1000, 0),
          num(s.clientCpuS === undefined ? undefined : s.clientCpuS * 1000, 0),
          num(s.gwPeakMiB, 1),
          num(s.dvPeakMiB, 1),
          '',
        ]);
        first = false;
      }
    }
    const pairs: [string, ServerId, ServerId][] = [
      ['b/a', 'b', 'a'],
      ['c/a', 'c', 'a'],
      ['b/d', 'b', 'd'],
    ];
    for (const [pair, pid, qid] of pairs) {
      const p = r.byServer[pid];
      const q = r.byServer[qid];
      if (p === undefined || q === undefined) continue;
      for (const phase of ['cold', 'warm'] as const) {
        const ps = p[phase];
        const qs = q[phase];
        let t: Target | undefined;
        if (phase === 'warm' && qid === 'a') {
          t = {
            what: `login+UIDL, ${r.workload.count.toLocaleString('en-US')} msgs, warm: ${pair} (time)`,
            value: ratioValue(ps.loginUidlMs, qs.loginUidlMs),
            op: '<=',
            limit: 1.5,
          };
          targets.push(t);
        }
        rows.push([
          '',
          `ratio ${pair}`,
          phase,
          ratio(ps.loginMs, qs.loginMs),
          ratio(ps.statMs, qs.statMs),
          ratio(ps.uidlMs, qs.uidlMs),
          ratio(ps.loginUidlMs, qs.loginUidlMs),
          ratio(ps.totalS, qs.totalS),
          '',
          ratio(ps.dvCpuS, qs.dvCpuS),
          '',
          '',
          '',
          targetCell(t),
        ]);
      }
    }
  }
  return table(header, rows, 3, new Set([13]));
}

function targetsTable(): string {
  return table(
    ['target (issue)', 'value', 'goal', 'result'],
    targets.map((t) => [t.what, t.value === undefined ? 'n/a' : `${t.value.toFixed(2)}x`, `${t.op} ${t.limit.toFixed(2)}x`, verdict(t)]),
    1,
  );
}

// ---------------------------------------------------------------- workloads

interface Servers {
  readonly dovecot: DovecotInstance;
  readonly gwImap: PopgateProcess | undefined;
  readonly gwMaildir: PopgateProcess | undefined;
  /** The selected servers in the order a, b, c, d. */
  readonly list: readonly Server[];
}

const cleanups: (() => Promise<void>)[] = [];

/** imap-login tuned like pop3-login (no login process per connection), so (b) and (d) pay what (a) pays. */
const IMAP_LOGIN_TUNING = 'service imap-login {\n  service_count = 0\n  process_min_avail = 2\n}\n';

async function startServers(ctx: Ctx, wdir: string, mailRoot: string, w: Workload): Promise<Servers> {
  const sel = ctx.args.servers;
  const dovecot = await startDovecot({
    users: { [ctx.user]: ctx.password },
    protocols: ['imap', 'pop3'],
    mailRoot,
    pop3Tuning: true,
    mailMaxUseripConnections: 50,
    extraConfig: IMAP_LOGIN_TUNING,
  });
  cleanups.push(() => dovecot.stop());
  const popgate = async (id: 'b' | 'c'): Promise<PopgateProcess> => {
    const dir = join(wdir, `popgate-${id}`);
    mkdirSync(dir, { recursive: true });
    const nodeArgs =
      ctx.args.cpuProf === undefined
        ? []
        : ['--cpu-prof', '--cpu-prof-dir', ctx.args.cpuProf, '--cpu-prof-name', `popgate-${id}-${w.name}-${Date.now()}.cpuprofile`];
    const p = await startPopgate({
      dir,
      backend:
        id === 'b'
          ? { adapter: 'imap', host: '127.0.0.1', port: dovecot.imapPort, uidlFormat: 'dovecot', deleteMode: 'keep', reuseSeconds: ctx.args.imapReuse }
          : { adapter: 'maildir', mailPath: join(mailRoot, '{user}'), user: ctx.user, password: ctx.password },
      logLevel: ctx.args.popgateLog,
      nodeArgs,
    });
    cleanups.push(() => p.stop());
    return p;
  };
  const gwImap = sel.has('b') ? await popgate('b') : undefined;
  const gwMaildir = sel.has('c') ? await popgate('c') : undefined;
  const list = SERVER_IDS.filter((id) => sel.has(id)).map((id) => makeServer(id, dovecot, id === 'b' ? gwImap : id === 'c' ? gwMaildir : undefined));
  return { dovecot, gwImap, gwMaildir, list };
}

async function stopServers(s: Servers): Promise<void> {
  await Promise.all([s.dovecot.stop(), s.gwImap?.stop(), s.gwMaildir?.stop()]);
}

/** Adds the servers' log tails to a failure. */
function withLogs(err: unknown, s: Servers): Error {
  const e = err instanceof Error ? err : new Error(String(err));
  if (s.gwImap !== undefined) e.message += `\n--- popgate (b) log (tail) ---\n${s.gwImap.logTail(15)}`;
  if (s.gwMaildir !== undefined) e.message += `\n--- popgate (c) log (tail) ---\n${s.gwMaildir.logTail(15)}`;
  e.message += `\n--- dovecot log (tail) ---\n${s.dovecot.logTail(15)}`;
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

/** Round i starts with the i-th server (a b c d, b c d a, ...), so background load hits all alike. */
function roundOrder<T>(list: readonly T[], round: number): readonly T[] {
  const k = list.length === 0 ? 0 : round % list.length;
  return [...list.slice(k), ...list.slice(0, k)];
}

/** Whether (b)'s UIDL listing equals Dovecot's own (a): informational, not a failure. */
function compareUidl(a: SessionResult | undefined, b: SessionResult | undefined): string | undefined {
  if (a?.uidlDigest === undefined || b?.uidlDigest === undefined) return undefined;
  if (a.uidlDigest === b.uidlDigest) return "UIDL listing of (b) (uidlFormat dovecot) is identical to Dovecot's own (a)";
  return `UIDL listing of (b) (uidlFormat dovecot) DIFFERS from Dovecot's own (a): first lines ${JSON.stringify(b.uidlFirst)} vs ${JSON.stringify(a.uidlFirst)}`;
}

async function downloadWorkload(ctx: Ctx, root: string, w: Workload): Promise<{ result: DownloadResult; memory: MemoryRow }> {
  const { wdir, mailRoot, mail } = prepareMail(ctx, root, w);
  const servers = await startServers(ctx, wdir, mailRoot, w);
  const memory = memoryAtStart(w, servers);
  const groups: ClientGroup[] = [];
  let imapflow: Summary | undefined;
  let uidlNote: string | undefined;
  try {
    const kinds = w.clients.filter((k) => ctx.args.clients.has(k));
    for (const kind of kinds) {
      const label = clientLabel(kind, ctx.args.pipeline);
      // (d) does not speak POP3: it is measured once, alongside the first client's sessions.
      const list = servers.list.filter((s) => s.protocol === 'pop3' || imapflow === undefined);
      const firstSessions: Partial<Record<ServerId, SessionResult>> = {};
      for (const server of list) {
        for (let i = 0; i < ctx.args.warmup; i++) {
          // The first warm-up verifies every message; Dovecot builds its index here.
          const s = await session(ctx, server, kind, { verify: i === 0 });
          checkSession(server.id, s, mail, mail.count);
          firstSessions[server.id] ??= s;
        }
      }
      if (kind === 'raw') uidlNote ??= compareUidl(firstSessions.a, firstSessions.b);
      const measured: Partial<Record<ServerId, Measured[]>> = {};
      for (let i = 0; i < ctx.args.runs; i++) {
        for (const server of roundOrder(list, i)) {
          const m = await measuredSession(ctx, server, kind, undefined);
          checkSession(server.id, m.session, mail, mail.count);
          (measured[server.id] ??= []).push(m);
        }
      }
      const byServer: Partial<Record<ServerId, Summary>> = {};
      for (const server of list) {
        const sum = summarize(measured[server.id] as Measured[]);
        progress(
          `${w.name} ${server.id === 'd' ? clientLabel('imapflow', 0) : label} ${SERVER_NAMES[server.id]}: ${sum.mbPerS.toFixed(1)} MB/s, ${sum.msgsPerS.toFixed(0)} msgs/s, login ${sum.loginMs.toFixed(1)} ms (sessions ${sum.sessions.map((m) => m.session.totalS.toFixed(3)).join(', ')} s)`,
        );
        if (server.id === 'd') imapflow = sum;
        else byServer[server.id] = sum;
      }
      groups.push({ kind, label, byServer });
    }
    memoryAtEnd(memory, servers);
  } catch (err) {
    throw withLogs(err, servers);
  } finally {
    await stopServers(servers);
  }
  return { result: { workload: w, groups, imapflow, uidlNote }, memory };
}

async function loginWorkload(ctx: Ctx, root: string, w: Workload): Promise<{ result: LoginResult; memory: MemoryRow }> {
  const { wdir, mailRoot, mail } = prepareMail(ctx, root, w);
  const servers = await startServers(ctx, wdir, mailRoot, w);
  const memory = memoryAtStart(w, servers);
  try {
    // Cold: the first session of each server after start (popgate: no password or snapshot
    // caches). Dovecot's index is shared by POP3 and IMAP: the first of them, (a), builds it.
    const cold: Partial<Record<ServerId, Measured>> = {};
    for (const server of servers.list) {
      const m = await measuredSession(ctx, server, 'raw', 0, true);
      checkSession(server.id, m.session, mail, 0);
      cold[server.id] = m;
    }
    for (let i = 1; i < ctx.args.warmup; i++) {
      for (const server of servers.list) checkSession(server.id, (await measuredSession(ctx, server, 'raw', 0)).session, mail, 0);
    }
    const warm: Partial<Record<ServerId, Measured[]>> = {};
    for (let i = 0; i < ctx.args.runs; i++) {
      for (const server of roundOrder(servers.list, i)) {
        const m = await measuredSession(ctx, server, 'raw', 0);
        checkSession(server.id, m.session, mail, 0);
        (warm[server.id] ??= []).push(m);
      }
    }
    memoryAtEnd(memory, servers);
    const byServer: Partial<Record<ServerId, { cold: Summary; warm: Summary }>> = {};
    for (const server of servers.list) {
      const r = { cold: summarize([cold[server.id] as Measured]), warm: summarize(warm[server.id] as Measured[]) };
      byServer[server.id] = r;
      progress(`${w.name} ${SERVER_NAMES[server.id]}: login+UIDL cold ${r.cold.loginUidlMs.toFixed(1)} ms, warm ${r.warm.loginUidlMs.toFixed(1)} ms`);
    }
    return { result: { workload: w, byServer, uidlNote: compareUidl(cold.a?.session, cold.b?.session) }, memory };
  } catch (err) {
    throw withLogs(err, servers);
  } finally {
    await stopServers(servers);
  }
}

// ---------------------------------------------------------------- memory at rest

interface MemoryRow {
  readonly workload: Workload;
  gwImapStartMiB: number | undefined;
  gwImapEndMiB: number | undefined;
  gwMaildirStartMiB: number | undefined;
  gwMaildirEndMiB: number | undefined;
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

function popgateMiB(p: PopgateProcess | undefined): number | undefined {
  const m = p === undefined ? undefined : memoryKiB(p.pid);
  return m === undefined ? undefined : m.rss / 1024;
}

function memoryAtStart(w: Workload, s: Servers): MemoryRow {
  return {
    workload: w,
    gwImapStartMiB: popgateMiB(s.gwImap),
    gwImapEndMiB: undefined,
    gwMaildirStartMiB: popgateMiB(s.gwMaildir),
    gwMaildirEndMiB: undefined,
    dovecotStartMiB: dovecotTotalMiB(s.dovecot),
    dovecotEndMiB: undefined,
  };
}

function memoryAtEnd(row: MemoryRow, s: Servers): void {
  row.gwImapEndMiB = popgateMiB(s.gwImap);
  row.gwMaildirEndMiB = popgateMiB(s.gwMaildir);
  row.dovecotEndMiB = dovecotTotalMiB(s.dovecot);
}

function memoryTable(rows: readonly MemoryRow[]): string {
  const header = [
    'workload',
    '(b) popgate->imap start',
    '(b) after sessions',
    '(c) popgate maildir start',
    '(c) after sessions',
    'dovecot (all processes) start',
    'dovecot after sessions',
  ];
  return table(
    header,
    rows.map((r) => [
      r.workload.name,
      num(r.gwImapStartMiB, 1),
      num(r.gwImapEndMiB, 1),
      num(r.gwMaildirStartMiB, 1),
      num(r.gwMaildirEndMiB, 1),
      num(r.dovecotStartMiB, 1),
      num(r.dovecotEndMiB, 1),
    ]),
    1,
  );
}

// ---------------------------------------------------------------- main

async function main(): Promise<number> {
  const started = Date.now();
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 2;
  }
  if (args.cpuProf !== undefined) mkdirSync(args.cpuProf, { recursive: true });
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
  const s3Results: { workload: Workload; result: S3BenchResult }[] = [];
  const restResults: { workload: Workload; result: RestBenchResult }[] = [];
  const gmailResults: { workload: Workload; result: StoreBenchResult }[] = [];
  const burstResults: LoginBurstResult[] = [];
  const loadBefore = loadavg();
  let status = 0;
  try {
    for (const w of workloads(args.quick)) {
      if (args.only !== undefined && !args.only.has(w.name)) continue;
      if (w.kind === 's3' || w.kind === 'rest' || w.kind === 'gmail') {
        const clients = w.clients.filter((c) => args.clients.has(c));
        if (clients.length === 0) continue;
        const dir = join(root, w.name);
        mkdirSync(dir, { recursive: true });
        const id = w.kind === 's3' ? 's' : w.kind === 'rest' ? 'r' : 'g';
        const nodeArgs =
          args.cpuProf === undefined
            ? []
            : ['--cpu-prof', '--cpu-prof-dir', args.cpuProf, '--cpu-prof-name', `popgate-${id}-${w.name}-${Date.now()}.cpuprofile`];
        const common = {
          dir,
          count: w.count,
          size: w.size,
          clients,
          runs: args.runs,
          pipeline: args.pipeline,
          user: ctx.user,
          password: ctx.password,
          popgateLog: args.popgateLog,
          nodeArgs,
          progress,
        };
        if (w.kind === 'rest' || w.kind === 'gmail') {
          const run = w.kind === 'rest' ? runRestWorkload : runGmailWorkload;
          const result = await run({ ...common, name: w.name, bigMessage: w.bigMessage ?? 0 });
          (w.kind === 'rest' ? restResults : gmailResults).push({ workload: w, result });
          continue;
        }
        const result = await runS3Workload(common);
        s3Results.push({ workload: w, result });
      } else if (w.kind === 'burst') {
        const dir = join(root, w.name);
        mkdirSync(dir, { recursive: true });
        const nodeArgs =
          args.cpuProf === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', args.cpuProf, '--cpu-prof-name', `popgate-burst-${Date.now()}.cpuprofile`];
        burstResults.push(
          await runLoginBurst({
            dir,
            accounts: w.count,
            concurrency: 8,
            // The issue's burst is 200/s for 10 s; 3 s shows the same behaviour in a third of the time.
            rate: args.quick ? 100 : 200,
            seconds: args.quick ? 2 : 3,
            popgateLog: args.popgateLog,
            nodeArgs,
            progress,
          }),
        );
      } else if (w.kind === 'download') {
        if (!w.clients.some((c) => args.clients.has(c))) continue;
        const r = await downloadWorkload(ctx, root, w);
        downloads.push(r.result);
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
    "servers, all on the same Maildir: (a) Dovecot POP3; (b) popgate, imap tenant -> the same Dovecot's IMAP (tls none, passthrough, uidlFormat dovecot);",
    '  (c) popgate, Maildir adapter; (d) imapflow: connect+LOGIN, SELECT, one FETCH 1:* (UID BODY.PEEK[]), LOGOUT (login workload: FETCH 1:* (UID RFC822.SIZE))',
    'POP3 session = connect, USER/PASS, STAT, UIDL, RETR 1..N, QUIT; MB = 10^6 message octets (CRLF, un-stuffed) / whole session time; login = connect..PASS ok (d: connect..LOGIN ok)',
    "CPU per session: popgate = its process; dovecot = master + services incl. reaped per-session processes (b: popgate's IMAP backend session); client = the imapflow process (d)",
    'peak RSS: popgate = VmHWM of its process (reset before each session); dovecot = VmHWM of the per-session pop3 (a) or imap (b, d) processes (sampled every 20 ms)',
  ];
  process.stdout.write('\n' + header.join('\n') + '\n');
  if (downloads.length > 0) {
    process.stdout.write('\nDownload (RETR all; d: one FETCH 1:*)\n' + downloadTable(downloads) + '\n');
    for (const d of downloads) if (d.uidlNote !== undefined) process.stdout.write(`${d.workload.name}: ${d.uidlNote}\n`);
  }
  if (logins.length > 0) {
    process.stdout.write(
      '\nLogin + STAT + UIDL (no RETR), raw client; d: connect+LOGIN, SELECT (STAT column), FETCH 1:* (UID RFC822.SIZE) (UIDL column)\n' +
        loginTable(logins) +
        '\n',
    );
    for (const l of logins) if (l.uidlNote !== undefined) process.stdout.write(`${l.workload.name}: ${l.uidlNote}\n`);
  }
  for (const { workload, result } of s3Results) {
    process.stdout.write(
      `\nS3: popgate (s3 tenant) -> s3rver on loopback, ${sizeLabel(workload)} (${(result.crlfBytes / 1e6).toFixed(1)} MB as CRLF); ` +
        'same POP3 sessions as above; (e) = the AWS SDK reading the objects straight from s3rver (login column: its listing)\n' +
        s3Table(result, table) +
        '\n',
    );
  }
  for (const { workload, result } of restResults) {
    const targetCell = (row: RestRow): string => {
      if (!row.target) return '';
      const t: Target = { what: `REST ${sizeLabel(workload)}, pipelined: popgate/direct (e) (time)`, value: row.vsDirect, op: '>=', limit: 0.9 };
      targets.push(t);
      return `${t.op} ${t.limit.toFixed(2)}x ${verdict(t)}`;
    };
    const big = restBigLine(result);
    process.stdout.write(
      `\nREST: popgate (rest tenant, bearer) -> the reference store in its own process on loopback (sizes and ETags in the listing), ${sizeLabel(workload)} ` +
        `(${(result.crlfBytes / 1e6).toFixed(1)} MB as CRLF, ${(result.storedBytes / 1e6).toFixed(1)} MB stored); same POP3 sessions as above; ` +
        '(e) = undici reading the store directly (login column: its listing; MB/s: stored LF octets); vs (e) = (e) session time / this session time\n' +
        restTable(result, table, targetCell) +
        `\npopgate RSS at rest: ${num(result.popgateStartMiB, 1)} MiB after start, ${num(result.popgateEndMiB, 1)} MiB after the sessions` +
        (big === undefined ? '' : `\n${big}`) +
        '\n',
    );
  }
  for (const { workload, result } of gmailResults) {
    const targetCell = (row: StoreRow): string => {
      if (!row.target) return '';
      const t: Target = { what: `Gmail ${sizeLabel(workload)}, pipelined: popgate/direct (e) (time)`, value: row.vsDirect, op: '>=', limit: 0.9 };
      targets.push(t);
      return `${t.op} ${t.limit.toFixed(2)}x ${verdict(t)}`;
    };
    const big = gmailBigLine(result);
    process.stdout.write(
      `\nGmail: popgate (gmail tenant, serviceAccount, deleteMode keep) -> the Gmail API stand-in in its own process on loopback, ${sizeLabel(workload)} ` +
        `(${(result.crlfBytes / 1e6).toFixed(1)} MB as CRLF, ${(result.storedBytes / 1e6).toFixed(1)} MB stored); same POP3 sessions as above; ` +
        'cold = 1st session after start (STAT reads every message once: no size cached); ' +
        '(e) = undici reading the stand-in directly (messages.list pages, messages.get format=raw, base64url decoded; login column: its listing; MB/s: stored LF octets); ' +
        'vs (e) = (e) session time / this session time\n' +
        `${GMAIL_SETTINGS_NOTE}\n` +
        gmailTable(result, table, targetCell) +
        `\npopgate RSS at rest: ${num(result.popgateStartMiB, 1)} MiB after start, ${num(result.popgateEndMiB, 1)} MiB after the sessions` +
        (big === undefined ? '' : `\n${big}`) +
        '\n',
    );
  }
  for (const result of burstResults) {
    process.stdout.write(
      '\nLogin cost: popgate (maildir tenant, users file, default scrypt cost and load shedding) on loopback; ' +
        'a login = connect, USER, PASS (timed: PASS -> answer), QUIT, each on its own connection\n' +
        loginBurstText(result) +
        '\n',
    );
  }
  if (memory.length > 0) process.stdout.write('\nServer RSS at rest, MiB\n' + memoryTable(memory) + '\n');
  if (targets.length > 0) process.stdout.write('\nTargets from the issue (a MISS is reported, it does not fail the run)\n' + targetsTable() + '\n');
  process.stdout.write(
    `\nload average (1 min) before ${loadBefore[0]?.toFixed(2)}, after ${loadavg()[0]?.toFixed(2)} on ${cpus().length} CPUs: other work on the machine skews the figures; ` +
      `bench took ${((Date.now() - started) / 1000).toFixed(0)} s\n`,
  );
  if (args.json !== undefined) {
    writeFileSync(
      args.json,
      JSON.stringify(
        {
          status,
          args: { ...args, only: args.only && [...args.only], servers: [...args.servers], clients: [...args.clients] },
          downloads,
          logins,
          s3: s3Results,
          rest: restResults,
          gmail: gmailResults,
          loginBurst: burstResults,
          memory,
          targets: targets.map((t) => ({ ...t, result: verdict(t) })),
        },
        null,
        2,
      ),
    );
    progress(`wrote ${args.json}`);
  }
  await cleanupAll(root, args.keep);
  if (args.cpuProf !== undefined) progress(`CPU profiles of the popgate children are in ${args.cpuProf}`);
  return status;
}

/** --serve: all servers on one workload's Maildir until SIGINT/SIGTERM, for measurements by hand. */
async function serveOnly(ctx: Ctx, root: string): Promise<number> {
  const w = workloads(ctx.args.quick).find(
    (x) => x.kind !== 's3' && x.kind !== 'rest' && x.kind !== 'gmail' && x.kind !== 'burst' && (ctx.args.only === undefined || ctx.args.only.has(x.name)),
  );
  if (w === undefined) {
    progress('--serve needs a Maildir workload (maildir-2000, maildir-1mb, login-10000)');
    return 2;
  }
  const { wdir, mailRoot, mail } = prepareMail(ctx, root, w);
  const servers = await startServers(ctx, wdir, mailRoot, w);
  const lines = [
    `${w.name}: ${mail.count} messages, ${mail.crlfBytes} octets in ${join(mailRoot, ctx.user)}`,
    `(a) dovecot POP3 127.0.0.1 ${servers.dovecot.pop3Port} (master pid ${servers.dovecot.pid})`,
    ...(servers.gwImap === undefined
      ? []
      : [`(b) popgate->imap POP3 127.0.0.1 ${servers.gwImap.port} (pid ${servers.gwImap.pid}, log ${servers.gwImap.logPath})`]),
    ...(servers.gwMaildir === undefined
      ? []
      : [`(c) popgate maildir POP3 127.0.0.1 ${servers.gwMaildir.port} (pid ${servers.gwMaildir.pid}, log ${servers.gwMaildir.logPath})`]),
    `(d) dovecot IMAP 127.0.0.1 ${servers.dovecot.imapPort} (node dist/bench/clients/imapflow-client.js 127.0.0.1 ${servers.dovecot.imapPort} ${ctx.user} ${ctx.password})`,
    `user ${ctx.user} password ${ctx.password}`,
    'Ctrl-C (or SIGTERM) stops everything and removes the data.',
  ];
  process.stdout.write(lines.join('\n') + '\n');
  // Keep the process alive until a signal arrives (the handler stops the servers and exits).
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
