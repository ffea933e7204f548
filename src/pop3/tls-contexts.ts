/** TLS material loaded at start (and reload): a modern context, and a legacy one for opted-in listeners. */
import { X509Certificate, constants } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContext, type SecureContextOptions } from 'node:tls';
import { ConfigError } from '../errors.js';

export interface TlsContexts {
  readonly modern: SecureContext;
  /** TLS 1.0/1.1 allowed: OpenSSL 3 refuses them at its default security level. */
  readonly legacy: SecureContext;
  /** The same settings as options, for tls.createServer (which ignores a ready-made context). */
  readonly modernOptions: SecureContextOptions;
  readonly legacyOptions: SecureContextOptions;
  /** The certificate's DNS names (subjectAltName), which SNI can ask for. */
  readonly dnsNames: readonly string[];
}

/** `where` names the config key in errors (`tls`, `tenants.x.certificate`). */
export function loadTlsContexts(paths: { cert: string; key: string }, where = 'tls'): TlsContexts {
  const read = (key: 'cert' | 'key'): Buffer => {
    try {
      return readFileSync(paths[key]);
    } catch (err) {
      throw new ConfigError([`${where}.${key}: cannot read ${paths[key]}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`]);
    }
  };
  const cert = read('cert');
  const key = read('key');
  // TLS 1.2 renegotiation serves no POP3 client and lets one connection make the server redo
  // handshakes without end (sockets made by hand get no Node renegotiation limit): refused.
  const secureOptions = constants.SSL_OP_NO_RENEGOTIATION;
  const modernOptions: SecureContextOptions = { cert, key, minVersion: 'TLSv1.2', secureOptions };
  const legacyOptions: SecureContextOptions = { cert, key, minVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0', secureOptions };
  try {
    return {
      modern: createSecureContext(modernOptions),
      legacy: createSecureContext(legacyOptions),
      modernOptions,
      legacyOptions,
      dnsNames: dnsNamesOf(cert),
    };
  } catch (err) {
    throw new ConfigError([`${where}: the certificate or key is unusable: ${(err as Error).message}`]);
  }
}

function dnsNamesOf(pem: Buffer): string[] {
  const san = new X509Certificate(pem).subjectAltName ?? '';
  return san
    .split(', ')
    .filter((entry) => entry.startsWith('DNS:'))
    .map((entry) => entry.slice('DNS:'.length));
}
