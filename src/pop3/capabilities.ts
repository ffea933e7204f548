/** RFC 2449 CAPA: built from what can actually succeed on this connection in its current state. */
import { plaintextAllowed, saslMechanisms } from './auth-policy.js';
import type { Session } from './session.js';
import { expireCapability, expireOf, loginDelayCapability, loginDelayOf } from './tenant-policy.js';

export function capabilities(conn: Session): string[] {
  const caps = ['CAPA', 'TOP', 'UIDL', 'RESP-CODES', 'AUTH-RESP-CODE', 'PIPELINING'];
  const { config } = conn.ctx;
  if (conn.state.name === 'AUTHORIZATION') {
    if (plaintextAllowed(conn)) caps.push('USER');
    const mechs = saslMechanisms(conn);
    if (mechs.length > 0) caps.push(`SASL ${mechs.join(' ')}`);
    if (conn.listener.tls === 'starttls' && !conn.isTls) caps.push('STLS');
  }
  // After login the session's own tenant decides; before it, every tenant it could be.
  const known = (conn.state.name === 'AUTHORIZATION' ? undefined : conn.state.tenant) ?? conn.ctx.tenants.forServerName(conn.serverName);
  const tenants = known === undefined ? conn.ctx.tenants.all() : [known];
  const delay = loginDelayCapability(tenants.map((t) => loginDelayOf(config, t)));
  if (delay !== undefined) caps.push(delay);
  const expire = expireCapability(tenants.map((t) => expireOf(config, t)));
  if (expire !== undefined) caps.push(expire);
  caps.push('IMPLEMENTATION popgate');
  return caps;
}
