import { Pop3Error } from '../../errors.js';
import { AUTH_ONLY, type Command } from './command.js';
import { requireArgs } from './require.js';

export const stls: Command = {
  name: 'STLS',
  states: AUTH_ONLY,
  async run(conn, { args }) {
    requireArgs(args, 0, 0);
    if (conn.isTls) throw new Pop3Error('TLS is already active.');
    if (conn.listener.tls !== 'starttls') throw new Pop3Error('STLS is not available on this port.');
    await conn.startTls();
  },
};
