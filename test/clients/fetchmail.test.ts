/**
 * fetchmail (6.4) as a POP3 client, delivering through an MDA that writes each message to its
 * own file.
 *
 * What fetchmail's MDA receives, found out here and asserted exactly (everything else must be
 * byte-identical to the stored message):
 *  1. One Received header field is prepended ("Received: from HOST [IP]\n\tby ... with POP3
 *     (fetchmail-VERSION)\n\tfor <...> (single-drop); DATE\n"). Documented: fetchmail "generates
 *     a Received header into each message" unless `invisible` is set. It is checked and stripped.
 *  2. CRLF becomes LF. Documented: `stripcr` "defaults to 'on' ... when there is an MDA declared".
 *  3. A message whose header block is not ended by an empty line (headers only) gets that empty
 *     line: fetchmail writes header and body separately and always ends the header with "\n".
 *     (Observed, not documented.)
 * Not triggered here: `rewrite` (default on) only touches unqualified addresses, and every
 * address in the corpus is qualified; empty Status: lines (dropped unconditionally) are not in
 * the corpus; a non-empty `Status: RO` is kept (the default `no dropstatus`) and checked.
 *
 * fetchmail 6.4 makes TLS mandatory by default (`sslcertck` is the default), so the plain runs
 * say `sslproto ''`. With `uidl` it fetches with `TOP n 99999999`; without it, it asks `LAST`.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { messageFiles } from '../helpers/maildir.js';
import { requireProgram } from '../helpers/programs.js';
import { corpus, deliveredFiles, smallCorpus, storeCorpus } from '../helpers/client-corpus.js';
import { cleanup, tempDir } from '../helpers/client-run.js';
import { assertFetchmailDelivered, fetchmailCommands, runFetchmail, type FetchmailRun } from '../helpers/fetchmail-run.js';

const USERS = { alice: { password: 'alicepass' }, bob: { password: 'bobpass' } };
let runs = 0;

interface ClientRun extends Omit<FetchmailRun, 'dir' | 'password' | 'user' | 'host'> {
  host: string;
  user: keyof typeof USERS;
}

function fetchmail(work: string, o: ClientRun): Promise<{ code: number | null; log: string }> {
  runs++;
  return runFetchmail({ ...o, dir: join(work, `run${runs}`), password: USERS[o.user].password, timeoutMs: 60_000 });
}

const assertDelivered = assertFetchmailDelivered;
const sent = fetchmailCommands;

/** The reply logged right after the first line that sent `command`. */
function replyTo(log: string, command: string): string | undefined {
  const lines = log.split('\n');
  const i = lines.indexOf(`fetchmail: POP3> ${command}`);
  return i < 0 ? undefined : /^fetchmail: POP3< (.*)$/.exec(lines[i + 1] ?? '')?.[1];
}

interface LogLine {
  msg?: string;
  command?: string;
  outcome?: string;
  deleted?: number;
}
const parsed = (gw: TestGateway, from = 0): LogLine[] => gw.logs.slice(from).map((l) => JSON.parse(l) as LogLine);

describe('fetchmail, plain POP3', () => {
  let gw: TestGateway;
  let work: string;
  const messages = corpus();
  before(async () => {
    requireProgram('fetchmail');
    gw = await startTestGateway({ users: USERS });
    storeCorpus(gw.maildir('alice'), messages);
    work = tempDir('fetchmail');
  });
  after(async () => {
    await gw?.stop();
    cleanup(work);
  });

  it('downloads a whole Maildir of varied messages (keep, uidl); each one is exact after the documented changes', async () => {
    const out = join(work, 'keep');
    const logsBefore = gw.logs.length;
    const r = await fetchmail(work, {
      host: '127.0.0.1',
      port: gw.port,
      user: 'alice',
      outDir: out,
      idsFile: join(work, 'ids'),
      keep: true,
      uidl: true,
      tls: 'plain',
    });
    assert.equal(r.code, 0, `fetchmail exit ${r.code}:\n${r.log.slice(-3000)}`);
    assertDelivered(out, messages);
    // With uidl, fetchmail fetches every message with TOP n 99999999 ("all of it").
    const tops = sent(r.log, /^TOP /);
    assert.deepEqual(
      tops,
      messages.map((_, i) => `TOP ${i + 1} 99999999`),
    );
    assert.equal(replyTo(r.log, 'TOP 1 99999999'), '+OK Top of message follows.');
    const topCommands = parsed(gw, logsBefore).filter((l) => l.msg === 'command' && l.command === 'TOP');
    assert.equal(topCommands.length, messages.length, 'the gateway served one TOP per message');
    assert.equal(messageFiles(gw.maildir('alice')).length, messages.length, 'keep: nothing deleted');
  });

  it('a second run with the same ids file fetches nothing new (UIDL)', async () => {
    const out = join(work, 'keep');
    const r = await fetchmail(work, {
      host: '127.0.0.1',
      port: gw.port,
      user: 'alice',
      outDir: out,
      idsFile: join(work, 'ids'),
      keep: true,
      uidl: true,
      tls: 'plain',
    });
    assert.equal(r.code, 1, `fetchmail exit ${r.code} (1 = no mail):\n${r.log.slice(-3000)}`);
    assert.match(r.log, new RegExp(`${messages.length} messages \\(${messages.length} seen\\) for alice`));
    assert.deepEqual(sent(r.log, /^(TOP|RETR) /), [], 'nothing fetched');
    assert.equal(deliveredFiles(out).length, messages.length, 'no new deliveries');
  });

  it('without uidl it asks LAST (answered +OK 0), fetches with TOP n 99999999 and deletes at QUIT (no keep)', async () => {
    const bobMessages = smallCorpus();
    storeCorpus(gw.maildir('bob'), bobMessages);
    const out = join(work, 'bob');
    const logsBefore = gw.logs.length;
    const r = await fetchmail(work, {
      host: '127.0.0.1',
      port: gw.port,
      user: 'bob',
      outDir: out,
      idsFile: join(work, 'ids-bob'),
      keep: false,
      uidl: false,
      tls: 'plain',
    });
    assert.equal(r.code, 0, `fetchmail exit ${r.code}:\n${r.log.slice(-3000)}`);
    assert.deepEqual(sent(r.log, /^LAST$/), ['LAST']);
    assert.equal(replyTo(r.log, 'LAST'), '+OK 0');
    assert.deepEqual(
      sent(r.log, /^(TOP|RETR) /),
      bobMessages.map((_, i) => `TOP ${i + 1} 99999999`),
    );
    assert.deepEqual(
      sent(r.log, /^DELE /),
      bobMessages.map((_, i) => `DELE ${i + 1}`),
    );
    assertDelivered(out, bobMessages);
    assert.deepEqual(messageFiles(gw.maildir('bob')), [], 'deleted at QUIT');
    const quit = parsed(gw, logsBefore).find((l) => l.outcome === 'quit');
    assert.equal(quit?.deleted, bobMessages.length);
    assert.equal(messageFiles(gw.maildir('alice')).length, messages.length, 'alice untouched');
  });
});

describe('fetchmail over STLS', () => {
  let gw: TestGateway;
  let work: string;
  const messages = smallCorpus();
  before(async () => {
    requireProgram('fetchmail');
    gw = await startTestGateway({
      users: USERS,
      listeners: [{ tls: 'starttls' }],
      config: { allowPlaintextAuth: 'tls-only', allowPlaintextAuthOnLoopback: false },
    });
    storeCorpus(gw.maildir('alice'), messages);
    work = tempDir('fetchmail-tls');
  });
  after(async () => {
    await gw?.stop();
    cleanup(work);
  });

  it('upgrades with STLS, checks the certificate (sslcertck + sslcertfile) and downloads everything', async () => {
    const out = join(work, 'tls');
    const r = await fetchmail(work, {
      host: 'localhost',
      port: gw.port,
      user: 'alice',
      outDir: out,
      idsFile: join(work, 'ids'),
      keep: true,
      uidl: true,
      tls: 'verified',
    });
    assert.equal(r.code, 0, `fetchmail exit ${r.code}:\n${r.log.slice(-3000)}`);
    assert.match(r.log, /upgrade to TLS succeeded/);
    assert.deepEqual(sent(r.log, /^STLS$/), ['STLS']);
    assertDelivered(out, messages);
  });

  it('stops before logging in when it cannot verify the certificate (sslcertck without the CA)', async () => {
    const out = join(work, 'untrusted');
    const logsBefore = gw.logs.length;
    const r = await fetchmail(work, {
      host: 'localhost',
      port: gw.port,
      user: 'alice',
      outDir: out,
      idsFile: join(work, 'ids-untrusted'),
      keep: true,
      uidl: true,
      tls: 'unverified',
    });
    assert.equal(r.code, 2, `fetchmail exit ${r.code} (2 = socket/TLS error):\n${r.log.slice(-3000)}`);
    assert.match(r.log, /certificate verify failed|verification error/);
    assert.deepEqual(sent(r.log, /^(USER|PASS|AUTH)/), [], 'no credentials sent');
    assert.equal(deliveredFiles(out).length, 0);
    assert.equal(parsed(gw, logsBefore).filter((l) => l.msg === 'login').length, 0, 'no login on the gateway');
  });
});
