/**
 * The SASL exchange (RFC 5034): "+ <base64 challenge>" lines out, base64 lines in, "*" cancels.
 * Nothing the client sends inside a blob is ever written back.
 */
import { Pop3Error } from '../../errors.js';
import { ConnectionClosed } from '../connection-closed.js';
import type { Session } from '../session.js';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export interface SaslChannel {
  /** Sends a challenge and returns the client's decoded answer. */
  challenge(data: string): Promise<Buffer>;
}

/** Decodes an initial response or continuation; "=" is the empty initial response. */
export function decodeSaslBase64(text: string, isInitial: boolean): Buffer {
  if (isInitial && text === '=') return Buffer.alloc(0);
  if (!BASE64.test(text)) throw Pop3Error.badCommand('Invalid base64 data in authentication exchange.');
  return Buffer.from(text, 'base64');
}

export function channelFor(conn: Pick<Session, 'send' | 'readSaslLine'>): SaslChannel {
  return {
    async challenge(data: string): Promise<Buffer> {
      conn.send(`+ ${Buffer.from(data, 'utf8').toString('base64')}`);
      const input = await conn.readSaslLine();
      // An over-long line has closed the connection already (see Connection.readSaslLine).
      if (input === null) throw new ConnectionClosed();
      const text = input.toString('latin1').trim();
      if (text === '*') throw Pop3Error.badCommand('Authentication cancelled.');
      return decodeSaslBase64(text, false);
    },
  };
}
