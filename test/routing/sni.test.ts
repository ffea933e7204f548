/**
 * TLS SNI with real clients (openssl s_client, curl): each tenant's certificate is served to the
 * names it holds, and an SNI name picks the tenant for a login without a host part.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { run } from '../helpers/client-run.js';
import { requireProgram } from '../helpers/programs.js';
import { startMultiTenantGateway, type MultiTenantGateway } from '../helpers/tenants.js';
import { certFor, testCert, type TestCert } from '../helpers/tls.js';

describe('SNI: certificates and tenants chosen by TLS server name', () => {
  let gw: MultiTenantGateway;
  let alpha: TestCert;
  let beta: TestCert;
  let implicitPort: number;
  let stlsPort: number;

  before(async () => {
    requireProgram('curl');
    requireProgram('openssl');
    alpha = certFor(['pop.alpha.test', 'alpha.test']);
    beta = certFor(['mail.beta.test']);
    gw = await startMultiTenantGateway({
      defaultTenant: 'home',
      listeners: [{ tls: 'implicit' }, { tls: 'starttls' }],
      maildir: {
        home: { users: { alice: 'pw' } },
        // serverNames default to the certificate's DNS names.
        alpha: { users: { alice: 'pw' }, settings: { domains: ['alpha.test'], certificate: { cert: alpha.certPath, key: alpha.keyPath } } },
        beta: {
          users: { alice: 'pw' },
          settings: { domains: ['beta.test'], certificate: { cert: beta.certPath, key: beta.keyPath, serverNames: ['mail.beta.test'] } },
        },
      },
    });
    [implicitPort, stlsPort] = gw.ports as [number, number];
    for (const t of ['home', 'alpha', 'beta']) gw.deliverTagged(t, 'alice');
  });
  after(async () => {
    await gw?.stop();
  });

  async function certificateSubject(serverName: string | undefined): Promise<string> {
    const args = ['s_client', '-connect', `127.0.0.1:${implicitPort}`, ...(serverName === undefined ? ['-noservername'] : ['-servername', serverName])];
    const r = await run('openssl', args, { timeoutMs: 15_000, input: '' });
    const subject = /^subject=(.*)$/m.exec(r.stdout)?.[1];
    assert.ok(subject !== undefined, `no subject in s_client output: ${r.stdout.slice(0, 500)} ${r.stderr}`);
    return subject.replace(/\s/g, '');
  }

  it('openssl s_client -servername gets the tenant certificate holding that name; other names and no SNI get the default', async () => {
    assert.equal(await certificateSubject('pop.alpha.test'), 'CN=pop.alpha.test');
    assert.equal(await certificateSubject('ALPHA.test'), 'CN=pop.alpha.test', 'names compare case-insensitively');
    assert.equal(await certificateSubject('mail.beta.test'), 'CN=mail.beta.test');
    assert.equal(await certificateSubject('other.test'), 'CN=localhost');
    assert.equal(await certificateSubject(undefined), 'CN=localhost');
  });

  async function curlRetr(url: string, host: string, port: number, ca: TestCert, user: string, extra: string[] = []): Promise<string> {
    const r = await run(
      'curl',
      ['-s', '-S', '--max-time', '15', '--resolve', `${host}:${port}:127.0.0.1`, '--cacert', ca.certPath, '-u', `${user}:pw`, ...extra, url],
      {
        timeoutMs: 20_000,
      },
    );
    assert.equal(r.code, 0, `curl ${url}: exit ${r.code}: ${r.stderr}`);
    return r.stdout;
  }

  it('curl pop3s://pop.alpha.test verifies the alpha certificate, and the login alice reaches alpha (SNI picked the tenant)', async () => {
    const body = await curlRetr(`pop3s://pop.alpha.test:${implicitPort}/1`, 'pop.alpha.test', implicitPort, alpha, 'alice');
    assert.match(body, /Subject: for alice in alpha/);
  });

  it('STLS carries SNI too: curl --ssl-reqd pop3://mail.beta.test gets the beta certificate and the beta mailbox', async () => {
    const body = await curlRetr(`pop3://mail.beta.test:${stlsPort}/1`, 'mail.beta.test', stlsPort, beta, 'alice', ['--ssl-reqd']);
    assert.match(body, /Subject: for alice in beta/);
  });

  it('a host part in the login wins over SNI; without SNI (an address) alice is the default tenant user', async () => {
    const viaDomain = await curlRetr(`pop3s://pop.alpha.test:${implicitPort}/1`, 'pop.alpha.test', implicitPort, alpha, 'alice@beta.test');
    assert.match(viaDomain, /Subject: for alice in beta/);
    const r = await run('curl', ['-s', '-S', '--max-time', '15', '--cacert', testCert().certPath, '-u', 'alice:pw', `pop3s://127.0.0.1:${implicitPort}/1`], {
      timeoutMs: 20_000,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Subject: for alice in home/);
  });

  it('a config reload serves a renewed tenant certificate to new handshakes, on implicit TLS and STLS', async () => {
    const renewed = certFor(['pop.alpha.test', 'renewed.alpha.test']);
    const config = gw.gateway.config;
    const alphaTenant = config.tenants.alpha;
    assert.ok(alphaTenant !== undefined);
    gw.gateway.reload({ ...config, tenants: { ...config.tenants, alpha: { ...alphaTenant, certificate: { cert: renewed.certPath, key: renewed.keyPath } } } });
    const implicit = await curlRetr(`pop3s://pop.alpha.test:${implicitPort}/1`, 'pop.alpha.test', implicitPort, renewed, 'alice');
    assert.match(implicit, /Subject: for alice in alpha/, 'verified against the renewed certificate on implicit TLS');
    const body = await curlRetr(`pop3://renewed.alpha.test:${stlsPort}/1`, 'renewed.alpha.test', stlsPort, renewed, 'alice', ['--ssl-reqd']);
    assert.match(body, /Subject: for alice in alpha/, 'verified against the renewed certificate over STLS');
    const old = await run(
      'curl',
      [
        '-s',
        '-S',
        '--max-time',
        '15',
        '--resolve',
        `pop.alpha.test:${implicitPort}:127.0.0.1`,
        '--cacert',
        alpha.certPath,
        '-u',
        'alice:pw',
        `pop3s://pop.alpha.test:${implicitPort}/1`,
      ],
      { timeoutMs: 20_000 },
    );
    assert.notEqual(old.code, 0, 'the replaced certificate is no longer served');
  });
});
