/**
 * The S3 workload of `npm run bench`: a generated mailbox (the same generator as the Maildir
 * workloads: 2,000 x ~20 KB, LF line ends) uploaded to s3rver, one object per message, served
 * by a popgate child with an `s3` tenant (deleteMode keep). Measured with the same POP3
 * clients; the first session after start is reported on its own ("cold": every CRLF size is
 * measured from S3 at STAT), then the median of `runs` warm sessions (sizes cached).
 *
 * Reference (e): the AWS SDK downloading the same objects directly in the driver process
 * (ListObjectsV2, then GetObject with as many requests in flight as the pipelined client has
 * RETRs): what s3rver itself can deliver, since s3rver (a Koa app on the file system) is the
 * bottleneck here, not S3. Its MB/s counts stored (LF) octets; its "login" is the listing.
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { mapLimit } from '../../adapters/shared/map-limit.js';
import { S3RVER_KEY, startS3rver, type S3rver } from '../../test/helpers/s3rver.js';
import type { SessionResult } from '../clients/raw-client.js';
import { BenchProtocolError, clientLabel, runClientSession } from './clients.js';
import { generateMaildir, type GeneratedMaildir } from './maildir-gen.js';
import { startPopgate, type PopgateLogLevel, type PopgateProcess } from './popgate.js';
import { procStat } from './proc.js';
import { median } from './stats.js';

export type S3BenchClient = 'raw' | 'poplib';

export interface S3BenchOptions {
  readonly dir: string;
  readonly count: number;
  readonly size: number;
  readonly clients: readonly S3BenchClient[];
  readonly runs: number;
  readonly pipeline: number;
  readonly user: string;
  readonly password: string;
  readonly popgateLog: PopgateLogLevel;
  readonly nodeArgs: readonly string[];
  readonly progress: (line: string) => void;
}

export interface S3Row {
  readonly client: string;
  readonly session: string;
  readonly mbPerS: number;
  readonly msgsPerS: number;
  readonly loginMs: number | undefined;
  readonly statMs: number | undefined;
  readonly totalS: number;
  readonly popgateCpuS: number | undefined;
  readonly s3rverCpuS: number;
}

export interface S3BenchResult {
  readonly count: number;
  readonly crlfBytes: number;
  readonly rows: readonly S3Row[];
}

const PREFIX = 'inbound/';

function check(cond: boolean, what: string): void {
  if (!cond) throw new BenchProtocolError(what);
}

function checkSession(s: SessionResult, mail: GeneratedMaildir): void {
  check(s.count === mail.count, `(s) popgate->s3: STAT said ${s.count} messages, the bucket has ${mail.count}`);
  check(s.statSize === mail.crlfBytes, `(s) popgate->s3: STAT said ${s.statSize} octets, the messages have ${mail.crlfBytes}`);
  check(
    s.n === mail.count && s.bytes === mail.crlfBytes,
    `(s) popgate->s3: received ${s.n} messages, ${s.bytes} octets; expected ${mail.count}, ${mail.crlfBytes}`,
  );
  if (s.digest !== undefined) check(s.digest === mail.digest, '(s) popgate->s3: message contents differ from the generated mail');
}

async function measured(
  s3: S3rver,
  gw: PopgateProcess,
  run: () => Promise<SessionResult>,
): Promise<{ s: SessionResult; gwCpuS: number | undefined; s3CpuS: number }> {
  const g0 = procStat(gw.pid)?.cpuS;
  const s0 = procStat(s3.pid)?.cpuS ?? 0;
  const s = await run();
  const g1 = procStat(gw.pid)?.cpuS;
  return { s, gwCpuS: g0 !== undefined && g1 !== undefined ? g1 - g0 : undefined, s3CpuS: (procStat(s3.pid)?.cpuS ?? 0) - s0 };
}

function row(client: string, session: string, ms: readonly { s: SessionResult; gwCpuS: number | undefined; s3CpuS: number }[]): S3Row {
  const first = (ms[0] as { s: SessionResult }).s;
  const totalS = median(ms.map((m) => m.s.totalS));
  const cpu = ms.map((m) => m.gwCpuS).filter((x): x is number => x !== undefined);
  return {
    client,
    session,
    mbPerS: first.bytes / 1e6 / totalS,
    msgsPerS: first.n / totalS,
    loginMs: median(ms.map((m) => m.s.loginMs)),
    statMs: median(ms.map((m) => m.s.statMs)),
    totalS,
    popgateCpuS: cpu.length === 0 ? undefined : median(cpu),
    s3rverCpuS: median(ms.map((m) => m.s3CpuS)),
  };
}

/** One download of every object by the SDK straight from s3rver, `inFlight` GetObject requests at a time. */
async function directOnce(s3: S3rver, inFlight: number, count: number): Promise<{ s: SessionResult; gwCpuS: undefined; s3CpuS: number }> {
  const s0 = procStat(s3.pid)?.cpuS ?? 0;
  const started = performance.now();
  const objects = await s3.list(PREFIX);
  const listed = performance.now();
  let bytes = 0;
  await mapLimit(objects, inFlight, async (o) => {
    const out = await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: o.key }));
    bytes += (await (out.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray()).length;
  });
  const totalS = (performance.now() - started) / 1000;
  check(objects.length === count, `(e) SDK direct: listed ${objects.length} objects, uploaded ${count}`);
  const s: SessionResult = {
    n: objects.length,
    bytes,
    count,
    statSize: bytes,
    loginMs: listed - started,
    statMs: 0,
    uidlMs: 0,
    retrS: totalS - (listed - started) / 1000,
    totalS,
  };
  return { s, gwCpuS: undefined, s3CpuS: (procStat(s3.pid)?.cpuS ?? 0) - s0 };
}

/** (e): one unmeasured download (the driver's SDK warms up), then the median of `runs`. */
async function directDownload(s3: S3rver, inFlight: number, count: number, runs: number): Promise<S3Row> {
  await directOnce(s3, inFlight, count);
  const ms: Awaited<ReturnType<typeof directOnce>>[] = [];
  for (let i = 0; i < runs; i++) ms.push(await directOnce(s3, inFlight, count));
  return { ...row(`SDK ${inFlight} in flight`, `(e) direct, warm (median of ${runs})`, ms), statMs: undefined };
}

export async function runS3Workload(o: S3BenchOptions): Promise<S3BenchResult> {
  const t0 = Date.now();
  const mailPath = join(o.dir, 'generated');
  const mail = generateMaildir({ path: mailPath, count: o.count, size: o.size });
  const s3 = await startS3rver();
  let gw: PopgateProcess | undefined;
  try {
    const files = readdirSync(join(mailPath, 'new'));
    await s3.putMany(files.map((f) => ({ key: `${PREFIX}${o.user}/${f}`, body: readFileSync(join(mailPath, 'new', f)) })));
    o.progress(
      `s3-${o.count}: uploaded ${files.length} objects (${(mail.crlfBytes / 1e6).toFixed(1)} MB as CRLF) to s3rver in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
    );
    const dir = join(o.dir, 'popgate-s');
    mkdirSync(dir, { recursive: true });
    gw = await startPopgate({
      dir,
      backend: {
        adapter: 's3',
        endpoint: s3.endpoint,
        bucket: s3.bucket,
        prefix: `${PREFIX}{user}/`,
        credentials: S3RVER_KEY,
        user: o.user,
        password: o.password,
      },
      logLevel: o.popgateLog,
      nodeArgs: o.nodeArgs,
    });
    const g = gw;
    const rows: S3Row[] = [];
    const session = (kind: S3BenchClient, verify: boolean): Promise<SessionResult> =>
      runClientSession({ kind, port: g.port, user: o.user, password: o.password, pipeline: o.pipeline, verify });
    for (const [i, kind] of o.clients.entries()) {
      const label = clientLabel(kind, o.pipeline);
      if (i === 0) {
        // The first session after start: no size is cached, STAT measures every object.
        const cold = await measured(s3, g, () => session(kind, true));
        checkSession(cold.s, mail);
        rows.push(row(label, 'cold (1st; STAT measures sizes)', [cold]));
      } else {
        checkSession(await session(kind, true), mail);
      }
      const warm: Awaited<ReturnType<typeof measured>>[] = [];
      for (let r = 0; r < o.runs; r++) {
        const m = await measured(s3, g, () => session(kind, false));
        checkSession(m.s, mail);
        warm.push(m);
      }
      rows.push(row(label, `warm (median of ${o.runs})`, warm));
      const w = rows[rows.length - 1] as S3Row;
      o.progress(`s3-${o.count} ${label}: ${w.mbPerS.toFixed(1)} MB/s, login ${w.loginMs?.toFixed(1)} ms, STAT ${w.statMs?.toFixed(1)} ms`);
    }
    rows.push(await directDownload(s3, o.pipeline, mail.count, o.runs));
    return { count: mail.count, crlfBytes: mail.crlfBytes, rows };
  } catch (err) {
    if (err instanceof Error && gw !== undefined) err.message += `\n--- popgate (s) log (tail) ---\n${gw.logTail(15)}`;
    throw err;
  } finally {
    await gw?.stop();
    await s3.stop();
  }
}

export function s3Table(r: S3BenchResult, table: (header: readonly string[], rows: readonly (readonly string[])[], rightFrom: number) => string): string {
  const num = (x: number | undefined, d: number): string => (x === undefined || !Number.isFinite(x) ? 'n/a' : x.toFixed(d));
  const header = ['client', 'session', 'MB/s', 'msgs/s', 'login ms', 'STAT ms', 'session s', 'popgate CPU s', 's3rver CPU s'];
  return table(
    header,
    r.rows.map((x) => [
      x.client,
      x.session,
      num(x.mbPerS, 1),
      num(x.msgsPerS, 0),
      num(x.loginMs, 1),
      num(x.statMs, 1),
      num(x.totalS, 3),
      num(x.popgateCpuS, 2),
      num(x.s3rverCpuS, 2),
    ]),
    2,
  );
}
