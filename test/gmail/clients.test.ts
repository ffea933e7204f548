/**
 * Real POP3 clients download a whole Gmail mailbox (the stand-in) through popgate, byte for
 * byte: Python's poplib and mpop take the whole client corpus (LF and CRLF messages, dot lines,
 * 8-bit text, no final line end, a 2 MB message), curl one message at a time. Gmail gives only
 * size estimates, so every size the clients see was counted by the adapter.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { corpus, deliveredFiles, firstDifference, lfBody, smallCorpus, wireBody, type CorpusMessage } from '../helpers/client-corpus.js';
import { assertPoplibFetchedExactly, runPoplib } from '../helpers/poplib-run.js';
import { cleanup, numberingMda, run, tempDir } from '../helpers/client-run.js';
import type { TestGateway } from '../helpers/gateway.js';
import { ALICE_GMAIL, startGmailGateway } from '../helpers/gmail-gateway.js';
import { startGmailStandin, type GmailStandin } from '../helpers/gmail-standin.js';
import { requireProgram } from '../helpers/programs.js';

describe('real clients download a Gmail mailbox', () => {
  let g: GmailStandin;
  let gw: TestGateway;
  let work: string;
  const messages: readonly CorpusMessage[] = corpus();

  before(async () => {
    requireProgram('python3');
    requireProgram('curl');
    requireProgram('mpop');
    g = await startGmailStandin();
    gw = await startGmailGateway(g);
    for (const m of messages) g.add(ALICE_GMAIL.user, m.content);
    work = tempDir('gmail-clients');
  });
  after(async () => {
    await gw?.stop();
    await g?.close();
    cleanup(work);
  });

  it('poplib: STAT, LIST, every RETR byte for byte and every announced size exact', async () => {
    const out = join(work, 'poplib');
    const report = await runPoplib({ port: gw.port, user: ALICE_GMAIL.user, password: ALICE_GMAIL.password, outdir: out });
    assertPoplibFetchedExactly(report, out, messages);
  });

  it('mpop (keep on): every delivered message equals the source with LF line ends', async () => {
    const out = join(work, 'mpop');
    const mda = numberingMda(work, out);
    const r = await run(
      'mpop',
      [
        '--host=127.0.0.1',
        `--port=${gw.port}`,
        '--tls=off',
        '--auth=user',
        `--user=${ALICE_GMAIL.user}`,
        `--passwordeval=echo ${ALICE_GMAIL.password}`,
        `--delivery=mda,${mda}`,
        '--keep=on',
        `--uidls-file=${join(work, 'mpop-uidls')}`,
        '--received-header=off',
        '--timeout=20',
      ],
      { timeoutMs: 60_000, env: { ...process.env, HOME: work } },
    );
    assert.equal(r.code, 0, `mpop exit ${r.code}: ${r.stderr}\n${r.stdout}`);
    const files = deliveredFiles(out);
    assert.equal(files.length, messages.length);
    messages.forEach((m, i) => {
      const got = files[i]?.content ?? Buffer.alloc(0);
      const expected = lfBody(m.content);
      assert.ok(got.equals(expected), `message ${m.label}: ${firstDifference(got, expected)}`);
    });
    assert.equal(g.inbox(ALICE_GMAIL.user).length, messages.length, '--keep=on changes nothing in Gmail');
  });

  it('curl: each message of a small mailbox byte for byte', async () => {
    const small = smallCorpus();
    const start = messages.length;
    const auth = ['-u', `${ALICE_GMAIL.user}:${ALICE_GMAIL.password}`];
    for (const m of small) g.add(ALICE_GMAIL.user, m.content);
    for (const [i, m] of small.entries()) {
      const res = await run('curl', ['-s', '-S', '--max-time', '15', `pop3://127.0.0.1:${gw.port}/${start + i + 1}`, ...auth], { timeoutMs: 20_000 });
      assert.equal(res.code, 0, `curl: exit ${res.code}: ${res.stderr}`);
      const expected = wireBody(m.content);
      assert.ok(res.out.equals(expected), `message ${m.label}: ${firstDifference(res.out, expected)}`);
    }
  });
});
