/** A self-signed certificate for localhost / 127.0.0.1, made once per test process with openssl. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireProgram } from './programs.js';

export interface TestCert {
  readonly certPath: string;
  readonly keyPath: string;
  readonly cert: Buffer;
}

let cached: TestCert | undefined;

export function testCert(): TestCert {
  cached ??= selfSigned('localhost', ['DNS:localhost', 'IP:127.0.0.1']);
  return cached;
}

let cachedRsa: TestCert | undefined;

/** The same names with an RSA key: static-RSA ciphers such as AES128-SHA need one to be usable at all. */
export function testRsaCert(): TestCert {
  cachedRsa ??= selfSigned('localhost', ['DNS:localhost', 'IP:127.0.0.1'], ['rsa:2048']);
  return cachedRsa;
}

/** A self-signed certificate for these DNS names (the first is also the CN), e.g. a tenant's own. */
export function certFor(names: readonly string[]): TestCert {
  return selfSigned(
    names[0] ?? 'unnamed',
    names.map((n) => `DNS:${n}`),
  );
}

function selfSigned(commonName: string, altNames: readonly string[], key: readonly string[] = ['ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1']): TestCert {
  requireProgram('openssl');
  const dir = mkdtempSync(join(tmpdir(), 'popgate-cert-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      ...key,
      '-nodes',
      '-keyout',
      keyPath,
      '-out',
      certPath,
      '-days',
      '2',
      '-subj',
      `/CN=${commonName}`,
      '-addext',
      `subjectAltName=${altNames.join(',')}`,
    ],
    { stdio: 'ignore' },
  );
  return { certPath, keyPath, cert: readFileSync(certPath) };
}
