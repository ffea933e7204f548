/**
 * Python's stdlib poplib as a test client (test/clients/fixtures/poplib_fetch.py): one session
 * that logs in, lists, retrieves every message into a folder and quits, reported as JSON.
 * What poplib does to a message: RETR returns the lines with their CRLF removed and dot-stuffing
 * undone; joined with CRLF after each they must give back exactly what the server must send.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { deliveredFiles, firstDifference, wireBody, wireSize, type CorpusMessage } from './client-corpus.js';
import { run } from './client-run.js';
import { testCert } from './tls.js';

const SCRIPT = fileURLToPath(new URL('../../../test/clients/fixtures/poplib_fetch.py', import.meta.url));

export interface PoplibReport {
  greeting: string;
  capa_before: string[];
  capa_after?: string[];
  user_before_tls?: string;
  stls?: string;
  cipher?: string;
  user: string;
  pass: string;
  stat: [number, number];
  list: [number, number][];
  uidl: [string, string][];
  retr: { n: number; resp: string; octets: number; lines: number }[];
  quit: string;
}

export interface PoplibRun {
  readonly port: number;
  readonly host?: string;
  readonly mode?: 'plain' | 'stls' | 'ssl';
  readonly user: string;
  readonly password: string;
  readonly outdir: string;
  readonly timeoutMs?: number;
}

export async function runPoplib(opts: PoplibRun): Promise<PoplibReport> {
  const args = {
    host: opts.host ?? '127.0.0.1',
    port: opts.port,
    user: opts.user,
    password: opts.password,
    outdir: opts.outdir,
    mode: opts.mode ?? 'plain',
    cafile: testCert().certPath,
  };
  const r = await run('python3', [SCRIPT, JSON.stringify(args)], { timeoutMs: opts.timeoutMs ?? 60_000 });
  assert.equal(r.code, 0, `poplib script failed (exit ${r.code}): ${r.stderr.slice(-3000)}`);
  return JSON.parse(r.stdout) as PoplibReport;
}

/** Every retrieved message equals the source (CRLF form) and every size matches. */
export function assertPoplibFetchedExactly(report: PoplibReport, outdir: string, messages: readonly CorpusMessage[]): void {
  const sizes = messages.map((m) => wireSize(m.content));
  assert.deepEqual(report.stat, [messages.length, sizes.reduce((a, b) => a + b, 0)], 'STAT');
  assert.deepEqual(
    report.list,
    sizes.map((s, i) => [i + 1, s]),
    'LIST',
  );
  const files = deliveredFiles(outdir);
  assert.equal(files.length, messages.length, 'one file per message');
  messages.forEach((msg, i) => {
    const expected = wireBody(msg.content);
    const got = files[i]?.content ?? Buffer.alloc(0);
    assert.ok(got.equals(expected), `message ${msg.label}: ${firstDifference(got, expected)}`);
    const retr = report.retr[i];
    assert.equal(retr?.resp, `+OK ${sizes[i]} octets`, `RETR ${i + 1} status line`);
    assert.equal(retr?.octets, expected.length, `RETR ${i + 1}: octets poplib counted`);
  });
  assert.match(report.quit, /^\+OK/);
}
