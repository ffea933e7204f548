/**
 * mpop (1.4) as a POP3 client, delivering to an MDA that writes each message to its own file.
 *
 * What mpop gives an MDA (found out here and asserted exactly): the message with CRLF turned into
 * LF and dot-stuffing undone, nothing else changed, when `--received-header=off`; with the default
 * (`on`) it prepends one `Received: from ... by HOST (mpop-VERSION) with POP3 ...` header field
 * (three lines), which is stripped and checked before comparing.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { messageFiles } from '../helpers/maildir.js';
import { requireProgram } from '../helpers/programs.js';
import { corpus, deliveredFiles, firstDifference, lfBody, smallCorpus, storeCorpus, type CorpusMessage } from '../helpers/client-corpus.js';
import { commandsIn, recordingProxy } from '../helpers/client-proxy.js';
import { cleanup, numberingMda, run, tempDir, type RunResult } from '../helpers/client-run.js';

const USERS = { alice: { password: 'alicepass' }, bob: { password: 'bobpass' } };

interface MpopRun {
  port: number;
  user: keyof typeof USERS;
  outDir: string;
  uidls: string;
  keep: boolean;
  receivedHeader?: boolean;
  pipelining?: 'auto' | 'on' | 'off';
}

async function mpop(work: string, o: MpopRun): Promise<RunResult> {
  const mda = numberingMda(work, o.outDir);
  const r = await run(
    'mpop',
    [
      '--host=127.0.0.1',
      `--port=${o.port}`,
      '--tls=off',
      '--auth=user',
      `--user=${o.user}`,
      `--passwordeval=echo ${USERS[o.user].password}`,
      `--delivery=mda,${mda}`,
      `--keep=${o.keep ? 'on' : 'off'}`,
      `--uidls-file=${o.uidls}`,
      `--received-header=${o.receivedHeader === true ? 'on' : 'off'}`,
      `--pipelining=${o.pipelining ?? 'auto'}`,
      '--timeout=20',
    ],
    { timeoutMs: 40_000, env: { ...process.env, HOME: work } },
  );
  assert.equal(r.code, 0, `mpop exit ${r.code}: ${r.stderr}\n${r.stdout}`);
  return r;
}

function assertDelivered(outDir: string, messages: readonly CorpusMessage[], transform: (got: Buffer) => Buffer = (b) => b): void {
  const files = deliveredFiles(outDir);
  assert.equal(files.length, messages.length, `delivered ${files.length} of ${messages.length}`);
  messages.forEach((msg, i) => {
    const got = transform((files[i] as { content: Buffer }).content);
    const expected = lfBody(msg.content);
    assert.ok(got.equals(expected), `message ${msg.label}: ${firstDifference(got, expected)}`);
  });
}

/** The UIDs mpop recorded for a user in its uidls file (lines after " N host user"). */
function uidlsFileIds(path: string): string[] {
  const lines = readFileSync(path, 'utf8').split('\n');
  const start = lines.findIndex((l) => /^ \d+ /.test(l));
  assert.ok(start >= 0, `no UID list in ${path}`);
  const n = Number(/^ (\d+) /.exec(lines[start] as string)?.[1]);
  return lines.slice(start + 1, start + 1 + n);
}

describe('mpop', () => {
  let gw: TestGateway;
  let work: string;
  const messages = corpus();
  before(async () => {
    requireProgram('mpop');
    gw = await startTestGateway({ users: USERS });
    storeCorpus(gw.maildir('alice'), messages);
    work = tempDir('mpop');
  });
  after(async () => {
    await gw?.stop();
    cleanup(work);
  });

  it('downloads every message (keep on); each delivered message equals the source with LF line ends', async () => {
    const out = join(work, 'keep');
    await mpop(work, { port: gw.port, user: 'alice', outDir: out, uidls: join(work, 'uidls'), keep: true });
    assertDelivered(out, messages);
    assert.equal(messageFiles(gw.maildir('alice')).length, messages.length, '--keep=on leaves the Maildir alone');
    const ids = uidlsFileIds(join(work, 'uidls'));
    assert.equal(ids.length, messages.length, 'mpop recorded one UID per message');
    assert.equal(new Set(ids).size, ids.length);
  });

  it('a second run with the same uidls file downloads nothing new (UIDLs are stable)', async () => {
    const out = join(work, 'keep');
    const r = await mpop(work, { port: gw.port, user: 'alice', outDir: out, uidls: join(work, 'uidls'), keep: true });
    assert.equal(deliveredFiles(out).length, messages.length, `no new deliveries; mpop said: ${r.stdout}`);
    assert.match(r.stdout, new RegExp(`new: no messages, total: ${messages.length} messages`));
  });

  it('with the default Received header, only that one header field is added', async () => {
    const out = join(work, 'received');
    await mpop(work, { port: gw.port, user: 'alice', outDir: out, uidls: join(work, 'uidls-received'), keep: true, receivedHeader: true });
    assertDelivered(out, messages, (got) => {
      const text = got.toString('latin1');
      const m = /^Received: from 127\.0\.0\.1 [^\n]*\n(?:[ \t][^\n]*\n)*/.exec(text);
      assert.ok(m !== null && m[0].includes('(mpop-'), `first header is mpop's Received field: ${JSON.stringify(text.slice(0, 200))}`);
      return got.subarray(Buffer.byteLength(m[0], 'latin1'));
    });
  });

  it('pipelines its commands (the gateway offers PIPELINING), and the pipelined download is still exact', async () => {
    const proxy = await recordingProxy(gw.port);
    try {
      const out = join(work, 'pipelined');
      await mpop(work, { port: proxy.port, user: 'alice', outDir: out, uidls: join(work, 'uidls-pipelined'), keep: true, pipelining: 'auto' });
      assert.match(proxy.serverText(), /\r\nPIPELINING\r\n/, 'CAPA offers PIPELINING');
      const multi = proxy.clientChunks.filter((c) => commandsIn(c).filter((l) => /^RETR /.test(l)).length >= 2);
      assert.ok(multi.length > 0, `mpop sent several RETRs in one write; client writes were: ${JSON.stringify(proxy.clientChunks.slice(0, 12))}`);
      assertDelivered(out, messages);
    } finally {
      await proxy.close();
    }
  });

  it('(control) with --pipelining=off every command goes out on its own', async () => {
    const proxy = await recordingProxy(gw.port);
    try {
      const out = join(work, 'unpipelined');
      await mpop(work, { port: proxy.port, user: 'alice', outDir: out, uidls: join(work, 'uidls-unpipelined'), keep: true, pipelining: 'off' });
      assert.ok(proxy.clientChunks.length > messages.length, 'one write per command');
      assert.ok(
        proxy.clientChunks.every((c) => commandsIn(c).length === 1),
        JSON.stringify(proxy.clientChunks.filter((c) => commandsIn(c).length !== 1)),
      );
      assertDelivered(out, messages);
    } finally {
      await proxy.close();
    }
  });

  it('--keep=off deletes the messages from the Maildir at QUIT', async () => {
    const bobMessages = smallCorpus();
    storeCorpus(gw.maildir('bob'), bobMessages);
    assert.equal(messageFiles(gw.maildir('bob')).length, bobMessages.length);
    const out = join(work, 'bob');
    const logsBefore = gw.logs.length;
    await mpop(work, { port: gw.port, user: 'bob', outDir: out, uidls: join(work, 'uidls-bob'), keep: false });
    assertDelivered(out, bobMessages);
    assert.deepEqual(messageFiles(gw.maildir('bob')), [], 'all of bob’s messages were deleted');
    const quit = gw.logs
      .slice(logsBefore)
      .map((l) => JSON.parse(l) as { outcome?: string; deleted?: number })
      .find((l) => l.outcome === 'quit');
    assert.equal(quit?.deleted, bobMessages.length, 'the gateway logged the deletions at QUIT');
    assert.equal(messageFiles(gw.maildir('alice')).length, messages.length, 'alice’s Maildir is untouched');
  });
});
