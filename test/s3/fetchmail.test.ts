/**
 * fetchmail (6.4) downloads a whole bucket prefix through popgate: the shared client corpus
 * (LF and CRLF objects, dot lines, 8-bit text, no final newline, a 2 MB message, headers only,
 * ...) stored one object per message. Each delivered message is compared byte for byte with
 * what fetchmail must hand its MDA (see test/clients/fetchmail.test.ts for the three documented
 * changes: its Received line, CRLF -> LF, a blank line after a header-only message). With
 * `uidl` it fetches with `TOP n 99999999`, which the S3 adapter serves by range reads.
 * A second run fetches nothing (UIDL); a run without `keep` empties the prefix.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { corpus, deliveredFiles } from '../helpers/client-corpus.js';
import { cleanup, tempDir } from '../helpers/client-run.js';
import { assertFetchmailDelivered, fetchmailCommands, runFetchmail } from '../helpers/fetchmail-run.js';
import type { TestGateway } from '../helpers/gateway.js';
import { requireProgram } from '../helpers/programs.js';
import { ALICE_PREFIX, startS3Gateway } from '../helpers/s3-gateway.js';
import { startS3rver, type S3rver } from '../helpers/s3rver.js';

describe('fetchmail downloads a whole S3 mailbox', () => {
  let s3: S3rver;
  let gw: TestGateway;
  let work: string;
  let runs = 0;
  const messages = corpus();
  /** Keys sort in corpus order; puts are sequential, so LastModified agrees. */
  const keyOf = (i: number): string => `${ALICE_PREFIX}${String(i + 1).padStart(3, '0')} corpus message`;

  before(async () => {
    requireProgram('fetchmail');
    s3 = await startS3rver();
    for (const [i, m] of messages.entries()) await s3.put(keyOf(i), m.content);
    gw = await startS3Gateway(s3.endpoint);
    work = tempDir('s3-fetchmail');
  });
  after(async () => {
    await gw?.stop();
    await s3?.stop();
    cleanup(work);
  });

  function fetchmail(outDir: string, idsFile: string, keep: boolean): Promise<{ code: number | null; log: string }> {
    return runFetchmail({ dir: join(work, `run${++runs}`), port: gw.port, user: 'alice', password: 'alicepass', outDir, idsFile, keep });
  }

  it("every message arrives byte for byte (after fetchmail's documented changes)", async () => {
    const out = join(work, 'out');
    const r = await fetchmail(out, join(work, 'ids'), true);
    assert.equal(r.code, 0, `fetchmail exit ${r.code}:\n${r.log.slice(-3000)}`);
    assertFetchmailDelivered(out, messages);
    const tops = fetchmailCommands(r.log, /^TOP /);
    assert.equal(tops.length, messages.length, 'fetched with TOP n 99999999');
    assert.equal((await s3.list(ALICE_PREFIX)).length, messages.length, 'keep: nothing deleted');
  });

  it('a second run fetches nothing new (UIDL)', async () => {
    const r = await fetchmail(join(work, 'out'), join(work, 'ids'), true);
    assert.equal(r.code, 1, `fetchmail exit ${r.code} (1 = no mail):\n${r.log.slice(-2000)}`);
    assert.equal(deliveredFiles(join(work, 'out')).length, messages.length);
  });

  it('without keep, the prefix is empty afterwards', async () => {
    const out = join(work, 'out-nokeep');
    const r = await fetchmail(out, join(work, 'ids-nokeep'), false);
    assert.equal(r.code, 0, `fetchmail exit ${r.code}:\n${r.log.slice(-3000)}`);
    assert.equal(deliveredFiles(out).length, messages.length);
    assert.deepEqual(await s3.list(ALICE_PREFIX), []);
  });
});
