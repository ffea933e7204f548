/**
 * Real POP3 clients download a whole REST mailbox through popgate, byte for byte: Python's
 * poplib and mpop (the whole client corpus: LF and CRLF messages, dot lines, 8-bit text, no
 * final line end, a 2 MB message) and curl (a message at a time). The store gives no sizes, so
 * every size the clients see was counted by the adapter. (fetchmail: fetchmail.test.ts.)
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { corpus, deliveredFiles, firstDifference, lfBody, smallCorpus, wireBody, wireSize } from '../helpers/client-corpus.js';
import { assertPoplibFetchedExactly, runPoplib } from '../helpers/poplib-run.js';
import { cleanup, numberingMda, run, tempDir } from '../helpers/client-run.js';
import { ALICE } from '../helpers/gateway.js';
import { requireProgram } from '../helpers/programs.js';
import { startRestStack, stopRestStack, type RestStack } from '../helpers/rest-gateway.js';

describe('real clients download a REST mailbox', () => {
  let stack: RestStack;
  let work: string;

  before(async () => {
    requireProgram('python3');
    requireProgram('curl');
    requireProgram('mpop');
    stack = await startRestStack({ store: { sizes: false } });
    work = tempDir('rest-clients');
  });
  after(async () => {
    await stopRestStack(stack);
    cleanup(work);
  });

  it('poplib: STAT, LIST, every RETR byte for byte and every announced size exact', async () => {
    const messages = corpus();
    stack.store.seed(
      'alice',
      messages.map((m) => m.content),
    );
    const report = await runPoplib({ port: stack.gw.port, user: ALICE.user, password: ALICE.password, outdir: work });
    assertPoplibFetchedExactly(report, work, messages);
  });

  it('mpop (keep off, pipelining on): every delivered message equals the source with LF line ends, then the store mailbox is empty', async () => {
    const messages = corpus();
    stack.store.seed(
      'alice',
      messages.map((m) => m.content),
    );
    const out = join(work, 'mpop');
    const r = await run(
      'mpop',
      [
        '--host=127.0.0.1',
        `--port=${stack.gw.port}`,
        '--tls=off',
        '--auth=user',
        `--user=${ALICE.user}`,
        `--passwordeval=echo ${ALICE.password}`,
        `--delivery=mda,${numberingMda(join(work, 'mpop-run'), out)}`,
        '--keep=off',
        '--pipelining=on',
        `--uidls-file=${join(work, 'mpop-run', 'uidls')}`,
        '--received-header=off',
        '--timeout=20',
      ],
      { timeoutMs: 60_000, env: { ...process.env, HOME: join(work, 'mpop-run') } },
    );
    assert.equal(r.code, 0, `mpop exit ${r.code}: ${r.stderr}\n${r.stdout}`);
    const files = deliveredFiles(out);
    assert.equal(files.length, messages.length);
    messages.forEach((m, i) => {
      const got = files[i]?.content ?? Buffer.alloc(0);
      const expected = lfBody(m.content);
      assert.ok(got.equals(expected), `message ${m.label}: ${firstDifference(got, expected)}`);
    });
    assert.equal(stack.store.mailboxes.get('alice')?.length, 0, '--keep=off: DELE of every message, applied at QUIT');
  });

  it('curl: LIST and each message byte for byte', async () => {
    const messages = smallCorpus();
    stack.store.seed(
      'alice',
      messages.map((m) => m.content),
    );
    const auth = ['-u', `${ALICE.user}:${ALICE.password}`];
    const curl = async (url: string): Promise<Buffer> => {
      const res = await run('curl', ['-s', '-S', '--max-time', '15', url, ...auth], { timeoutMs: 20_000 });
      assert.equal(res.code, 0, `curl ${url}: exit ${res.code}: ${res.stderr}`);
      return res.out;
    };
    const list = await curl(`pop3://127.0.0.1:${stack.gw.port}/`);
    assert.equal(list.toString('latin1'), messages.map((m, i) => `${i + 1} ${wireSize(m.content)}\r\n`).join(''));
    for (const [i, m] of messages.entries()) {
      const out = await curl(`pop3://127.0.0.1:${stack.gw.port}/${i + 1}`);
      const expected = wireBody(m.content);
      assert.ok(out.equals(expected), `message ${m.label}: ${firstDifference(out, expected)}`);
    }
  });
});
