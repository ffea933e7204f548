/**
 * TLS from the gateway to the IMAP server: implicit (IMAPS) and STARTTLS with the test CA, and
 * every way it must refuse rather than fall back to plaintext (unknown CA, wrong name, a server
 * without STARTTLS); `tls: none` for a non-loopback host is a config error.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { parseConfig } from '../../src/config/loader.js';
import { ConfigError } from '../../src/errors.js';
import { cleanup, run, tempDir } from '../helpers/client-run.js';
import { startDovecot, type DovecotInstance } from '../helpers/dovecot.js';
import type { TestGateway } from '../helpers/gateway.js';
import { eventually, putMessages, startImapGateway, taggedMessage } from '../helpers/imap-harness.js';
import { expectedBody } from '../helpers/tx-util.js';
import { Pop3TestClient } from '../helpers/pop3-client.js';

const CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url));

/** Dovecot's log lines recording successful IMAP logins. */
function imapLogins(dovecot: DovecotInstance): string[] {
  return dovecot
    .logTail(100_000)
    .split('\n')
    .filter((l) => /imap-login: Info: Login: user=<alice>/.test(l));
}

describe('TLS to the IMAP server', () => {
  let dovecot: DovecotInstance;
  const gateways: TestGateway[] = [];
  const msg = taggedMessage('tls-1', 'Sent over TLS.\n');
  before(async () => {
    dovecot = await startDovecot({ protocols: ['imap'], tls: true });
    assert.ok(dovecot.imapsPort !== undefined && dovecot.caCertPath !== undefined);
    putMessages(dovecot, [msg]);
  });
  after(async () => {
    for (const g of gateways) await g.stop();
    await dovecot?.stop();
  });

  async function gatewayWith(tenant: Record<string, unknown>, port: number): Promise<TestGateway> {
    const gw = await startImapGateway(port, { tenant, limits: { authFailureDelayMs: 0 } });
    gateways.push(gw);
    return gw;
  }

  async function pass(gw: TestGateway): Promise<{ c: Pop3TestClient; answer: string }> {
    const c = await Pop3TestClient.connect(gw.port);
    await c.command('USER alice');
    return { c, answer: await c.command('PASS alicepass', 15_000) };
  }

  it("tls: 'implicit' to the IMAPS port with ca and servername 'localhost' logs in over TLS", async () => {
    const before = imapLogins(dovecot).length;
    const gw = await gatewayWith({ tls: 'implicit', ca: dovecot.caCertPath, servername: 'localhost' }, dovecot.imapsPort as number);
    const { c, answer } = await pass(gw);
    assert.equal(answer, '+OK Logged in.');
    const r = await c.multiline('RETR 1');
    assert.deepEqual(r.body, expectedBody(msg));
    assert.match(await c.quit(), /^\+OK/);
    const logins = await eventually(
      () => imapLogins(dovecot).slice(before),
      (l) => l.length === 1,
      'Dovecot to log the login',
    );
    assert.match(logins[0] as string, /, TLS,/, `the IMAP login was over TLS: ${logins[0]}`);
  });

  it("tls: 'starttls' on the plain IMAP port upgrades before logging in", async () => {
    const before = imapLogins(dovecot).length;
    const gw = await gatewayWith({ tls: 'starttls', ca: dovecot.caCertPath, servername: 'localhost' }, dovecot.imapPort);
    const { c, answer } = await pass(gw);
    assert.equal(answer, '+OK Logged in.');
    assert.match(await c.command('STAT'), /^\+OK 1 /);
    assert.match(await c.quit(), /^\+OK/);
    const logins = await eventually(
      () => imapLogins(dovecot).slice(before),
      (l) => l.length === 1,
      'Dovecot to log the login',
    );
    assert.match(logins[0] as string, /, TLS,/, `the IMAP login was over TLS: ${logins[0]}`);
  });

  it("host 'localhost' with only the ca (servername defaults to the host) works too", async () => {
    const gw = await startImapGateway(dovecot.imapsPort as number, {
      tenant: { host: 'localhost', tls: 'implicit', ca: dovecot.caCertPath },
      limits: { authFailureDelayMs: 0 },
    });
    gateways.push(gw);
    const { c, answer } = await pass(gw);
    assert.equal(answer, '+OK Logged in.');
    c.destroy();
  });

  for (const mode of ['implicit', 'starttls'] as const) {
    it(`tls: '${mode}' without the CA fails with [SYS/TEMP] and never sends the password`, async () => {
      const before = imapLogins(dovecot).length;
      const port = mode === 'implicit' ? (dovecot.imapsPort as number) : dovecot.imapPort;
      const gw = await gatewayWith({ tls: mode, servername: 'localhost' }, port);
      const { c, answer } = await pass(gw);
      assert.match(answer, /^-ERR \[SYS\/TEMP\] /);
      c.destroy();
      assert.equal(imapLogins(dovecot).length, before, 'no IMAP login happened');
    });
  }

  it('a certificate for another name (servername mismatch) fails with [SYS/TEMP]', async () => {
    const before = imapLogins(dovecot).length;
    const gw = await gatewayWith({ tls: 'implicit', ca: dovecot.caCertPath, servername: 'imap.example.com' }, dovecot.imapsPort as number);
    const { c, answer } = await pass(gw);
    assert.match(answer, /^-ERR \[SYS\/TEMP\] /);
    c.destroy();
    assert.equal(imapLogins(dovecot).length, before);
  });

  it("tls: 'starttls' against a server without STARTTLS fails with [SYS/TEMP] instead of logging in in plaintext", async () => {
    const plain = await startDovecot({ protocols: ['imap'] });
    try {
      const gw = await gatewayWith({ tls: 'starttls', ca: dovecot.caCertPath, servername: 'localhost' }, plain.imapPort);
      const { c, answer } = await pass(gw);
      assert.match(answer, /^-ERR \[SYS\/TEMP\] /);
      c.destroy();
      assert.equal(imapLogins(plain).length, 0, `no plaintext login: ${plain.logTail(10)}`);
    } finally {
      await plain.stop();
    }
  });
});

describe("tls: 'none' is for loopback IMAP hosts only", () => {
  const yaml = (host: string, tls: string): string =>
    ['listeners:', '  - port: 1110', 'tenants:', '  corp:', '    adapter: imap', `    host: ${host}`, `    tls: ${tls}`, ''].join('\n');

  it("a non-loopback host with tls: 'none' is a config error naming tenants.corp.tls", () => {
    for (const host of ['192.0.2.10', 'imap.example.com', '10.0.0.1']) {
      assert.throws(
        () => parseConfig(yaml(host, 'none'), '/'),
        (err: unknown) => err instanceof ConfigError && err.issues.some((i) => i.startsWith('tenants.corp.tls: ')),
        `host ${host}`,
      );
    }
  });

  it("loopback hosts may use tls: 'none'; other hosts may use implicit or starttls", () => {
    for (const host of ['127.0.0.1', 'localhost', '::1']) assert.doesNotThrow(() => parseConfig(yaml(host, 'none'), '/'), host);
    for (const tls of ['implicit', 'starttls']) assert.doesNotThrow(() => parseConfig(yaml('imap.example.com', tls), '/'), tls);
  });

  it("another host may use tls: 'none' only when the tenant says its network is private (plaintextBackendNetwork)", () => {
    const privateNet = yaml('dovecot', 'none') + '    plaintextBackendNetwork: true\n';
    assert.doesNotThrow(() => parseConfig(privateNet, '/'));
    assert.throws(() => parseConfig(yaml('dovecot', 'none') + '    plaintextBackendNetwork: false\n', '/'), ConfigError);
  });

  it("popgate check exits 2 with 'config error: tenants.corp.tls: ...'", async () => {
    const dir = tempDir('imap-tls-config');
    try {
      const path = join(dir, 'popgate.yaml');
      writeFileSync(path, yaml('192.0.2.10', 'none'));
      const env = { ...process.env };
      delete env.POPGATE_CONFIG;
      const r = await run(process.execPath, [CLI, 'check', '--config', path], { timeoutMs: 20_000, env });
      assert.equal(r.code, 2, `exit ${r.code}: ${r.stderr}`);
      assert.match(r.stderr, /^config error: tenants\.corp\.tls: /m);
    } finally {
      cleanup(dir);
    }
  });
});
