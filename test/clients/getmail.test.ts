/**
 * getmail6 as a POP3 client (SimplePOP3Retriever and SimplePOP3SSLRetriever), delivering through
 * MDA_external to a script that writes each message to its own file.
 *
 * What getmail hands the MDA (found out here; `delivered_to = false` and `received = false` turn
 * off its Delivered-To and Received fields): getmail parses every message with Python's email
 * package and writes it out again (getmailcore/message.py, Message.flatten), so
 *  1. a `Return-Path: <sender>` field is always written first (any earlier one removed);
 *  2. line ends are the platform's (LF) — poplib strips CRLF, getmail joins with os.linesep;
 *  3. the generator (policy compat32) refolds header fields longer than 78 octets and always
 *     ends the header block with an empty line (a headers-only message gains one).
 * The comparison strips (1), uses the LF form for (2), and for (3) compares the header block
 * after RFC 5322 unfolding (removing a line break before white space) and adds the empty line to
 * a headers-only source. Everything else must be byte-identical.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ALICE, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { messageFiles } from '../helpers/maildir.js';
import { requireProgram } from '../helpers/programs.js';
import { testCert } from '../helpers/tls.js';
import { corpus, deliveredFiles, firstDifference, lfBody, smallCorpus, storeCorpus, type CorpusMessage } from '../helpers/client-corpus.js';
import { cleanup, numberingMda, run, tempDir, type RunResult } from '../helpers/client-run.js';

let runs = 0;

interface GetmailRun {
  type: 'SimplePOP3Retriever' | 'SimplePOP3SSLRetriever';
  server: string;
  port: number;
  outDir: string;
  /** getmail's state folder (oldmail files with the UIDLs seen). */
  stateDir: string;
  readAll: boolean;
  /** CA file for the SSL retriever (default: the test certificate). */
  caCerts?: string;
  /** The run must fail (getmail exits non-zero, 127 here, on a TLS error). */
  expectFailure?: boolean;
}

async function getmail(work: string, o: GetmailRun): Promise<RunResult> {
  runs++;
  const dir = join(work, `run${runs}`);
  const mda = numberingMda(dir, o.outDir);
  mkdirSync(o.stateDir, { recursive: true });
  const rc = join(dir, 'getmailrc');
  writeFileSync(
    rc,
    [
      '[retriever]',
      `type = ${o.type}`,
      `server = ${o.server}`,
      `port = ${o.port}`,
      `username = ${ALICE.user}`,
      `password = ${ALICE.password}`,
      ...(o.type === 'SimplePOP3SSLRetriever' ? [`ca_certs = ${o.caCerts ?? testCert().certPath}`] : []),
      '',
      '[destination]',
      'type = MDA_external',
      'path = /bin/sh',
      `arguments = ("${mda}",)`,
      'allow_root_commands = true',
      '',
      '[options]',
      `read_all = ${o.readAll}`,
      'delete = false',
      'delivered_to = false',
      'received = false',
      'verbose = 2',
      '',
    ].join('\n'),
  );
  const r = await run('getmail', [`--getmaildir=${o.stateDir}`, `--rcfile=${rc}`], { timeoutMs: 60_000, env: { ...process.env, HOME: dir } });
  if (o.expectFailure === true) assert.notEqual(r.code, 0, `getmail must fail:\n${r.stdout}`);
  else assert.equal(r.code, 0, `getmail exit ${r.code}:\n${r.stderr.slice(-3000)}\n${r.stdout.slice(-3000)}`);
  return r;
}

/** Unfolds the header block (RFC 5322 2.2.3) and leaves the body alone. */
function unfoldHeaders(msg: Buffer): Buffer {
  const text = msg.toString('latin1');
  const end = text.indexOf('\n\n');
  const head = end < 0 ? text : text.slice(0, end + 1);
  return Buffer.from(head.replace(/\n(?=[ \t])/g, '') + (end < 0 ? '' : text.slice(end + 1)), 'latin1');
}

/** What getmail must hand the MDA, up to header folding (see the file comment). */
function getmailExpected(content: Buffer): Buffer {
  const lf = lfBody(content);
  return unfoldHeaders(lf.includes('\n\n') ? lf : Buffer.concat([lf, Buffer.from('\n')]));
}

function assertDelivered(outDir: string, messages: readonly CorpusMessage[]): void {
  const files = deliveredFiles(outDir);
  assert.equal(files.length, messages.length, `delivered ${files.length} of ${messages.length}`);
  messages.forEach((msg, i) => {
    const raw = (files[i] as { content: Buffer }).content;
    const text = raw.toString('latin1');
    const rp = /^Return-Path: <[^\n]*>\n/.exec(text);
    assert.ok(rp, `message ${msg.label}: getmail's Return-Path comes first: ${JSON.stringify(text.slice(0, 200))}`);
    const got = unfoldHeaders(raw.subarray(rp[0].length));
    const expected = getmailExpected(msg.content);
    assert.ok(got.equals(expected), `message ${msg.label}: ${firstDifference(got, expected)}`);
  });
}

describe('getmail6, SimplePOP3Retriever', () => {
  let gw: TestGateway;
  let work: string;
  const messages = corpus();
  before(async () => {
    requireProgram('getmail');
    gw = await startTestGateway();
    storeCorpus(gw.maildir('alice'), messages);
    work = tempDir('getmail');
  });
  after(async () => {
    await gw?.stop();
    cleanup(work);
  });

  it('downloads every message; each equals the source after getmail’s own rewriting', async () => {
    const out = join(work, 'plain');
    const r = await getmail(work, {
      type: 'SimplePOP3Retriever',
      server: '127.0.0.1',
      port: gw.port,
      outDir: out,
      stateDir: join(work, 'state'),
      readAll: false,
    });
    assert.match(r.stdout + r.stderr, new RegExp(`${messages.length} messages \\(\\d+ bytes\\) retrieved, 0 skipped`));
    assertDelivered(out, messages);
    assert.equal(messageFiles(gw.maildir('alice')).length, messages.length, 'delete = false: nothing deleted');
    const oldmail = readdirSync(join(work, 'state')).filter((f) => f.startsWith('oldmail-'));
    assert.equal(oldmail.length, 1, 'getmail recorded the UIDLs it saw');
    assert.equal(
      readFileSync(join(work, 'state', oldmail[0] as string), 'utf8')
        .trim()
        .split('\n').length,
      messages.length,
    );
  });

  it('a second run (read_all = false) retrieves nothing: the UIDLs are stable', async () => {
    const out = join(work, 'plain');
    const r = await getmail(work, {
      type: 'SimplePOP3Retriever',
      server: '127.0.0.1',
      port: gw.port,
      outDir: out,
      stateDir: join(work, 'state'),
      readAll: false,
    });
    assert.match(r.stdout + r.stderr, new RegExp(`0 messages \\(0 bytes\\) retrieved, ${messages.length} skipped`));
    assert.equal(deliveredFiles(out).length, messages.length, 'no new deliveries');
  });
});

describe('getmail6, SimplePOP3SSLRetriever on the implicit TLS listener', () => {
  let gw: TestGateway;
  let work: string;
  const messages = smallCorpus();
  before(async () => {
    requireProgram('getmail');
    gw = await startTestGateway({
      listeners: [{ tls: 'implicit' }],
      config: { allowPlaintextAuth: 'tls-only', allowPlaintextAuthOnLoopback: false },
    });
    storeCorpus(gw.maildir('alice'), messages);
    work = tempDir('getmail-ssl');
  });
  after(async () => {
    await gw?.stop();
    cleanup(work);
  });

  it('verifies the certificate (ca_certs, host name localhost) and downloads every message', async () => {
    const out = join(work, 'ssl');
    await getmail(work, { type: 'SimplePOP3SSLRetriever', server: 'localhost', port: gw.port, outDir: out, stateDir: join(work, 'state'), readAll: true });
    assertDelivered(out, messages);
    assert.ok(
      gw.logs.some((l) => {
        const j = JSON.parse(l) as { msg?: string; tls?: boolean };
        return j.msg === 'connect' && j.tls === true;
      }),
      'the gateway saw a TLS connection',
    );
  });

  it('refuses the server when ca_certs does not hold its certificate', async () => {
    const out = join(work, 'untrusted');
    const logsBefore = gw.logs.length;
    const r = await getmail(work, {
      type: 'SimplePOP3SSLRetriever',
      server: 'localhost',
      port: gw.port,
      outDir: out,
      stateDir: join(work, 'state-untrusted'),
      readAll: true,
      caCerts: '/etc/ssl/certs/ca-certificates.crt',
      expectFailure: true,
    });
    assert.match(r.stdout + r.stderr, /CERTIFICATE_VERIFY_FAILED|certificate verify failed/i);
    assert.equal(deliveredFiles(out).length, 0);
    assert.equal(gw.logs.slice(logsBefore).filter((l) => (JSON.parse(l) as { msg?: string }).msg === 'login').length, 0, 'no login');
  });
});
