/**
 * Real POP3 clients download a whole REST mailbox through popgate, byte for byte: Python's
 * poplib (the whole client corpus: LF and CRLF messages, dot lines, 8-bit text, no final line
 * end, a 2 MB message) and curl (a message at a time). The store gives no sizes, so every size
 * the clients see was counted by the adapter.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { corpus, firstDifference, smallCorpus, wireBody, wireSize } from '../helpers/client-corpus.js';
import { assertPoplibFetchedExactly, runPoplib } from '../helpers/poplib-run.js';
import { cleanup, run, tempDir } from '../helpers/client-run.js';
import { ALICE } from '../helpers/gateway.js';
import { requireProgram } from '../helpers/programs.js';
import { startRestStack, stopRestStack, type RestStack } from '../helpers/rest-gateway.js';

describe('real clients download a REST mailbox', () => {
  let stack: RestStack;
  let work: string;

  before(async () => {
    requireProgram('python3');
    requireProgram('curl');
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
