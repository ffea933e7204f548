import { ErrorReplies, Pop3Error } from '../../errors.js';
import { plaintextAllowed } from '../auth-policy.js';
import { login } from '../login.js';
import { AUTHORIZATION, defineCommand } from './command.js';

export const pass = defineCommand({
  name: 'PASS',
  states: AUTHORIZATION,
  arity: 'text',
  async run(session, { pendingUser }, { rest }) {
    if (!plaintextAllowed(session)) throw ErrorReplies.plaintextDisallowed;
    session.expectPassword(undefined);
    if (pendingUser === undefined) throw Pop3Error.badCommand('No user name given (send USER first).');
    await login(session, { kind: 'password', login: pendingUser, password: rest });
    session.send('+OK Logged in.');
  },
});
