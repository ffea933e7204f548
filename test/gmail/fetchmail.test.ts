/**
 * fetchmail (6.4) downloads a whole Gmail mailbox (the stand-in) through popgate: the shared
 * client corpus, each delivered message compared byte for byte with what fetchmail must hand
 * its MDA (its Received line, CRLF -> LF, a blank line after a header-only message; see
 * test/clients/fetchmail.test.ts). With `uidl` it fetches with `TOP n 99999999`, which the
 * adapter streams from the decoded `raw` field. A second run fetches nothing (UIDL); a run
 * without `keep` moves everything to the trash (deleteMode trash).
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { corpus, deliveredFiles, firstDifference, lfBody } from '../helpers/client-corpus.js';
import { cleanup, numberingMda, run, tempDir } from '../helpers/client-run.js';
import type { TestGateway } from '../helpers/gateway.js';
import { ALICE_GMAIL, startGmailGateway } from '../helpers/gmail-gateway.js';
import { startGmailStandin, type GmailStandin } from '../helpers/gmail-standin.js';
import { requireProgram } from '../helpers/programs.js';

const RECEIVED = /^Received: from [^\n]*\n\tby [^\n]* with POP3 \(fetchmail-[0-9.]+\)\n\tfor <[^\n]*> \(single-drop\); [^\n]*\n/;

function fetchmailExpected(content: Buffer): Buffer {
  const lf = lfBody(content);
  return lf.indexOf('\n\n') < 0 ? Buffer.concat([lf, Buffer.from('\n')]) : lf;
}

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

  async function fetchmail(outDir: string, idsFile: string, keep: boolean): Promise<{ code: number | null; log: string }> {
    const dir = join(work, `run${++runs}`);
    const home = join(dir, 'home');
    mkdirSync(home, { recursive: true });
    const rc = join(dir, 'fetchmailrc');
    writeFileSync(
      rc,
      'set no bouncemail\n' +
        `poll 127.0.0.1 protocol pop3 port ${gw.port} uidl\n` +
        `  user "${ALICE_GMAIL.user}" password "${ALICE_GMAIL.password}" is "${userInfo().username}" here\n` +
        `  ${keep ? 'keep' : 'no keep'} sslproto '' mda "${numberingMda(dir, outDir)}"\n`,
    );
    chmodSync(rc, 0o600);
    const r = await run('fetchmail', ['-f', rc, '-v', '--nodetach', '-i', idsFile], {
      timeoutMs: 120_000,
      env: { ...process.env, HOME: home, FETCHMAILHOME: home },
      cwd: dir,
    });
    return { code: r.code, log: r.stdout + r.stderr };
  }

  it("every message arrives byte for byte (after fetchmail's documented changes)", async () => {
    const out = join(work, 'out');
    const r = await fetchmail(out, join(work, 'ids'), true);
    assert.equal(r.code, 0, `fetchmail exit ${r.code}:\n${r.log.slice(-3000)}`);
    const files = deliveredFiles(out);
    assert.equal(files.length, messages.length, `delivered ${files.length} of ${messages.length}`);
    messages.forEach((msg, i) => {
      const raw = (files[i] as { content: Buffer }).content.toString('latin1');
      const received = RECEIVED.exec(raw);
      assert.ok(received, `${msg.label}: starts with fetchmail's Received line: ${JSON.stringify(raw.slice(0, 200))}`);
      const got = Buffer.from(raw.slice(received[0].length), 'latin1');
      const expected = fetchmailExpected(msg.content);
      assert.ok(got.equals(expected), `${msg.label}: ${firstDifference(got, expected)}`);
    });
    const tops = r.log.split('\n').filter((l) => /^fetchmail: POP3> TOP /.test(l));
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
