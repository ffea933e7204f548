/**
 * The server side of a TLS handshake on an accepted socket, for implicit TLS and STLS alike,
 * with a deadline: a client that connects and says nothing (or stalls mid-handshake) is cut
 * off, so it cannot hold a socket and a file descriptor for ever.
 */
import type { Socket } from 'node:net';
import { TLSSocket, type SecureContext } from 'node:tls';
import type { SniCallback } from './server-context.js';

export type HandshakeResult = { readonly ok: true; readonly socket: TLSSocket } | { readonly ok: false; readonly reason: string };

export function serverHandshake(plain: Socket, secureContext: SecureContext, SNICallback: SniCallback, timeoutMs: number): Promise<HandshakeResult> {
  const secure = new TLSSocket(plain, { isServer: true, secureContext, SNICallback });
  return new Promise((resolve) => {
    const finish = (result: HandshakeResult): void => {
      clearTimeout(timer);
      secure.off('secure', ok);
      secure.off('error', fail);
      plain.off('close', closed);
      if (!result.ok) {
        // An errored or silent handshake must not leave its socket open behind it.
        secure.destroy();
        plain.destroy();
      }
      resolve(result);
    };
    const ok = (): void => finish({ ok: true, socket: secure });
    const fail = (err: Error): void => finish({ ok: false, reason: err.message });
    const closed = (): void => finish({ ok: false, reason: 'connection closed during the handshake' });
    const timer = setTimeout(() => finish({ ok: false, reason: `no TLS handshake within ${timeoutMs} ms` }), timeoutMs);
    secure.once('secure', ok);
    secure.once('error', fail);
    plain.once('close', closed);
  });
}
