import { Pop3Error, Replies } from '../../errors.js';
import { plaintextAllowed } from '../auth-policy.js';
import { AUTH_ONLY, type Command } from './command.js';

export const user: Command = {
  name: 'USER',
  states: AUTH_ONLY,
  run(conn, { rest }) {
    if (!plaintextAllowed(conn)) throw Replies.plaintextDisallowed;
    const name = rest.trim();
    if (name === '') throw new Pop3Error('Missing user name.', undefined, true);
    conn.pendingUser = name;
    conn.send('+OK');
  },
};
