/**
 * What the HTTP store workloads of `npm run bench` (REST: bench/lib/rest-bench.ts, Gmail:
 * bench/lib/gmail-bench.ts) have in common: a generated mailbox (the Maildir generator, LF line
 * ends) served by a backend in a child process of its own (its CPU is its own), a popgate child
 * with a tenant on it (deleteMode keep), the same POP3 clients as the other workloads (the first
 * session after start on its own, then the median of `runs` warm sessions), a direct download
 * (e) in the driver process with as many requests in flight as the pipelined client has RETRs
 * (one unmeasured round, then the median of `runs`), and optionally one big message in a mailbox
 * of its own (`<user>-big`), RETRed by the raw client while popgate's VmRSS is sampled.
 *
 * A workload supplies only what differs: how its backend child starts, the popgate tenant, the
 * login name of a mailbox, and how (e) lists and reads one message.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { mapLimit } from '../../adapters/shared/map-limit.js';
import type { SessionResult } from '../clients/raw-client.js';
import { BenchProtocolError, clientLabel, runClientSession } from './clients.js';
import { generateMaildir, type GeneratedMaildir } from './maildir-gen.js';
import { startPopgate, type PopgateBackend, type PopgateLogLevel, type PopgateProcess } from './popgate.js';
import { memoryKiB, procStat, resetPeakRss } from './proc.js';
import { relayOnce } from './minimal-relay.js';
import { median } from './stats.js';

export type StoreBenchClient = 'raw' | 'poplib';

export interface StoreBenchOptions {
  readonly name: string;
  readonly dir: string;
  readonly count: number;
  readonly size: number;
  readonly clients: readonly StoreBenchClient[];
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

export interface StoreRow {
  readonly client: string;
  readonly session: string;
  readonly mbPerS: number;
  readonly msgsPerS: number;
  readonly loginMs: number | undefined;
  readonly statMs: number | undefined;
  readonly totalS: number;
  readonly popgateCpuS: number | undefined;
  /** CPU of the backend's child process (the REST store, the Gmail stand-in). */
  readonly storeCpuS: number;
  readonly popgatePeakMiB: number | undefined;
  /** popgate session time vs (e)'s, as a throughput ratio (direct time / popgate time). */
  readonly vsDirect: number | undefined;
  /** popgate's CPU over (f)'s for the same messages: what the POP3 gateway costs beyond relaying. */
  readonly cpuVsRelay: number | undefined;
  /** The raw pipelined client's warm sessions: what the target is judged on. */
  readonly target: boolean;
}

export interface StoreBigResult {
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

export interface StoreBenchResult {
  readonly count: number;
  readonly crlfBytes: number;
  /** Stored (LF) octets. */
  readonly storedBytes: number;
  readonly rows: readonly StoreRow[];
  /** (e), warm median. */
  readonly direct: StoreRow;
  /** (f), the minimal relay (bench/lib/minimal-relay.ts), warm median. */
  readonly relay: StoreRow;
  readonly big: StoreBigResult | undefined;
  /** popgate's VmRSS at rest: after start, after all sessions (MiB). */
  readonly popgateStartMiB: number | undefined;
  readonly popgateEndMiB: number | undefined;
}

export interface Measured {
  readonly s: SessionResult;
  readonly gwCpuS: number | undefined;
  readonly storeCpuS: number;
  readonly gwPeakMiB: number | undefined;
}

/** A backend in a child process that printed one JSON line (`info`) when it was ready. */
export interface BackendChild<I> {
  readonly pid: number;
  readonly info: I;
  stderrTail(): string;
  stop(): Promise<void>;
}

/** What a workload's messages look like to (e): their number and stored octets. */
export interface DirectWant {
  readonly count: number;
  readonly bytes: number;
}

/** One workload's own parts. */
export interface StoreWorkloadSpec<B extends BackendChild<unknown>> {
  /** `(r) popgate->rest`: names the server in errors. */
  readonly who: string;
  /** popgate's folder under the workload's, e.g. `popgate-r`. */
  readonly popgateDir: string;
  /** `the REST store child`: in progress lines and errors. */
  readonly backendName: string;
  /** The backend's (and POP3 login's) name of a mailbox: `alice` -> `alice` or `alice@example.com`. */
  account(mailbox: string): string;
  /** Starts the backend with these accounts, each seeded from a Maildir (files in new/, by name). */
  startBackend(maildirs: Readonly<Record<string, string>>): Promise<B>;
  /** The popgate tenant on it, with these POP3 users and passwords. */
  popgateBackend(backend: B, users: Readonly<Record<string, string>>): PopgateBackend;
  /** (e): one download round per call to `once`, `inFlight` reads at a time. */
  direct(backend: B, account: string, inFlight: number): Promise<DirectReader>;
  /** Before the sessions: a line on settings that differ from the adapter's defaults (printed). */
  readonly settingsNote?: string;
}

/** How (e) reads one mailbox: the listing, then one message (its stored octets). */
export interface DirectReader {
  /** `undici 8 in flight`. */
  readonly label: string;
  list(): Promise<string[]>;
  read(id: string): Promise<number>;
  /** One message's stored octets, whole (for (f)). */
  bytes(id: string): Promise<Buffer>;
  close(): Promise<void>;
}

export function check(cond: boolean, what: string): void {
  if (!cond) throw new BenchProtocolError(what);
}

export function checkSession(s: SessionResult, mail: GeneratedMaildir, who: string): void {
  check(s.count === mail.count, `${who}: STAT said ${s.count} messages, the store has ${mail.count}`);
  check(s.statSize === mail.crlfBytes, `${who}: STAT said ${s.statSize} octets, the messages have ${mail.crlfBytes}`);
  check(s.n === mail.count && s.bytes === mail.crlfBytes, `${who}: received ${s.n} messages, ${s.bytes} octets; expected ${mail.count}, ${mail.crlfBytes}`);
  if (s.digest !== undefined) check(s.digest === mail.digest, `${who}: message contents differ from the generated mail`);
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of running) c.kill('SIGKILL');
});

/** Starts `node script args`, waits for its first stdout line (JSON) and returns it as `info`. */
export async function startJsonChild<I>(script: string, args: readonly string[], what: string): Promise<BackendChild<I>> {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => running.delete(child));
  let out = '';
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err = (err + c.toString('utf8')).slice(-2000)));
  const info = await new Promise<I>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start within 60 s; stderr: ${err}`)), 60_000);
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString('utf8');
      const line = out.split('\n')[0];
      if (out.includes('\n') && line !== undefined) {
        clearTimeout(timer);
        try {
          resolve(JSON.parse(line) as I);
        } catch {
          reject(new Error(`${what} said ${JSON.stringify(line)}`));
        }
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${signal ?? code}) before listening; stderr: ${err}`));
    });
  });
  return {
    pid: child.pid as number,
    info,
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

async function measured(backendPid: number, gw: PopgateProcess, run: () => Promise<SessionResult>): Promise<Measured> {
  const reset = resetPeakRss(gw.pid);
  const g0 = procStat(gw.pid)?.cpuS;
  const s0 = procStat(backendPid)?.cpuS ?? 0;
  const s = await run();
  const g1 = procStat(gw.pid)?.cpuS;
  const mem = memoryKiB(gw.pid);
  return {
    s,
    gwCpuS: g0 !== undefined && g1 !== undefined ? g1 - g0 : undefined,
    storeCpuS: (procStat(backendPid)?.cpuS ?? 0) - s0,
    gwPeakMiB: reset && mem !== undefined ? mem.hwm / 1024 : undefined,
  };
}

function defined(xs: readonly (number | undefined)[]): number[] {
  return xs.filter((x): x is number => x !== undefined && Number.isFinite(x));
}

function row(client: string, session: string, ms: readonly Measured[], target = false): StoreRow {
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
    cpuVsRelay: undefined,
    target,
  };
}

/** One download of every message by (e): the listing (the login column), then `inFlight` reads at a time. */
async function directOnce(backendPid: number, reader: DirectReader, inFlight: number, want: DirectWant): Promise<Measured> {
  const s0 = procStat(backendPid)?.cpuS ?? 0;
  const started = performance.now();
  const ids = await reader.list();
  const listed = performance.now();
  let bytes = 0;
  await mapLimit(ids, inFlight, async (id) => {
    // Not `bytes += await …`: that reads `bytes` before the await and loses the other reads' counts.
    const n = await reader.read(id);
    bytes += n;
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
  return { s, gwCpuS: undefined, storeCpuS: (procStat(backendPid)?.cpuS ?? 0) - s0, gwPeakMiB: undefined };
}

/** (e): one unmeasured download (the client and the backend warm up), then the median of `runs`. */
async function directDownload(backendPid: number, reader: DirectReader, inFlight: number, want: DirectWant, runs: number): Promise<StoreRow> {
  try {
    await directOnce(backendPid, reader, inFlight, want);
    const ms: Measured[] = [];
    for (let i = 0; i < runs; i++) ms.push(await directOnce(backendPid, reader, inFlight, want));
    return { ...row(reader.label, `(e) direct, warm (median of ${runs})`, ms), statMs: undefined };
  } finally {
    await reader.close();
  }
}

/** (f): one unmeasured relay (warm-up), then the median of `runs`. */
async function minimalRelay(
  backendPid: number,
  reader: DirectReader,
  inFlight: number,
  want: DirectWant & { readonly crlfBytes: number },
  runs: number,
): Promise<StoreRow> {
  try {
    await relayOnce(backendPid, reader, inFlight, want);
    const ms: Measured[] = [];
    for (let i = 0; i < runs; i++) ms.push(await relayOnce(backendPid, reader, inFlight, want));
    return { ...row(`relay ${inFlight} ahead`, `(f) minimal relay (median of ${runs})`, ms), statMs: undefined };
  } finally {
    await reader.close();
  }
}

/** RETRs the big message (raw client) while sampling popgate's VmRSS every 10 ms. */
async function bigMessage(
  o: StoreBenchOptions,
  who: string,
  backendPid: number,
  gw: PopgateProcess,
  user: string,
  mail: GeneratedMaildir,
): Promise<StoreBigResult> {
  const session = (verify: boolean): Promise<SessionResult> =>
    runClientSession({ kind: 'raw', port: gw.port, user, password: o.password, pipeline: o.pipeline, verify });
  // The first session checks the message; the second is the one measured.
  checkSession(await session(true), mail, `${who}, big message`);
  await new Promise((r) => setTimeout(r, 200));
  const before = memoryKiB(gw.pid)?.rss;
  let sampled = before ?? 0;
  const timer = setInterval(() => (sampled = Math.max(sampled, memoryKiB(gw.pid)?.rss ?? 0)), 10);
  let m: Measured;
  try {
    m = await measured(backendPid, gw, () => session(false));
  } finally {
    clearInterval(timer);
  }
  sampled = Math.max(sampled, memoryKiB(gw.pid)?.rss ?? 0);
  checkSession(m.s, mail, `${who}, big message`);
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

export async function runStoreWorkload<B extends BackendChild<unknown>>(o: StoreBenchOptions, spec: StoreWorkloadSpec<B>): Promise<StoreBenchResult> {
  const t0 = Date.now();
  const mailPath = join(o.dir, 'generated');
  const mail = generateMaildir({ path: mailPath, count: o.count, size: o.size });
  const storedBytes = storedOctets(mailPath);
  const user = spec.account(o.user);
  const bigUser = spec.account(`${o.user}-big`);
  const bigPath = join(o.dir, 'generated-big');
  const big = o.bigMessage > 0 ? generateMaildir({ path: bigPath, count: 1, size: o.bigMessage, seed: BIG_SEED }) : undefined;
  const backend = await spec.startBackend({ [user]: mailPath, ...(big !== undefined && { [bigUser]: bigPath }) });
  let gw: PopgateProcess | undefined;
  try {
    o.progress(
      `${o.name}: seeded ${mail.count} messages (${(mail.crlfBytes / 1e6).toFixed(1)} MB as CRLF)${big === undefined ? '' : ` and one of ${(big.crlfBytes / 1e6).toFixed(1)} MB`} into ${spec.backendName} (pid ${backend.pid}) in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
    if (spec.settingsNote !== undefined) o.progress(`${o.name}: ${spec.settingsNote}`);
    const dir = join(o.dir, spec.popgateDir);
    mkdirSync(dir, { recursive: true });
    gw = await startPopgate({
      dir,
      backend: spec.popgateBackend(backend, { [user]: o.password, ...(big !== undefined && { [bigUser]: o.password }) }),
      logLevel: o.popgateLog,
      nodeArgs: o.nodeArgs,
    });
    const g = gw;
    const popgateStartMiB = (memoryKiB(g.pid)?.rss ?? NaN) / 1024;
    const rows: StoreRow[] = [];
    const session = (kind: StoreBenchClient, verify: boolean): Promise<SessionResult> =>
      runClientSession({ kind, port: g.port, user, password: o.password, pipeline: o.pipeline, verify });
    for (const [i, kind] of o.clients.entries()) {
      const label = clientLabel(kind, o.pipeline);
      if (i === 0) {
        // The first session after start: popgate's first listing, fresh JIT and connections.
        const cold = await measured(backend.pid, g, () => session(kind, true));
        checkSession(cold.s, mail, spec.who);
        rows.push(row(label, 'cold (1st after start)', [cold]));
      } else {
        checkSession(await session(kind, true), mail, spec.who);
      }
      const warm: Measured[] = [];
      for (let r = 0; r < o.runs; r++) {
        const m = await measured(backend.pid, g, () => session(kind, false));
        checkSession(m.s, mail, spec.who);
        warm.push(m);
      }
      rows.push(row(label, `warm (median of ${o.runs})`, warm, kind === 'raw'));
      const w = rows[rows.length - 1] as StoreRow;
      o.progress(`${o.name} ${label}: ${w.mbPerS.toFixed(1)} MB/s, login ${w.loginMs?.toFixed(1)} ms, STAT ${w.statMs?.toFixed(1)} ms`);
    }
    const want = { count: mail.count, bytes: storedBytes, crlfBytes: mail.crlfBytes };
    const relay = await minimalRelay(backend.pid, await spec.direct(backend, user, o.pipeline), o.pipeline, want, o.runs);
    o.progress(`${o.name} (f) minimal relay: ${relay.mbPerS.toFixed(1)} MB/s, relay CPU ${relay.popgateCpuS?.toFixed(2)} s`);
    const reader = await spec.direct(backend, user, o.pipeline);
    const direct = await directDownload(backend.pid, reader, o.pipeline, want, o.runs);
    o.progress(`${o.name} (e) direct: ${direct.mbPerS.toFixed(1)} MB/s (stored octets), ${direct.msgsPerS.toFixed(0)} msgs/s`);
    const relayCpu = relay.popgateCpuS;
    const ratios = (r: StoreRow): StoreRow => ({
      ...r,
      vsDirect: direct.totalS / r.totalS,
      cpuVsRelay: r.popgateCpuS === undefined || relayCpu === undefined ? undefined : r.popgateCpuS / relayCpu,
    });
    const withRatio = rows.map(ratios);
    const popgateEndMiB = (memoryKiB(g.pid)?.rss ?? NaN) / 1024;
    const bigResult = big === undefined ? undefined : await bigMessage(o, spec.who, backend.pid, g, bigUser, big);
    if (bigResult !== undefined)
      o.progress(
        `${o.name} big message ${(bigResult.octets / 1e6).toFixed(1)} MB: popgate RSS ${bigResult.rssBeforeMiB?.toFixed(1)} -> peak ${bigResult.hwmMiB?.toFixed(1)} MiB`,
      );
    return {
      count: mail.count,
      crlfBytes: mail.crlfBytes,
      storedBytes,
      rows: withRatio,
      direct,
      relay: ratios(relay),
      big: bigResult,
      popgateStartMiB,
      popgateEndMiB,
    };
  } catch (err) {
    if (err instanceof Error) {
      if (gw !== undefined) err.message += `\n--- popgate ${spec.who} log (tail) ---\n${gw.logTail(15)}`;
      err.message += `\n--- ${spec.backendName} stderr ---\n${backend.stderrTail()}`;
    }
    throw err;
  } finally {
    await gw?.stop();
    await backend.stop();
  }
}

type TableFn = (header: readonly string[], rows: readonly (readonly string[])[], rightFrom: number) => string;

function num(x: number | undefined, d: number): string {
  return x === undefined || !Number.isFinite(x) ? 'n/a' : x.toFixed(d);
}

/** The table of a workload: cold and warm rows per client, then (e). `backendCpu`: the CPU column's name. */
export function storeTable(r: StoreBenchResult, table: TableFn, targetCell: (row: StoreRow) => string, backendCpu: string): string {
  const header = [
    'client',
    'session',
    'MB/s',
    'msgs/s',
    'login ms',
    'STAT ms',
    'session s',
    'popgate CPU s',
    backendCpu,
    'popgate peak MiB',
    'vs (e) direct',
    'CPU vs (f)',
    'target (issue)',
  ];
  const ratio = (x: number | undefined): string => (x === undefined ? 'n/a' : `${x.toFixed(2)}x`);
  const line = (x: StoreRow, isDirect: boolean): string[] => [
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
    isDirect ? '1.00x' : ratio(x.vsDirect),
    isDirect ? 'n/a' : ratio(x.cpuVsRelay),
    isDirect || x === r.relay ? '' : targetCell(x),
  ];
  return table(header, [...r.rows.map((x) => line(x, false)), line(r.relay, false), line(r.direct, true)], 2);
}

/** The big message's line under the table (undefined without one). `backend`: `store`, `stand-in`. */
export function storeBigLine(r: StoreBenchResult, backend: string): string | undefined {
  const b = r.big;
  if (b === undefined) return undefined;
  return (
    `one ${(b.octets / 1e6).toFixed(1)} MB message (CRLF), raw client: ${num(b.mbPerS, 1)} MB/s, ${num(b.totalS, 3)} s; ` +
    `popgate RSS before ${num(b.rssBeforeMiB, 1)} MiB, peak ${num(b.hwmMiB, 1)} MiB (VmHWM, reset before; VmRSS sampled every 10 ms: ${num(b.rssPeakSampledMiB, 1)} MiB); ` +
    `CPU popgate ${num(b.popgateCpuS, 2)} s, ${backend} ${num(b.storeCpuS, 2)} s`
  );
}
