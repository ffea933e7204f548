/** RFC 2449 CAPA: built from what can actually succeed on this connection in its current state. */
import { plaintextAllowed, saslMechanisms } from './auth-policy.js';
import type { Connection } from './connection.js';

export function capabilities(conn: Connection): string[] {
  const caps = ['CAPA', 'TOP', 'UIDL', 'RESP-CODES', 'AUTH-RESP-CODE', 'PIPELINING'];
  const { capabilities: cfg } = conn.ctx.config;
  if (conn.state === 'AUTHORIZATION') {
    if (plaintextAllowed(conn)) caps.push('USER');
    const mechs = saslMechanisms(conn);
    if (mechs.length > 0) caps.push(`SASL ${mechs.join(' ')}`);
    if (conn.listener.tls === 'starttls' && !conn.isTls) caps.push('STLS');
  }
  if (cfg.loginDelaySeconds > 0) caps.push(`LOGIN-DELAY ${cfg.loginDelaySeconds}`);
  if (cfg.expire !== undefined) caps.push(`EXPIRE ${cfg.expire === 'never' ? 'NEVER' : cfg.expire}`);
  caps.push('IMPLEMENTATION popgate');
  return caps;
}
