/**
 * Python's stdlib poplib against popgate: plain, STLS and implicit TLS (POP3_SSL).
 *
 * What poplib does to a message: RETR returns the lines with their CRLF removed and dot-stuffing
 * undone ("..x" -> ".x"); its octet count is the un-stuffed size including CRLFs. So joining the
 * lines with CRLF after each must give back exactly what the server must send: the stored
 * message with bare LF turned into CRLF, plus a CRLF if the message had no final line end.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ALICE, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { messageFiles } from '../helpers/maildir.js';
import { requireProgram } from '../helpers/programs.js';
import { corpus, smallCorpus, storeCorpus } from '../helpers/client-corpus.js';
import { cleanup, tempDir } from '../helpers/client-run.js';
import { assertPoplibFetchedExactly, runPoplib, type PoplibReport } from '../helpers/poplib-run.js';

/** poplib with alice's login, plain, STLS or implicit TLS. */
function poplib(opts: { port: number; host?: string; mode?: 'plain' | 'stls' | 'ssl'; outdir: string }): Promise<PoplibReport> {
  return runPoplib({ ...opts, user: ALICE.user, password: ALICE.password });
}

const assertFetchedExactly = assertPoplibFetchedExactly;

function assertUidls(report: PoplibReport, count: number): void {
  assert.equal(report.uidl.length, count);
  report.uidl.forEach(([n, uid], i) => {
    assert.equal(n, String(i + 1));
    assert.match(uid, /^[\x21-\x7e]{1,70}$/, `UIDL ${n} must be 1-70 printable octets`);
  });
  assert.equal(new Set(report.uidl.map(([, u]) => u)).size, count, 'UIDLs are unique');
}

describe('Python poplib, plain POP3', () => {
  let gw: TestGateway;
  let work: string;
  const messages = corpus();
  before(async () => {
    requireProgram('python3');
    gw = await startTestGateway();
    storeCorpus(gw.maildir('alice'), messages);
    work = tempDir('poplib');
  });
  after(async () => {
    await gw?.stop();
    cleanup(work);
  });

  it('logs in, STATs, LISTs, UIDLs and RETRs every message byte for byte', async () => {
    const out = join(work, 'run1');
    const report = await poplib({ port: gw.port, outdir: out });
    assert.match(report.greeting, /^\+OK/);
    assert.ok(report.capa_before.includes('PIPELINING') && report.capa_before.includes('UIDL') && report.capa_before.includes('TOP'));
    assert.equal(report.pass, '+OK Logged in.');
    assertFetchedExactly(report, out, messages);
    assertUidls(report, messages.length);
    assert.equal(messageFiles(gw.maildir('alice')).length, messages.length, 'RETR and QUIT delete nothing');
  });

  it('gives the same UIDLs and the same bytes in a second session', async () => {
    const first = await poplib({ port: gw.port, outdir: join(work, 'a') });
    const second = await poplib({ port: gw.port, outdir: join(work, 'b') });
    assert.deepEqual(second.uidl, first.uidl);
    assertFetchedExactly(second, join(work, 'b'), messages);
  });
});

describe('Python poplib over STLS and POP3_SSL', () => {
  let gw: TestGateway;
  let work: string;
  const messages = smallCorpus();
  before(async () => {
    requireProgram('python3');
    gw = await startTestGateway({
      listeners: [{ tls: 'starttls' }, { tls: 'implicit' }],
      config: { allowPlaintextAuth: 'tls-only', allowPlaintextAuthOnLoopback: false },
    });
    storeCorpus(gw.maildir('alice'), messages);
    work = tempDir('poplib-tls');
  });
  after(async () => {
    await gw?.stop();
    cleanup(work);
  });

  it('upgrades with STLS (certificate checked for localhost), then logs in and fetches everything', async () => {
    const out = join(work, 'stls');
    const report = await poplib({ port: gw.ports[0] as number, host: 'localhost', mode: 'stls', outdir: out });
    assert.ok(report.capa_before.includes('STLS'), `CAPA before TLS offers STLS: ${report.capa_before.join(' ')}`);
    assert.ok(!report.capa_before.includes('USER'), 'CAPA before TLS must not offer USER when plaintext is tls-only');
    assert.match(report.user_before_tls ?? '', /^-ERR/, 'USER before STLS is refused');
    assert.match(report.stls ?? '', /^\+OK/);
    assert.match(report.cipher ?? '', /^TLSv1\.[23]$/);
    assert.ok(!(report.capa_after ?? []).includes('STLS'), 'no STLS after TLS is active');
    assert.ok((report.capa_after ?? []).includes('USER'), 'USER offered under TLS');
    assertFetchedExactly(report, out, messages);
    assertUidls(report, messages.length);
  });

  it('fetches everything with POP3_SSL on the implicit TLS listener', async () => {
    const out = join(work, 'ssl');
    const report = await poplib({ port: gw.ports[1] as number, host: 'localhost', mode: 'ssl', outdir: out });
    assert.match(report.cipher ?? '', /^TLSv1\.[23]$/);
    assert.ok(!report.capa_before.includes('STLS'), 'no STLS on an implicit TLS listener');
    assertFetchedExactly(report, out, messages);
    assert.equal(readdirSync(out).length, messages.length);
  });
});
