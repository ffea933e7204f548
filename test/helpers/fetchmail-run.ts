/**
 * fetchmail (6.4) as a test client: one run with its own rc file and home, delivering each
 * message to a numbering MDA; and what it must hand that MDA for a stored message, found out
 * in test/clients/fetchmail.test.ts: its Received header field in front, CRLF turned into LF,
 * and a blank line after a message that is only a header.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { deliveredFiles, firstDifference, lfBody, type CorpusMessage } from './client-corpus.js';
import { numberingMda, run } from './client-run.js';
import { testCert } from './tls.js';

export interface FetchmailRun {
  /** A folder of this run's own (rc file, home). */
  readonly dir: string;
  readonly host?: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly outDir: string;
  readonly idsFile: string;
  readonly keep: boolean;
  /** `uidl` in the rc file: fetchmail then fetches with `TOP n 99999999`. Default true. */
  readonly uidl?: boolean;
  /** `plain`: sslproto '' (no TLS); `verified`: sslcertck + sslcertfile; `unverified`: sslcertck only. */
  readonly tls?: 'plain' | 'verified' | 'unverified';
  readonly timeoutMs?: number;
}

export async function runFetchmail(o: FetchmailRun): Promise<{ code: number | null; log: string }> {
  const home = join(o.dir, 'home');
  mkdirSync(home, { recursive: true });
  const tls = (o.tls ?? 'plain') === 'plain' ? "sslproto ''" : o.tls === 'verified' ? `sslcertck sslcertfile "${testCert().certPath}"` : 'sslcertck';
  const rc = join(o.dir, 'fetchmailrc');
  writeFileSync(
    rc,
    'set no bouncemail\n' +
      `poll ${o.host ?? '127.0.0.1'} protocol pop3 port ${o.port}${(o.uidl ?? true) ? ' uidl' : ''}\n` +
      `  user "${o.user}" password "${o.password}" is "${userInfo().username}" here\n` +
      `  ${o.keep ? 'keep' : 'no keep'} ${tls} mda "${numberingMda(o.dir, o.outDir)}"\n`,
  );
  chmodSync(rc, 0o600);
  const r = await run('fetchmail', ['-f', rc, '-v', '--nodetach', '-i', o.idsFile], {
    timeoutMs: o.timeoutMs ?? 120_000,
    env: { ...process.env, HOME: home, FETCHMAILHOME: home },
    cwd: o.dir,
  });
  return { code: r.code, log: r.stdout + r.stderr };
}

const FETCHMAIL_RECEIVED = /^Received: from [^\n]*\n\tby [^\n]* with POP3 \(fetchmail-[0-9.]+\)\n\tfor <[^\n]*> \(single-drop\); [^\n]*\n/;

/** What fetchmail must hand the MDA for a stored message (see the file comment). */
export function fetchmailExpected(content: Buffer): Buffer {
  const lf = lfBody(content);
  return lf.indexOf('\n\n') < 0 ? Buffer.concat([lf, Buffer.from('\n')]) : lf;
}

/** Every delivered file is its message as fetchmail must hand it over, behind one Received field. */
export function assertFetchmailDelivered(outDir: string, messages: readonly CorpusMessage[]): void {
  const files = deliveredFiles(outDir);
  assert.equal(files.length, messages.length, `delivered ${files.length} of ${messages.length}`);
  messages.forEach((msg, i) => {
    const raw = (files[i] as { content: Buffer }).content.toString('latin1');
    const received = FETCHMAIL_RECEIVED.exec(raw);
    assert.ok(received, `message ${msg.label}: starts with fetchmail's Received field: ${JSON.stringify(raw.slice(0, 300))}`);
    const got = Buffer.from(raw.slice(received[0].length), 'latin1');
    const expected = fetchmailExpected(msg.content);
    assert.ok(got.equals(expected), `message ${msg.label}: ${firstDifference(got, expected)}`);
  });
}

/** Commands fetchmail sent (from its -v log) that match `re`. */
export function fetchmailCommands(log: string, re: RegExp): string[] {
  return log
    .split('\n')
    .map((l) => /^fetchmail: POP3> (.*)$/.exec(l)?.[1] ?? '')
    .filter((c) => re.test(c));
}
