/**
 * The REST workloads of `npm run bench`: a generated mailbox (the Maildir generator, LF line
 * ends) seeded into the REST reference store (test/helpers/rest-store.ts, bearer auth, listing
 * with sizes and ETags) running in a child process of its own (bench/lib/rest-store-child.ts),
 * served by a popgate child with a `rest` tenant (deleteMode keep). Measured with the same POP3
 * clients as the other workloads: the first session after start on its own (snapshot listing,
 * a fresh JIT and connection pool), then the median of `runs` warm sessions.
 *
 * Reference (e): undici in the driver process downloading the same messages straight from the
 * store (every listing page, then a GET per message with as many requests in flight as the
 * pipelined client has RETRs); one unmeasured round, then the median of `runs`. Its MB/s counts
 * stored (LF) octets; the ratio popgate/direct compares session times (the same messages).
 *
 * Optionally one big message (25 MB) in a mailbox of its own (user `<user>-big`), RETRed by the
 * raw client while popgate's VmRSS is sampled: what a single large message costs in memory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { mapLimit } from '../../adapters/shared/map-limit.js';
import type { SessionResult } from '../clients/raw-client.js';
import { BenchProtocolError, clientLabel, runClientSession } from './clients.js';
import { generateMaildir, type GeneratedMaildir } from './maildir-gen.js';
import { startPopgate, type PopgateLogLevel, type PopgateProcess } from './popgate.js';
import { memoryKiB, procStat, resetPeakRss } from './proc.js';

/** dist/bench/lib/rest-store-child.js, next to this file. */
const STORE_CHILD = fileURLToPath(new URL('./rest-store-child.js', import.meta.url));

export type RestBenchClient = 'raw' | 'poplib';

export interface RestBenchOptions {
  readonly name: string;
  readonly dir: string;
  readonly count: number;
  readonly size: number;
  readonly clients: readonly RestBenchClient[];
  readonly runs: number;
  readonly pipeline: number;
  readonly user: string;
  readonly password: string;
  readonly popgateLog: PopgateLogLevel;
  readonly nodeArgs: readonly string[];
  /** Also RETR one message of about this many octets and sample popgate's RSS (0: not). */
  readonly bigMessage: number;
  readonly progress: (line: string) => void;
}

export interface RestRow {
  readonly client: string;
  readonly session: string;
  readonly mbPerS: number;
  readonly msgsPerS: number;
  readonly loginMs: number | undefined;
  readonly statMs: number | undefined;
  readonly totalS: number;
  readonly popgateCpuS: number | undefined;
  readonly storeCpuS: number;
  readonly popgatePeakMiB: number | undefined;
  /** popgate session time vs (e)'s, as a throughput ratio (direct time / popgate time). */
  readonly vsDirect: number | undefined;
  /** The raw pipelined client's warm sessions: what the target is judged on. */
  readonly target: boolean;
}

export interface RestBigResult {
  /** CRLF octets of the message (what RETR sends). */
  readonly octets: number;
  readonly totalS: number;
  readonly mbPerS: number;
  /** popgate's VmRSS before the session, MiB. */
  readonly rssBeforeMiB: number | undefined;
  /** Highest VmRSS sampled every 10 ms during the session, MiB. */
  readonly rssPeakSampledMiB: number | undefined;
  /** VmHWM after the session (reset before it), MiB. */
  readonly hwmMiB: number | undefined;
  readonly popgateCpuS: number | undefined;
  readonly storeCpuS: number;
}

export interface RestBenchResult {
  readonly count: number;
  readonly crlfBytes: number;
  /** Stored (LF) octets. */
  readonly storedBytes: number;
  readonly rows: readonly RestRow[];
  /** (e), warm median. */
  readonly direct: RestRow;
  readonly big: RestBigResult | undefined;
  /** popgate's VmRSS at rest: after start, after all sessions (MiB). */
  readonly popgateStartMiB: number | undefined;
  readonly popgateEndMiB: number | undefined;
}

interface Measured {
  readonly s: SessionResult;
  readonly gwCpuS: number | undefined;
  readonly storeCpuS: number;
  readonly gwPeakMiB: number | undefined;
}

interface StoreChild {
  readonly pid: number;
  readonly port: number;
  readonly baseUrl: string;
  stderrTail(): string;
  stop(): Promise<void>;
}

function check(cond: boolean, what: string): void {
  if (!cond) throw new BenchProtocolError(what);
}

function checkSession(s: SessionResult, mail: GeneratedMaildir, who = '(r) popgate->rest'): void {
  check(s.count === mail.count, `${who}: STAT said ${s.count} messages, the store has ${mail.count}`);
  check(s.statSize === mail.crlfBytes, `${who}: STAT said ${s.statSize} octets, the messages have ${mail.crlfBytes}`);
  check(s.n === mail.count && s.bytes === mail.crlfBytes, `${who}: received ${s.n} messages, ${s.bytes} octets; expected ${mail.count}, ${mail.crlfBytes}`);
  if (s.digest !== undefined) check(s.digest === mail.digest, `${who}: message contents differ from the generated mail`);
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

async function startStoreChild(tokenFile: string, mailboxes: Readonly<Record<string, string>>): Promise<StoreChild> {
  const args = [STORE_CHILD, '--token-file', tokenFile];
  for (const [name, path] of Object.entries(mailboxes)) args.push('--mailbox', `${name}=${path}`);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => running.delete(child));
  let out = '';
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err = (err + c.toString('utf8')).slice(-2000)));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the REST store child did not start within 60 s; stderr: ${err}`)), 60_000);
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString('utf8');
      const line = out.split('\n')[0];
      if (out.includes('\n') && line !== undefined) {
        clearTimeout(timer);
        try {
          resolve((JSON.parse(line) as { port: number }).port);
        } catch {
          reject(new Error(`the REST store child said ${JSON.stringify(line)}`));
        }
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the REST store child exited (${signal ?? code}) before listening; stderr: ${err}`));
    });
  });
  return {
    pid: child.pid as number,
    port,
    baseUrl: `http://127.0.0.1:${port}`,
    stderrTail: () => err,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const late = await Promise.race([exited.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), 5000)))]);
      clearTimeout(timer);
      if (late) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

async function measured(store: StoreChild, gw: PopgateProcess, run: () => Promise<SessionResult>): Promise<Measured> {
  const reset = resetPeakRss(gw.pid);
  const g0 = procStat(gw.pid)?.cpuS;
  const s0 = procStat(store.pid)?.cpuS ?? 0;
  const s = await run();
  const g1 = procStat(gw.pid)?.cpuS;
  const mem = memoryKiB(gw.pid);
  return {
    s,
    gwCpuS: g0 !== undefined && g1 !== undefined ? g1 - g0 : undefined,
    storeCpuS: (procStat(store.pid)?.cpuS ?? 0) - s0,
    gwPeakMiB: reset && mem !== undefined ? mem.hwm / 1024 : undefined,
  };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

function defined(xs: readonly (number | undefined)[]): number[] {
  return xs.filter((x): x is number => x !== undefined && Number.isFinite(x));
}

function row(client: string, session: string, ms: readonly Measured[], target = false): RestRow {
  const first = (ms[0] as Measured).s;
  const totalS = median(ms.map((m) => m.s.totalS));
  const cpu = defined(ms.map((m) => m.gwCpuS));
  const peak = defined(ms.map((m) => m.gwPeakMiB));
  return {
    client,
    session,
    mbPerS: first.bytes / 1e6 / totalS,
    msgsPerS: first.n / totalS,
    loginMs: median(ms.map((m) => m.s.loginMs)),
    statMs: median(ms.map((m) => m.s.statMs)),
    totalS,
    popgateCpuS: cpu.length === 0 ? undefined : median(cpu),
    storeCpuS: median(ms.map((m) => m.storeCpuS)),
    popgatePeakMiB: peak.length === 0 ? undefined : Math.max(...peak),
    vsDirect: undefined,
    target,
  };
}

interface ListPage {
  readonly items: readonly { readonly id: string }[];
  readonly nextCursor?: string | null;
}

/** One download of every message by undici straight from the store, `inFlight` GETs at a time. */
async function directOnce(
  store: StoreChild,
  pool: Pool,
  token: string,
  mailbox: string,
  inFlight: number,
  want: { count: number; bytes: number },
): Promise<Measured> {
  const s0 = procStat(store.pid)?.cpuS ?? 0;
  const headers = { authorization: `Bearer ${token}` };
  const base = `/mailboxes/${encodeURIComponent(mailbox)}/messages`;
  const started = performance.now();
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const res = await pool.request({
      method: 'GET',
      path: `${base}?limit=1000${cursor === undefined ? '' : `&cursor=${encodeURIComponent(cursor)}`}`,
      headers,
    });
    check(res.statusCode === 200, `(e) direct: listing answered ${res.statusCode}`);
    const page = (await res.body.json()) as ListPage;
    for (const item of page.items) ids.push(item.id);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  const listed = performance.now();
  let bytes = 0;
  await mapLimit(ids, inFlight, async (id) => {
    const res = await pool.request({ method: 'GET', path: `${base}/${encodeURIComponent(id)}`, headers });
    check(res.statusCode === 200, `(e) direct: GET ${id} answered ${res.statusCode}`);
    for await (const chunk of res.body as AsyncIterable<Buffer>) bytes += chunk.length;
  });
  const totalS = (performance.now() - started) / 1000;
  check(ids.length === want.count, `(e) direct: listed ${ids.length} messages, seeded ${want.count}`);
  check(bytes === want.bytes, `(e) direct: read ${bytes} octets, the stored messages have ${want.bytes}`);
  const s: SessionResult = {
    n: ids.length,
    bytes,
    count: ids.length,
    statSize: bytes,
    loginMs: listed - started,
    statMs: 0,
    uidlMs: 0,
    retrS: totalS - (listed - started) / 1000,
    totalS,
  };
  return { s, gwCpuS: undefined, storeCpuS: (procStat(store.pid)?.cpuS ?? 0) - s0, gwPeakMiB: undefined };
}

/** (e): one unmeasured download (undici and the store warm up), then the median of `runs`. */
async function directDownload(
  store: StoreChild,
  token: string,
  mailbox: string,
  inFlight: number,
  want: { count: number; bytes: number },
  runs: number,
): Promise<RestRow> {
  const pool = new Pool(store.baseUrl, { connections: inFlight });
  try {
    await directOnce(store, pool, token, mailbox, inFlight, want);
    const ms: Measured[] = [];
    for (let i = 0; i < runs; i++) ms.push(await directOnce(store, pool, token, mailbox, inFlight, want));
    return { ...row(`undici ${inFlight} in flight`, `(e) direct, warm (median of ${runs})`, ms), statMs: undefined };
  } finally {
    await pool.close();
  }
}

/** RETRs the big message (raw client) while sampling popgate's VmRSS every 10 ms. */
async function bigMessage(o: RestBenchOptions, store: StoreChild, gw: PopgateProcess, user: string, mail: GeneratedMaildir): Promise<RestBigResult> {
  const session = (verify: boolean): Promise<SessionResult> =>
    runClientSession({ kind: 'raw', port: gw.port, user, password: o.password, pipeline: o.pipeline, verify });
  // The first session checks the message; the second is the one measured.
  checkSession(await session(true), mail, '(r) popgate->rest, big message');
  await new Promise((r) => setTimeout(r, 200));
  const before = memoryKiB(gw.pid)?.rss;
  let sampled = before ?? 0;
  const timer = setInterval(() => (sampled = Math.max(sampled, memoryKiB(gw.pid)?.rss ?? 0)), 10);
  let m: Measured;
  try {
    m = await measured(store, gw, () => session(false));
  } finally {
    clearInterval(timer);
  }
  sampled = Math.max(sampled, memoryKiB(gw.pid)?.rss ?? 0);
  checkSession(m.s, mail, '(r) popgate->rest, big message');
  return {
    octets: mail.crlfBytes,
    totalS: m.s.totalS,
    mbPerS: m.s.bytes / 1e6 / m.s.totalS,
    rssBeforeMiB: before === undefined ? undefined : before / 1024,
    rssPeakSampledMiB: sampled > 0 ? sampled / 1024 : undefined,
    hwmMiB: m.gwPeakMiB,
    popgateCpuS: m.gwCpuS,
    storeCpuS: m.storeCpuS,
  };
}

/** The generator varies sizes by ±20%; with this seed the one message is within 0.1% of the size asked. */
const BIG_SEED = 10;

function storedOctets(maildir: string): number {
  const dir = join(maildir, 'new');
  return readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
}

export async function runRestWorkload(o: RestBenchOptions): Promise<RestBenchResult> {
  const t0 = Date.now();
  const mailPath = join(o.dir, 'generated');
  const mail = generateMaildir({ path: mailPath, count: o.count, size: o.size });
  const storedBytes = storedOctets(mailPath);
  const bigUser = `${o.user}-big`;
  const bigPath = join(o.dir, 'generated-big');
  const big = o.bigMessage > 0 ? generateMaildir({ path: bigPath, count: 1, size: o.bigMessage, seed: BIG_SEED }) : undefined;
  const token = randomBytes(24).toString('base64url');
  const tokenFile = join(o.dir, 'store-token');
  writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
  const store = await startStoreChild(tokenFile, { [o.user]: mailPath, ...(big !== undefined && { [bigUser]: bigPath }) });
  let gw: PopgateProcess | undefined;
  try {
    o.progress(
      `${o.name}: seeded ${mail.count} messages (${(mail.crlfBytes / 1e6).toFixed(1)} MB as CRLF)${big === undefined ? '' : ` and one of ${(big.crlfBytes / 1e6).toFixed(1)} MB`} into the REST store child (pid ${store.pid}) in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
    const dir = join(o.dir, 'popgate-r');
    mkdirSync(dir, { recursive: true });
    gw = await startPopgate({
      dir,
      backend: {
        adapter: 'rest',
        baseUrl: store.baseUrl,
        tokenFile,
        users: { [o.user]: o.password, ...(big !== undefined && { [bigUser]: o.password }) },
      },
      logLevel: o.popgateLog,
      nodeArgs: o.nodeArgs,
    });
    const g = gw;
    const popgateStartMiB = (memoryKiB(g.pid)?.rss ?? NaN) / 1024;
    const rows: RestRow[] = [];
    const session = (kind: RestBenchClient, verify: boolean): Promise<SessionResult> =>
      runClientSession({ kind, port: g.port, user: o.user, password: o.password, pipeline: o.pipeline, verify });
    for (const [i, kind] of o.clients.entries()) {
      const label = clientLabel(kind, o.pipeline);
      if (i === 0) {
        // The first session after start: popgate's first listing, fresh JIT and connections.
        const cold = await measured(store, g, () => session(kind, true));
        checkSession(cold.s, mail);
        rows.push(row(label, 'cold (1st after start)', [cold]));
      } else {
        checkSession(await session(kind, true), mail);
      }
      const warm: Measured[] = [];
      for (let r = 0; r < o.runs; r++) {
        const m = await measured(store, g, () => session(kind, false));
        checkSession(m.s, mail);
        warm.push(m);
      }
      rows.push(row(label, `warm (median of ${o.runs})`, warm, kind === 'raw'));
      const w = rows[rows.length - 1] as RestRow;
      o.progress(`${o.name} ${label}: ${w.mbPerS.toFixed(1)} MB/s, login ${w.loginMs?.toFixed(1)} ms, STAT ${w.statMs?.toFixed(1)} ms`);
    }
    const direct = await directDownload(store, token, o.user, o.pipeline, { count: mail.count, bytes: storedBytes }, o.runs);
    o.progress(`${o.name} (e) direct: ${direct.mbPerS.toFixed(1)} MB/s (stored octets), ${direct.msgsPerS.toFixed(0)} msgs/s`);
    const withRatio = rows.map((r) => ({ ...r, vsDirect: direct.totalS / r.totalS }));
    const popgateEndMiB = (memoryKiB(g.pid)?.rss ?? NaN) / 1024;
    const bigResult = big === undefined ? undefined : await bigMessage(o, store, g, bigUser, big);
    if (bigResult !== undefined)
      o.progress(
        `${o.name} big message ${(bigResult.octets / 1e6).toFixed(1)} MB: popgate RSS ${bigResult.rssBeforeMiB?.toFixed(1)} -> peak ${bigResult.hwmMiB?.toFixed(1)} MiB`,
      );
    return { count: mail.count, crlfBytes: mail.crlfBytes, storedBytes, rows: withRatio, direct, big: bigResult, popgateStartMiB, popgateEndMiB };
  } catch (err) {
    if (err instanceof Error) {
      if (gw !== undefined) err.message += `\n--- popgate (r) log (tail) ---\n${gw.logTail(15)}`;
      err.message += `\n--- REST store child stderr ---\n${store.stderrTail()}`;
    }
    throw err;
  } finally {
    await gw?.stop();
    await store.stop();
  }
}

type TableFn = (header: readonly string[], rows: readonly (readonly string[])[], rightFrom: number) => string;

function num(x: number | undefined, d: number): string {
  return x === undefined || !Number.isFinite(x) ? 'n/a' : x.toFixed(d);
}

export function restTable(r: RestBenchResult, table: TableFn, targetCell: (row: RestRow) => string): string {
  const header = [
    'client',
    'session',
    'MB/s',
    'msgs/s',
    'login ms',
    'STAT ms',
    'session s',
    'popgate CPU s',
    'store CPU s',
    'popgate peak MiB',
    'vs (e) direct',
    'target (issue)',
  ];
  const line = (x: RestRow, isDirect: boolean): string[] => [
    x.client,
    x.session,
    num(x.mbPerS, 1),
    num(x.msgsPerS, 0),
    num(x.loginMs, 1),
    num(x.statMs, 1),
    num(x.totalS, 3),
    num(x.popgateCpuS, 2),
    num(x.storeCpuS, 2),
    num(x.popgatePeakMiB, 1),
    isDirect ? '1.00x' : x.vsDirect === undefined ? 'n/a' : `${x.vsDirect.toFixed(2)}x`,
    isDirect ? '' : targetCell(x),
  ];
  return table(header, [...r.rows.map((x) => line(x, false)), line(r.direct, true)], 2);
}

export function restBigLine(r: RestBenchResult): string | undefined {
  const b = r.big;
  if (b === undefined) return undefined;
  return (
    `one ${(b.octets / 1e6).toFixed(1)} MB message (CRLF), raw client: ${num(b.mbPerS, 1)} MB/s, ${num(b.totalS, 3)} s; ` +
    `popgate RSS before ${num(b.rssBeforeMiB, 1)} MiB, peak ${num(b.hwmMiB, 1)} MiB (VmHWM, reset before; VmRSS sampled every 10 ms: ${num(b.rssPeakSampledMiB, 1)} MiB); ` +
    `CPU popgate ${num(b.popgateCpuS, 2)} s, store ${num(b.storeCpuS, 2)} s`
  );
}
