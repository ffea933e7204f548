import { Pop3Error, Replies } from '../../errors.js';
import { plaintextAllowed } from '../auth-policy.js';
import { login } from '../login.js';
import { AUTH_ONLY, type Command } from './command.js';

export const pass: Command = {
  name: 'PASS',
  states: AUTH_ONLY,
  async run(conn, { rest }) {
    if (!plaintextAllowed(conn)) throw Replies.plaintextDisallowed;
    const name = conn.pendingUser;
    conn.pendingUser = undefined;
    if (name === undefined) throw new Pop3Error('No user name given (send USER first).', undefined, true);
    await login(conn, { kind: 'password', login: name, password: rest });
    conn.send('+OK Logged in.');
  },
};
