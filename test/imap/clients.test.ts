/**
 * Real POP3 clients through popgate -> IMAP -> Dovecot, against Dovecot's own POP3 server on the
 * same Maildir: fetchmail, mpop, curl and Python's poplib must deliver byte-identical messages
 * either way (and, for curl, exactly the stored message in its CRLF form). fetchmail runs with
 * `bad-header accept` (its default rejects the header-less message, whichever server sends it)
 * and its own Received line is stripped before comparing.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { corpus, deliveredFiles, firstDifference, wireBody, wireSize, type CorpusMessage } from '../helpers/client-corpus.js';
import { cleanup, numberingMda, run, tempDir, type RunResult } from '../helpers/client-run.js';
import { startDovecot, type DovecotInstance } from '../helpers/dovecot.js';
import type { TestGateway } from '../helpers/gateway.js';
import { putMessages, startImapGateway } from '../helpers/imap-harness.js';
import { requireProgram } from '../helpers/programs.js';

const POPLIB_SCRIPT = fileURLToPath(new URL('../../../test/clients/fixtures/poplib_fetch.py', import.meta.url));
/** The shared client corpus, and a few malformed messages on top (lines stay under poplib's 2,048 octets). */
const messages: CorpusMessage[] = [
  ...corpus(),
  { label: 'no header at all', content: Buffer.from('No header lines here.\nSecond line.\n', 'latin1') },
  { label: 'bare CRs', content: Buffer.from('Subject: bare CR\nMessage-ID: <bare-cr@popgate.test>\n\nbare\rCR\n\r\nend\r\r\n', 'latin1') },
  { label: 'raw 8-bit octets', content: Buffer.from('Subject: raw\nMessage-ID: <raw8@popgate.test>\n\ncaf\xe9 \x80\x9f\xff\n', 'latin1') },
];

/** Both delivery folders hold the same number of files, pairwise identical after `normalize`. */
function assertSameDeliveries(viaGateway: string, viaDovecot: string, normalize: (b: Buffer, name: string) => Buffer = (b) => b): void {
  const a = deliveredFiles(viaGateway);
  const b = deliveredFiles(viaDovecot);
  assert.equal(b.length, messages.length, `Dovecot's POP3 delivered ${b.length} of ${messages.length}`);
  assert.equal(a.length, b.length, `popgate delivered ${a.length}, Dovecot ${b.length}`);
  a.forEach((file, i) => {
    const mine = normalize(file.content, `popgate ${file.name}`);
    const theirs = normalize((b[i] as { content: Buffer }).content, `dovecot ${file.name}`);
    assert.ok(mine.equals(theirs), `message ${(messages[i] as { label: string }).label}: popgate vs Dovecot POP3: ${firstDifference(mine, theirs)}`);
  });
}

describe('real POP3 clients: popgate over IMAP vs Dovecot’s own POP3, same Maildir', () => {
  let dovecot: DovecotInstance;
  let gw: TestGateway;
  let work: string;
  before(async () => {
    for (const p of ['curl', 'mpop', 'fetchmail', 'python3']) requireProgram(p);
    dovecot = await startDovecot({ protocols: ['imap', 'pop3'] });
    putMessages(
      dovecot,
      messages.map((m) => m.content),
    );
    gw = await startImapGateway(dovecot.imapPort);
    work = tempDir('imap-clients');
  });
  after(async () => {
    await gw?.stop();
    await dovecot?.stop();
    cleanup(work);
  });

  const targets = (): { name: string; port: number }[] => [
    { name: 'popgate', port: gw.port },
    { name: 'dovecot', port: dovecot.pop3Port },
  ];

  it('curl: LIST and every RETR are identical, and equal to the stored messages', async () => {
    const curl = (args: readonly string[]): Promise<RunResult> =>
      run('curl', ['-s', '-S', '--max-time', '20', '-u', 'alice:alicepass', ...args], { timeoutMs: 25_000 });
    const lists: string[] = [];
    for (const t of targets()) {
      const r = await curl([`pop3://127.0.0.1:${t.port}/`]);
      assert.equal(r.code, 0, `${t.name} LIST: ${r.stderr}`);
      lists.push(r.stdout);
    }
    assert.equal(lists[0], lists[1], 'LIST');
    assert.equal(lists[0], messages.map((m, i) => `${i + 1} ${wireSize(m.content)}\r\n`).join(''));
    for (const [i, msg] of messages.entries()) {
      const outs: Buffer[] = [];
      for (const t of targets()) {
        const r = await curl([`pop3://127.0.0.1:${t.port}/${i + 1}`]);
        assert.equal(r.code, 0, `${t.name} RETR ${i + 1}: ${r.stderr}`);
        outs.push(r.out);
      }
      const [mine, theirs] = outs as [Buffer, Buffer];
      assert.ok(mine.equals(theirs), `message ${msg.label}: popgate vs Dovecot POP3: ${firstDifference(mine, theirs)}`);
      const expected = wireBody(msg.content);
      assert.ok(mine.equals(expected), `message ${msg.label}: popgate vs stored: ${firstDifference(mine, expected)}`);
    }
  });

  it('poplib: STAT, LIST and every RETR are identical', async () => {
    interface Report {
      stat: [number, number];
      list: [number, number][];
      retr: { n: number; resp: string; octets: number; lines: number }[];
      quit: string;
    }
    const reports: Report[] = [];
    for (const t of targets()) {
      const outdir = join(work, `poplib-${t.name}`);
      const args = { host: '127.0.0.1', port: t.port, user: 'alice', password: 'alicepass', outdir, mode: 'plain' };
      const r = await run('python3', [POPLIB_SCRIPT, JSON.stringify(args)], { timeoutMs: 60_000 });
      assert.equal(r.code, 0, `${t.name}: poplib script failed: ${r.stderr.slice(-3000)}`);
      const report = JSON.parse(r.stdout) as Report;
      assert.match(report.quit, /^\+OK/);
      reports.push(report);
    }
    const [mine, theirs] = reports as [Report, Report];
    assert.deepEqual(mine.stat, theirs.stat);
    assert.deepEqual(mine.list, theirs.list);
    assert.deepEqual(
      mine.retr.map((x) => [x.n, x.octets, x.lines]),
      theirs.retr.map((x) => [x.n, x.octets, x.lines]),
    );
    assertSameDeliveries(join(work, 'poplib-popgate'), join(work, 'poplib-dovecot'));
  });

  it('mpop: every delivered message is identical', async () => {
    for (const t of targets()) {
      const dir = join(work, `mpop-${t.name}`);
      const mda = numberingMda(dir, join(dir, 'out'));
      const r = await run(
        'mpop',
        [
          '--host=127.0.0.1',
          `--port=${t.port}`,
          '--tls=off',
          '--auth=user',
          '--user=alice',
          '--passwordeval=echo alicepass',
          `--delivery=mda,${mda}`,
          '--keep=on',
          `--uidls-file=${join(dir, 'uidls')}`,
          '--received-header=off',
          '--timeout=20',
        ],
        { timeoutMs: 60_000, env: { ...process.env, HOME: dir } },
      );
      assert.equal(r.code, 0, `${t.name}: mpop exit ${r.code}: ${r.stderr}\n${r.stdout}`);
    }
    assertSameDeliveries(join(work, 'mpop-popgate', 'out'), join(work, 'mpop-dovecot', 'out'));
  });

  it('fetchmail: every delivered message is identical (its own Received line aside)', async () => {
    for (const t of targets()) {
      const dir = join(work, `fetchmail-${t.name}`);
      const home = join(dir, 'home');
      mkdirSync(home, { recursive: true });
      const mda = numberingMda(dir, join(dir, 'out'));
      const rc = join(dir, 'fetchmailrc');
      writeFileSync(
        rc,
        'set no bouncemail\n' +
          `poll 127.0.0.1 protocol pop3 port ${t.port} uidl bad-header accept\n` +
          `  user "alice" password "alicepass" is "${userInfo().username}" here\n` +
          `  keep sslproto '' mda "${mda}"\n`,
      );
      chmodSync(rc, 0o600);
      const r = await run('fetchmail', ['-f', rc, '-v', '--nodetach', '-i', join(dir, 'ids')], {
        timeoutMs: 90_000,
        env: { ...process.env, HOME: home, FETCHMAILHOME: home },
        cwd: dir,
      });
      assert.equal(r.code, 0, `${t.name}: fetchmail exit ${r.code}:\n${(r.stdout + r.stderr).slice(-3000)}`);
    }
    const received = /^Received: from [^\n]*\n\tby [^\n]* with POP3 \(fetchmail-[0-9.]+\)\n\tfor <[^\n]*> \(single-drop\); [^\n]*\n/;
    assertSameDeliveries(join(work, 'fetchmail-popgate', 'out'), join(work, 'fetchmail-dovecot', 'out'), (b, name) => {
      const text = b.toString('latin1');
      const m = received.exec(text);
      assert.ok(m, `${name} starts with fetchmail's Received field: ${JSON.stringify(text.slice(0, 200))}`);
      return Buffer.from(text.slice(m[0].length), 'latin1');
    });
  });
});
