/** TLS material loaded at start (and reload): a modern context (forward-secret AEAD ciphers only), and a legacy one for opted-in listeners. */
import { X509Certificate, constants } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContext, type SecureContextOptions } from 'node:tls';
import { ConfigError } from '../errors.js';

export interface TlsContexts {
  readonly modern: SecureContext;
  /** TLS 1.0/1.1 allowed: OpenSSL 3 refuses them at its default security level. */
  readonly legacy: SecureContext;
  /** The certificate's DNS names (subjectAltName), which SNI can ask for. */
  readonly dnsNames: readonly string[];
}

/**
 * Mozilla's "intermediate" list: TLS 1.2 only with ECDHE key exchange and AEAD ciphers (forward
 * secrecy; no CBC, no static RSA such as AES128-SHA). The TLS 1.3 suites must be named too:
 * Node turns a `ciphers` string without TLS_ names into an empty TLS 1.3 list, which disables 1.3.
 */
export const MODERN_CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

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
  const modernOptions: SecureContextOptions = { cert, key, minVersion: 'TLSv1.2', ciphers: MODERN_CIPHERS, secureOptions };
  // Legacy devices may know nothing better than CBC or static RSA: that listener keeps Node's list.
  const legacyOptions: SecureContextOptions = { cert, key, minVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0', secureOptions };
  try {
    return {
      modern: createSecureContext(modernOptions),
      legacy: createSecureContext(legacyOptions),
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
