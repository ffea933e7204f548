/** Which login methods may be used on a connection, from the config and the connection's TLS state. */
import { isIP } from 'node:net';
import { acceptsTokens } from '../tenant-auth.js';
import type { Session } from './session.js';
import { mechanismsOf, mechanismsOfAny } from './tenant-policy.js';

export function isLoopback(address: string): boolean {
  const a = address.startsWith('::ffff:') ? address.slice(7) : address;
  if (isIP(a) === 4) return a.startsWith('127.');
  return a === '::1';
}

/** USER/PASS, AUTH PLAIN and AUTH LOGIN send the password itself. */
export function plaintextAllowed(conn: Pick<Session, 'ctx' | 'isTls' | 'remoteAddress'>): boolean {
  const cfg = conn.ctx.config;
  switch (cfg.allowPlaintextAuth) {
    case 'never':
      return false;
    case 'always':
      return true;
    case 'tls-only':
      return conn.isTls || (cfg.allowPlaintextAuthOnLoopback && isLoopback(conn.remoteAddress));
  }
}

/**
 * SASL mechanisms that can succeed on this connection, in the order offered: those of the
 * tenant the SNI name picked, else those any tenant allows (login checks the routed tenant's).
 */
export function saslMechanisms(conn: Session): string[] {
  const { config, tenants } = conn.ctx;
  const tenant = tenants.forServerName(conn.serverName);
  const configured = tenant === undefined ? mechanismsOfAny(config, tenants.all()) : mechanismsOf(config, tenant);
  const plain = plaintextAllowed(conn);
  return configured.filter((m) => {
    switch (m) {
      case 'CRAM-MD5':
        return conn.ctx.sharedSecretsAvailable();
      case 'XOAUTH2':
      case 'OAUTHBEARER':
        // A bearer token is as good as a password to whoever reads it: same transport rule.
        return plain && (tenant === undefined ? tenants.acceptsTokens() : acceptsTokens(tenant));
      default:
        return plain;
    }
  });
}
