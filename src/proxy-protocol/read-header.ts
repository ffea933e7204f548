/**
 * Reads a PROXY header off a fresh socket within a deadline. The octets after it (a TLS
 * ClientHello, a pipelining client's first command) are put back on the socket, which is left
 * paused for whoever reads it next (the TLS layer or the POP3 connection).
 */
import type { Socket } from 'node:net';
import { parseProxyHeader, type ProxyHeader } from './header.js';

export type ProxyReadResult = { readonly ok: true; readonly header: ProxyHeader } | { readonly ok: false; readonly reason: string };

export function readProxyHeader(socket: Socket, timeoutMs: number): Promise<ProxyReadResult> {
  return new Promise((resolve) => {
    let received: Buffer = Buffer.alloc(0);
    const finish = (result: ProxyReadResult, rest?: Buffer): void => {
      clearTimeout(timer);
      // Paused before the listener goes: a flowing socket without one would drop data.
      socket.pause();
      socket.off('data', onData);
      socket.off('close', onClose);
      if (!result.ok) socket.destroy();
      else if (rest !== undefined && rest.length > 0) socket.unshift(rest);
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      // The parser decides within PROXY_MAX_HEADER octets, so this never grows past it plus one chunk.
      received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
      const parsed = parseProxyHeader(received);
      if (parsed.kind === 'incomplete') return;
      if (parsed.kind === 'invalid') return finish({ ok: false, reason: parsed.reason });
      finish({ ok: true, header: parsed.header }, received.subarray(parsed.length));
    };
    const onClose = (): void => finish({ ok: false, reason: 'closed before a PROXY header' });
    const timer = setTimeout(() => finish({ ok: false, reason: `no PROXY header within ${timeoutMs} ms` }), timeoutMs);
    socket.on('data', onData);
    socket.once('close', onClose);
  });
}
