/** AUTH (RFC 5034). Without arguments it lists mechanisms, as older clients expect. */
import { ErrorReplies, Pop3Error } from '../../errors.js';
import { plaintextAllowed, saslMechanisms } from '../auth-policy.js';
import { login } from '../login.js';
import { channelFor, decodeSaslBase64 } from '../sasl/channel.js';
import { MECHANISMS } from '../sasl/mechanisms.js';
import { AUTHORIZATION, defineCommand } from './command.js';

export const auth = defineCommand({
  name: 'AUTH',
  states: AUTHORIZATION,
  arity: { min: 0, max: 2 },
  async run(session, _state, { args }) {
    const offered = saslMechanisms(session);
    if (args.length === 0) {
      session.sendMultiline('Authentication mechanisms follow.', offered);
      return;
    }
    const name = (args[0] as string).toUpperCase();
    const mechanism = MECHANISMS.get(name);
    if (mechanism === undefined || !offered.includes(name)) {
      if (mechanism !== undefined && name !== 'CRAM-MD5' && !plaintextAllowed(session)) throw ErrorReplies.plaintextDisallowed;
      throw Pop3Error.badCommand('Unsupported authentication mechanism.');
    }
    const initial = args[1] === undefined ? undefined : decodeSaslBase64(args[1], true);
    const channel = channelFor(session);
    const creds = await mechanism(channel, initial);
    try {
      await login(session, creds, name);
    } catch (err) {
      // RFC 7628 (and Google's XOAUTH2): a failed token gets an error challenge first, and the
      // client's dummy answer, before the final -ERR.
      if (creds.kind === 'bearer' && err === ErrorReplies.authFailed) {
        await channel.challenge(JSON.stringify({ status: 'invalid_token', schemes: 'bearer' })).catch(() => undefined);
      }
      throw err;
    }
    session.send('+OK Logged in.');
  },
});
