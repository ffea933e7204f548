/**
 * TLS listeners and STLS offer TLS 1.2 only with forward-secret AEAD ciphers (ECDHE with GCM or
 * ChaCha20) plus the TLS 1.3 suites; a `legacyTls: true` listener keeps Node's default list.
 * Checked with openssl s_client against an RSA certificate, with which static-RSA ciphers such
 * as AES128-SHA would otherwise be usable.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { run, type RunResult } from '../helpers/client-run.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import { requireProgram } from '../helpers/programs.js';
import { testRsaCert } from '../helpers/tls.js';

/** One handshake; `-starttls pop3` for STLS listeners. stdin closes at once, so s_client quits. */
function sClient(port: number, args: readonly string[], starttls = false): Promise<RunResult> {
  return run('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost', ...(starttls ? ['-starttls', 'pop3'] : []), ...args], {
    input: '',
    timeoutMs: 15_000,
  });
}

/** The cipher s_client reports as negotiated, or undefined when the handshake failed. */
function negotiated(r: RunResult): string | undefined {
  // `New, TLSv1.2, Cipher is X` (`New, (NONE), Cipher is (NONE)` when refused).
  const m = /^New, \S+, Cipher is (\S+)/m.exec(r.stdout);
  return m === null || m[1] === '(NONE)' ? undefined : m[1];
}

describe('TLS cipher suites', () => {
  let gw: TestGateway;
  let implicitPort: number;
  let starttlsPort: number;
  let legacyPort: number;
  before(async () => {
    requireProgram('openssl');
    const rsa = testRsaCert();
    gw = await startTestGateway({
      listeners: [{ tls: 'implicit' }, { tls: 'starttls' }, { tls: 'implicit', legacyTls: true }],
      config: { tls: { cert: rsa.certPath, key: rsa.keyPath } },
    });
    [implicitPort, starttlsPort, legacyPort] = gw.ports as [number, number, number];
  });
  after(async () => gw?.stop());

  for (const [what, starttls] of [
    ['implicit TLS', false],
    ['STLS', true],
  ] as const) {
    it(`${what}: TLS 1.2 with AES128-SHA (no forward secrecy) is refused`, async () => {
      const r = await sClient(starttls ? starttlsPort : implicitPort, ['-tls1_2', '-cipher', 'AES128-SHA'], starttls);
      assert.equal(negotiated(r), undefined, `negotiated ${negotiated(r)}: ${r.stdout.slice(0, 800)}`);
      assert.notEqual(r.code, 0);
    });

    it(`${what}: TLS 1.2 with ECDHE-RSA-AES128-GCM-SHA256 and ECDHE-RSA-CHACHA20-POLY1305 is accepted`, async () => {
      for (const cipher of ['ECDHE-RSA-AES128-GCM-SHA256', 'ECDHE-RSA-CHACHA20-POLY1305']) {
        const r = await sClient(starttls ? starttlsPort : implicitPort, ['-tls1_2', '-cipher', cipher], starttls);
        assert.equal(negotiated(r), cipher, `${r.stdout.slice(0, 800)} ${r.stderr}`);
      }
    });

    it(`${what}: TLS 1.2 ECDHE with CBC (ECDHE-RSA-AES128-SHA) is refused too`, async () => {
      const r = await sClient(starttls ? starttlsPort : implicitPort, ['-tls1_2', '-cipher', 'ECDHE-RSA-AES128-SHA'], starttls);
      assert.equal(negotiated(r), undefined, `negotiated ${negotiated(r)}`);
    });

    it(`${what}: TLS 1.3 still works`, async () => {
      const r = await sClient(starttls ? starttlsPort : implicitPort, ['-tls1_3'], starttls);
      assert.match(negotiated(r) ?? '', /^TLS_/, `${r.stdout.slice(0, 800)} ${r.stderr}`);
    });
  }

  it('the legacyTls listener keeps the default list: AES128-SHA is accepted there', async () => {
    const r = await sClient(legacyPort, ['-tls1_2', '-cipher', 'AES128-SHA']);
    assert.equal(negotiated(r), 'AES128-SHA', `${r.stdout.slice(0, 800)} ${r.stderr}`);
  });
});
