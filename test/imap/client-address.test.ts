/**
 * The IMAP adapter tells Dovecot who the POP3 client is (IMAP ID x-originating-ip,
 * x-originating-port, x-session-ext-id before login). Dovecot honours them for a gateway in its
 * `login_trusted_networks`, so its log and its own brute-force protection see the client, also
 * end to end behind HAProxy's PROXY header; with `forwardClientAddress: false` it sees the gateway.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { startDovecot, type DovecotInstance } from '../helpers/dovecot.js';
import { startHaproxy, type HaproxyInstance } from '../helpers/haproxy.js';
import { startImapGateway } from '../helpers/imap-harness.js';
import type { TestGateway } from '../helpers/gateway.js';
import { Pop3TestClient } from '../helpers/pop3-client.js';

/** Dovecot's imap-login lines for this user, once `count` of them are in its log. */
async function loginLines(dovecot: DovecotInstance, match: RegExp, count = 1): Promise<string[]> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const lines = readFileSync(dovecot.logPath, 'utf8')
      .split('\n')
      .filter((l) => l.includes('imap-login:') && match.test(l));
    if (lines.length >= count) return lines;
    if (Date.now() > deadline) throw new Error(`no Dovecot log line matching ${match}:\n${dovecot.logTail(20)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function sessionIdOf(gw: TestGateway, peer: string): string {
  const line = gw.logs.map((l) => JSON.parse(l) as { msg: string; peer?: string; session?: string }).find((l) => l.msg === 'connect' && l.peer === peer);
  assert.ok(line?.session !== undefined, `popgate logged a session for ${peer}`);
  return line.session;
}

describe('IMAP ID: the POP3 client address reaches Dovecot', () => {
  let dovecot: DovecotInstance;
  let gw: TestGateway;
  let quiet: TestGateway;
  let haproxy: HaproxyInstance;

  before(async () => {
    dovecot = await startDovecot({
      protocols: ['imap'],
      // Dovecot's default format plus the remote port.
      extraConfig: [
        'login_trusted_networks = 127.0.0.1/32',
        'login_log_format_elements = user=<%u> method=%m rip=%r rport=%{rport} lip=%l mpid=%e %c session=<%{session}>',
      ].join('\n'),
    });
    gw = await startImapGateway(dovecot.imapPort, {
      listeners: [{ tls: 'none' }, { tls: 'none', proxyProtocol: { trusted: ['127.0.0.1'] } }],
    });
    quiet = await startImapGateway(dovecot.imapPort, { tenant: { forwardClientAddress: false } });
    haproxy = await startHaproxy([{ port: gw.ports[1] as number, server: 'send-proxy-v2' }]);
  });

  after(async () => {
    await haproxy?.stop();
    await quiet?.stop();
    await gw?.stop();
    await dovecot?.stop();
  });

  it("a client at 127.0.0.5 logs in through popgate; Dovecot logs rip=127.0.0.5, the client's port and popgate's session id", async () => {
    const c = await Pop3TestClient.connect(gw.port, { localAddress: '127.0.0.5' });
    const port = c.socket.localPort;
    await c.login('alice', 'alicepass');
    await c.quit();
    const session = sessionIdOf(gw, '127.0.0.5');
    const [line] = await loginLines(dovecot, /rip=127\.0\.0\.5,/);
    assert.match(line ?? '', /Login: user=<alice>/);
    assert.ok(line?.includes(`rport=${String(port)},`), `rport is the client's port ${String(port)}: ${line}`);
    assert.ok(line?.includes(`session=<${session}`), `Dovecot's session is popgate's ${session}: ${line}`);
  });

  it('a failed login is charged to the client address in Dovecot, not to the gateway', async () => {
    const c = await Pop3TestClient.connect(gw.port, { localAddress: '127.0.0.6' });
    assert.equal(await c.command('USER alice'), '+OK');
    assert.equal(await c.command('PASS wrong'), '-ERR [AUTH] Authentication failed.');
    await c.quit();
    const [line] = await loginLines(dovecot, /rip=127\.0\.0\.6,/);
    assert.match(line ?? '', /auth failed/);
  });

  it('end to end: client 127.0.0.7 -> HAProxy (PROXY v2) -> popgate -> Dovecot, which logs rip=127.0.0.7', async () => {
    const c = await Pop3TestClient.connect(haproxy.ports[0] as number, { localAddress: '127.0.0.7' });
    await c.login('alice', 'alicepass');
    await c.quit();
    const [line] = await loginLines(dovecot, /rip=127\.0\.0\.7,/);
    assert.match(line ?? '', /Login: user=<alice>/);
  });

  it('forwardClientAddress: false: Dovecot sees only the gateway (rip=127.0.0.1)', async () => {
    const before = (await loginLines(dovecot, /rip=127\.0\.0\.1,/, 0)).length;
    const c = await Pop3TestClient.connect(quiet.port, { localAddress: '127.0.0.8' });
    await c.login('alice', 'alicepass');
    await c.quit();
    const lines = await loginLines(dovecot, /rip=127\.0\.0\.1,/, before + 1);
    assert.match(lines.at(-1) ?? '', /Login: user=<alice>/);
    assert.ok(!readFileSync(dovecot.logPath, 'utf8').includes('rip=127.0.0.8'), 'the client address did not reach Dovecot');
  });
});
