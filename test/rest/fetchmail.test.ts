/**
 * fetchmail (6.4) downloads a whole REST mailbox (the reference store) through popgate: the
 * shared client corpus (dot lines, bare LF and CRLF, 8-bit text, no final line end, a 2 MB
 * message), each delivered message compared byte for byte with what fetchmail must hand its MDA
 * (see test/helpers/fetchmail-run.ts). The store gives sizes and ETags here, so nothing is
 * counted; with `uidl` fetchmail fetches with `TOP n 99999999`, which the adapter serves as a
 * 32 KiB ranged read and then a second request streaming from there. A second run fetches
 * nothing (UIDL); a run without `keep` deletes everything from the store (deleteMode delete).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { corpus, deliveredFiles } from '../helpers/client-corpus.js';
import { cleanup, tempDir } from '../helpers/client-run.js';
import { assertFetchmailDelivered, fetchmailCommands, runFetchmail } from '../helpers/fetchmail-run.js';
import { ALICE } from '../helpers/gateway.js';
import { requireProgram } from '../helpers/programs.js';
import { startRestStack, stopRestStack, type RestStack } from '../helpers/rest-gateway.js';

describe('fetchmail downloads a whole REST mailbox', () => {
  let s: RestStack;
  let work: string;
  let runs = 0;
  const messages = corpus();

  before(async () => {
    requireProgram('fetchmail');
    s = await startRestStack({ store: { sizes: true, etags: true } });
    s.store.seed(
      'alice',
      messages.map((m) => m.content),
    );
    work = tempDir('rest-fetchmail');
  });
  after(async () => {
    await stopRestStack(s);
    cleanup(work);
  });

  function fetchmail(outDir: string, idsFile: string, keep: boolean): Promise<{ code: number | null; log: string }> {
    return runFetchmail({ dir: join(work, `run${++runs}`), port: s.gw.port, user: ALICE.user, password: ALICE.password, outDir, idsFile, keep });
  }

  it("every message arrives byte for byte (after fetchmail's documented changes)", async () => {
    const out = join(work, 'out');
    const r = await fetchmail(out, join(work, 'ids'), true);
    assert.equal(r.code, 0, `fetchmail exit ${r.code}:\n${r.log.slice(-3000)}`);
    assertFetchmailDelivered(out, messages);
    assert.equal(fetchmailCommands(r.log, /^TOP /).length, messages.length, 'fetched with TOP n 99999999');
    assert.equal(s.store.mailboxes.get('alice')?.length, messages.length, 'keep: nothing deleted');
  });

  it('a second run fetches nothing new (UIDL)', async () => {
    const r = await fetchmail(join(work, 'out'), join(work, 'ids'), true);
    assert.equal(r.code, 1, `fetchmail exit ${r.code} (1 = no mail):\n${r.log.slice(-2000)}`);
    assert.equal(deliveredFiles(join(work, 'out')).length, messages.length);
  });

  it('without keep, every message is delivered and the store mailbox is empty afterwards', async () => {
    const out = join(work, 'out-nokeep');
    const r = await fetchmail(out, join(work, 'ids-nokeep'), false);
    assert.equal(r.code, 0, `fetchmail exit ${r.code}:\n${r.log.slice(-3000)}`);
    assertFetchmailDelivered(out, messages);
    assert.equal(s.store.mailboxes.get('alice')?.length, 0);
    assert.ok(s.store.calls.delete >= 1, 'deleted through messages:delete');
  });
});
