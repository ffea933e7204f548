/** AUTH (RFC 5034). Without arguments it lists mechanisms, as older clients expect. */
import { Pop3Error, Replies } from '../../errors.js';
import { plaintextAllowed, saslMechanisms } from '../auth-policy.js';
import { login } from '../login.js';
import { channelFor, decodeSaslBase64 } from '../sasl/channel.js';
import { MECHANISMS } from '../sasl/mechanisms.js';
import { AUTH_ONLY, type Command } from './command.js';
import { requireArgs } from './require.js';

export const auth: Command = {
  name: 'AUTH',
  states: AUTH_ONLY,
  async run(conn, { args }) {
    const offered = saslMechanisms(conn);
    if (args.length === 0) {
      conn.sendMultiline('Authentication mechanisms follow.', offered);
      return;
    }
    requireArgs(args, 1, 2);
    const name = (args[0] as string).toUpperCase();
    const mechanism = MECHANISMS.get(name);
    if (mechanism === undefined || !offered.includes(name)) {
      if (mechanism !== undefined && name !== 'CRAM-MD5' && !plaintextAllowed(conn)) throw Replies.plaintextDisallowed;
      throw new Pop3Error('Unsupported authentication mechanism.', undefined, true);
    }
    const initial = args[1] === undefined ? undefined : decodeSaslBase64(args[1], true);
    const channel = channelFor(conn);
    const creds = await mechanism(channel, initial);
    try {
      await login(conn, creds, name);
    } catch (err) {
      // RFC 7628 (and Google's XOAUTH2): a failed token gets an error challenge first, and the
      // client's dummy answer, before the final -ERR.
      if (creds.kind === 'bearer' && err === Replies.authFailed) {
        await channel.challenge(JSON.stringify({ status: 'invalid_token', schemes: 'bearer' })).catch(() => undefined);
      }
      throw err;
    }
    conn.send('+OK Logged in.');
  },
};
