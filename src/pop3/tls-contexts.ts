/** TLS material loaded once at start: a modern context, and a legacy one for opted-in listeners. */
import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContext } from 'node:tls';
import { ConfigError } from '../errors.js';

export interface TlsContexts {
  readonly modern: SecureContext;
  /** TLS 1.0/1.1 allowed: OpenSSL 3 refuses them at its default security level. */
  readonly legacy: SecureContext;
  readonly cert: Buffer;
  readonly key: Buffer;
}

export function loadTlsContexts(paths: { cert: string; key: string }): TlsContexts {
  const read = (key: 'cert' | 'key'): Buffer => {
    try {
      return readFileSync(paths[key]);
    } catch (err) {
      throw new ConfigError([`tls.${key}: cannot read ${paths[key]}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`]);
    }
  };
  const cert = read('cert');
  const key = read('key');
  try {
    return {
      cert,
      key,
      modern: createSecureContext({ cert, key, minVersion: 'TLSv1.2' }),
      legacy: createSecureContext({ cert, key, minVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0' }),
    };
  } catch (err) {
    throw new ConfigError([`tls: the certificate or key is unusable: ${(err as Error).message}`]);
  }
}
