import { Pop3Error } from '../../errors.js';
import { login } from '../login.js';
import { AUTH_ONLY, type Command } from './command.js';
import { requireArgs } from './require.js';

export const apop: Command = {
  name: 'APOP',
  states: AUTH_ONLY,
  async run(conn, { args }) {
    const timestamp = conn.apopTimestamp;
    if (timestamp === undefined) throw new Pop3Error('APOP is not available.', undefined, true);
    requireArgs(args, 2, 2);
    const [name, digest] = args as [string, string];
    if (!/^[0-9a-fA-F]{32}$/.test(digest)) throw new Pop3Error('Invalid APOP digest.', undefined, true);
    await login(conn, { kind: 'apop', login: name, timestamp, digest });
    conn.send('+OK Logged in.');
  },
};
