/**
 * The SASL exchange (RFC 5034): "+ <base64 challenge>" lines out, base64 lines in, "*" cancels.
 * Nothing the client sends inside a blob is ever written back.
 */
import { Pop3Error } from '../../errors.js';
import { MAX_AUTH_LINE } from '../../limits.js';
import { ConnectionClosed, type Connection } from '../connection.js';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export interface SaslChannel {
  /** Sends a challenge and returns the client's decoded answer. */
  challenge(data: string): Promise<Buffer>;
}

/** Decodes an initial response or continuation; "=" is the empty initial response. */
export function decodeSaslBase64(text: string, isInitial: boolean): Buffer {
  if (isInitial && text === '=') return Buffer.alloc(0);
  if (!BASE64.test(text)) throw new Pop3Error('Invalid base64 data in authentication exchange.', undefined, true);
  return Buffer.from(text, 'base64');
}

export function channelFor(conn: Connection): SaslChannel {
  return {
    async challenge(data: string): Promise<Buffer> {
      conn.send(`+ ${Buffer.from(data, 'utf8').toString('base64')}`);
      const input = await conn.readLine(MAX_AUTH_LINE);
      if (input === null) throw new ConnectionClosed();
      if (input.kind === 'too-long') throw new Pop3Error(`Authentication line longer than ${MAX_AUTH_LINE} octets.`, undefined, true);
      const text = input.line.toString('latin1').trim();
      if (text === '*') throw new Pop3Error('Authentication cancelled.', undefined, true);
      return decodeSaslBase64(text, false);
    },
  };
}
