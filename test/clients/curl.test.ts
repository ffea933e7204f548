/**
 * curl (7.88) as a POP3 client. curl writes a RETR body to stdout exactly as received, with CRLF
 * line ends and the dot-stuffing undone; LIST, UIDL and TOP bodies likewise (CRLF lines).
 * It logs in with AUTH PLAIN when SASL PLAIN is offered, else APOP when the greeting carries a
 * timestamp, else USER/PASS.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ALICE, startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { messageFiles } from '../helpers/maildir.js';
import { requireProgram } from '../helpers/programs.js';
import { testCert } from '../helpers/tls.js';
import { firstDifference, smallCorpus, storeCorpus, wireBody, wireSize } from '../helpers/client-corpus.js';
import { run, type RunResult } from '../helpers/client-run.js';

const CURL_MAX_TIME = '15';

function curl(args: readonly string[]): Promise<RunResult> {
  return run('curl', ['-s', '-S', '--max-time', CURL_MAX_TIME, ...args], { timeoutMs: 20_000 });
}

function ok(r: RunResult, what: string): Buffer {
  assert.equal(r.code, 0, `${what}: curl exit ${r.code}: ${r.stderr}`);
  return r.out;
}

const auth = ['-u', `${ALICE.user}:${ALICE.password}`];

describe('curl, plain pop3://', () => {
  let gw: TestGateway;
  const messages = smallCorpus();
  before(async () => {
    requireProgram('curl');
    gw = await startTestGateway();
    storeCorpus(gw.maildir('alice'), messages);
  });
  after(() => gw?.stop());

  it('LIST prints every message number and its exact size', async () => {
    const out = ok(await curl([`pop3://127.0.0.1:${gw.port}/`, ...auth]), 'LIST');
    const expected = messages.map((m, i) => `${i + 1} ${wireSize(m.content)}\r\n`).join('');
    assert.equal(out.toString('latin1'), expected);
  });

  it('RETR n gives every message byte for byte (dot lines, lone dots, 8-bit, no final newline)', async () => {
    for (const [i, msg] of messages.entries()) {
      const out = ok(await curl([`pop3://127.0.0.1:${gw.port}/${i + 1}`, ...auth]), `RETR ${i + 1}`);
      const expected = wireBody(msg.content);
      assert.ok(out.equals(expected), `message ${msg.label}: ${firstDifference(out, expected)}`);
    }
    assert.equal(messageFiles(gw.maildir('alice')).length, messages.length, 'nothing deleted');
  });

  it('-X UIDL lists unique, stable ids', async () => {
    const a = ok(await curl([`pop3://127.0.0.1:${gw.port}/`, ...auth, '-X', 'UIDL']), 'UIDL').toString('latin1');
    const b = ok(await curl([`pop3://127.0.0.1:${gw.port}/`, ...auth, '-X', 'UIDL']), 'UIDL').toString('latin1');
    assert.equal(a, b, 'same UIDLs in two sessions');
    assert.ok(a.endsWith('\r\n'));
    const lines = a.slice(0, -2).split('\r\n');
    assert.equal(lines.length, messages.length);
    const ids = lines.map((l, i) => {
      const m = /^(\d+) ([\x21-\x7e]{1,70})$/.exec(l);
      assert.ok(m, `UIDL line ${JSON.stringify(l)}`);
      assert.equal(m[1], String(i + 1));
      return m[2];
    });
    assert.equal(new Set(ids).size, ids.length);
  });

  it("-X 'TOP 1 0' gives the header block and the empty line only", async () => {
    for (const n of [1, 2, 3]) {
      const out = ok(await curl([`pop3://127.0.0.1:${gw.port}/`, ...auth, '-X', `TOP ${n} 0`]), `TOP ${n} 0`);
      const full = wireBody((messages[n - 1] as { content: Buffer }).content);
      const end = full.indexOf('\r\n\r\n');
      assert.ok(end > 0);
      const expected = full.subarray(0, end + 4);
      assert.ok(out.equals(expected), `TOP ${n} 0: ${firstDifference(out, expected)}`);
    }
  });

  it('a wrong password fails with exit code 67 (login denied) and prints nothing', async () => {
    const r = await curl([`pop3://127.0.0.1:${gw.port}/`, '-u', `${ALICE.user}:wrong`]);
    assert.equal(r.code, 67, `curl exit ${r.code}: ${r.stderr}`);
    assert.equal(r.stdout, '');
  });

  it('--ssl-reqd against a listener without STLS fails instead of going on in plaintext', async () => {
    const r = await curl(['--ssl-reqd', '--cacert', testCert().certPath, `pop3://localhost:${gw.port}/`, ...auth]);
    assert.equal(r.code, 64, `curl exit ${r.code} (64 = CURLE_USE_SSL_FAILED): ${r.stderr}`);
    assert.equal(r.stdout, '');
  });
});

describe('curl over TLS (STLS and implicit)', () => {
  let gw: TestGateway;
  const messages = smallCorpus();
  before(async () => {
    requireProgram('curl');
    gw = await startTestGateway({
      listeners: [{ tls: 'starttls' }, { tls: 'implicit' }],
      config: { allowPlaintextAuth: 'tls-only', allowPlaintextAuthOnLoopback: false },
    });
    storeCorpus(gw.maildir('alice'), messages);
  });
  after(() => gw?.stop());

  it('--ssl-reqd pop3:// upgrades with STLS, verifies the certificate for localhost and fetches', async () => {
    const cacert = testCert().certPath;
    const list = ok(await curl(['--ssl-reqd', '--cacert', cacert, `pop3://localhost:${gw.ports[0]}/`, ...auth]), 'LIST over STLS');
    assert.equal(list.toString('latin1'), messages.map((m, i) => `${i + 1} ${wireSize(m.content)}\r\n`).join(''));
    const retr = ok(await curl(['--ssl-reqd', '--cacert', cacert, `pop3://localhost:${gw.ports[0]}/3`, ...auth]), 'RETR 3 over STLS');
    const expected = wireBody((messages[2] as { content: Buffer }).content);
    assert.ok(retr.equals(expected), firstDifference(retr, expected));
    assert.ok(
      gw.logs.some((l) => (JSON.parse(l) as { msg?: string }).msg === 'STLS done'),
      'the gateway logged the STLS upgrade',
    );
  });

  it('pop3s:// to the implicit TLS listener with --cacert and localhost fetches', async () => {
    const cacert = testCert().certPath;
    const list = ok(await curl(['--cacert', cacert, `pop3s://localhost:${gw.ports[1]}/`, ...auth]), 'LIST over pop3s');
    assert.equal(list.toString('latin1'), messages.map((m, i) => `${i + 1} ${wireSize(m.content)}\r\n`).join(''));
    for (const n of [1, messages.length]) {
      const retr = ok(await curl(['--cacert', cacert, `pop3s://localhost:${gw.ports[1]}/${n}`, ...auth]), `RETR ${n} over pop3s`);
      const expected = wireBody((messages[n - 1] as { content: Buffer }).content);
      assert.ok(retr.equals(expected), firstDifference(retr, expected));
    }
  });

  it('pop3s:// refuses a certificate it cannot verify (no --cacert)', async () => {
    const r = await curl([`pop3s://localhost:${gw.ports[1]}/`, ...auth]);
    assert.equal(r.code, 60, `curl exit ${r.code} (60 = peer certificate cannot be authenticated): ${r.stderr}`);
    assert.equal(r.stdout, '');
  });
});

describe('curl and APOP', () => {
  let gw: TestGateway;
  const messages = smallCorpus().slice(0, 3);
  const secret = 'apop-shared-secret';
  before(async () => {
    requireProgram('curl');
    // No SASL mechanisms: curl then chooses between APOP (greeting timestamp) and USER/PASS.
    gw = await startTestGateway({
      users: { alice: { password: ALICE.password, secret } },
      config: { auth: { apop: true, mechanisms: [] } },
    });
    storeCorpus(gw.maildir('alice'), messages);
  });
  after(() => gw?.stop());

  interface LogLine {
    msg?: string;
    method?: string;
    outcome?: string;
    login?: string;
  }
  const loginLogs = (): LogLine[] => gw.logs.map((l) => JSON.parse(l) as LogLine).filter((l) => l.method !== undefined);

  it('logs in with APOP when the greeting has a timestamp (verified in the gateway log)', async () => {
    const before = loginLogs().length;
    const out = ok(await curl([`pop3://127.0.0.1:${gw.port}/2`, '-u', `alice:${secret}`]), 'RETR 2 via APOP');
    const expected = wireBody((messages[1] as { content: Buffer }).content);
    assert.ok(out.equals(expected), firstDifference(out, expected));
    const logins = loginLogs().slice(before);
    assert.deepEqual(
      logins.map((l) => [l.method, l.outcome, l.login]),
      [['apop', 'ok', 'alice']],
      `login log lines: ${JSON.stringify(logins)}`,
    );
  });

  it('APOP with a wrong secret is refused (exit 67) and logged as a failed APOP login', async () => {
    const before = loginLogs().length;
    const r = await curl([`pop3://127.0.0.1:${gw.port}/`, '-u', 'alice:not-the-secret']);
    assert.equal(r.code, 67, `curl exit ${r.code}: ${r.stderr}`);
    const logins = loginLogs().slice(before);
    assert.deepEqual(
      logins.map((l) => [l.method, l.outcome]),
      [['apop', 'auth-failed']],
      JSON.stringify(logins),
    );
  });
});
