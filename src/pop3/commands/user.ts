import { ErrorReplies, Pop3Error } from '../../errors.js';
import { plaintextAllowed } from '../auth-policy.js';
import { AUTHORIZATION, defineCommand } from './command.js';

export const user = defineCommand({
  name: 'USER',
  states: AUTHORIZATION,
  arity: 'text',
  run(session, _state, { rest }) {
    if (!plaintextAllowed(session)) throw ErrorReplies.plaintextDisallowed;
    const name = rest.trim();
    if (name === '') throw Pop3Error.badCommand('Missing user name.');
    session.expectPassword(name);
    session.send('+OK');
  },
});
