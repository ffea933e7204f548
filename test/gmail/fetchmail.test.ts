/**
 * fetchmail (6.4) downloads a whole Gmail mailbox (the stand-in) through popgate: the shared
 * client corpus, each delivered message compared byte for byte with what fetchmail must hand
 * its MDA (its Received line, CRLF -> LF, a blank line after a header-only message; see
 * test/clients/fetchmail.test.ts). With `uidl` it fetches with `TOP n 99999999`, which the
 * adapter streams from the decoded `raw` field. A second run fetches nothing (UIDL); a run
 * without `keep` moves everything to the trash (deleteMode trash).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { corpus, deliveredFiles } from '../helpers/client-corpus.js';
import { cleanup, tempDir } from '../helpers/client-run.js';
import { assertFetchmailDelivered, fetchmailCommands, runFetchmail } from '../helpers/fetchmail-run.js';
import type { TestGateway } from '../helpers/gateway.js';
import { ALICE_GMAIL, startGmailGateway } from '../helpers/gmail-gateway.js';
import { startGmailStandin, type GmailStandin } from '../helpers/gmail-standin.js';
import { requireProgram } from '../helpers/programs.js';

describe('fetchmail downloads a whole Gmail mailbox', () => {
  let g: GmailStandin;
  let gw: TestGateway;
  let work: string;
  let runs = 0;
  const messages = corpus();

  before(async () => {
    requireProgram('fetchmail');
    g = await startGmailStandin();
    gw = await startGmailGateway(g);
    for (const m of messages) g.add(ALICE_GMAIL.user, m.content);
    work = tempDir('gmail-fetchmail');
  });
  after(async () => {
    await gw?.stop();
    await g?.close();
    cleanup(work);
  });

  function fetchmail(outDir: string, idsFile: string, keep: boolean): Promise<{ code: number | null; log: string }> {
    return runFetchmail({ dir: join(work, `run${++runs}`), port: gw.port, user: ALICE_GMAIL.user, password: ALICE_GMAIL.password, outDir, idsFile, keep });
  }

  it("every message arrives byte for byte (after fetchmail's documented changes)", async () => {
    const out = join(work, 'out');
    const r = await fetchmail(out, join(work, 'ids'), true);
    assert.equal(r.code, 0, `fetchmail exit ${r.code}:\n${r.log.slice(-3000)}`);
    assertFetchmailDelivered(out, messages);
    const tops = fetchmailCommands(r.log, /^TOP /);
    assert.equal(tops.length, messages.length, 'fetched with TOP n 99999999');
    assert.equal(g.inbox(ALICE_GMAIL.user).length, messages.length, 'keep: nothing moved');
  });

  it('a second run fetches nothing new (UIDL)', async () => {
    const r = await fetchmail(join(work, 'out'), join(work, 'ids'), true);
    assert.equal(r.code, 1, `fetchmail exit ${r.code} (1 = no mail):\n${r.log.slice(-2000)}`);
    assert.equal(deliveredFiles(join(work, 'out')).length, messages.length);
  });

  it('without keep, the inbox is empty afterwards and every message is in the trash', async () => {
    const out = join(work, 'out-nokeep');
    const r = await fetchmail(out, join(work, 'ids-nokeep'), false);
    assert.equal(r.code, 0, `fetchmail exit ${r.code}:\n${r.log.slice(-3000)}`);
    assert.equal(deliveredFiles(out).length, messages.length);
    assert.equal(g.inbox(ALICE_GMAIL.user).length, 0);
    assert.equal(g.messages(ALICE_GMAIL.user).filter((m) => m.labels.has('TRASH')).length, messages.length);
  });
});
