/** LAST (RFC 1460, removed in RFC 1939): fetchmail still sends it; answer as Dovecot does. */
import { TRANSACTION_ONLY, type Command } from './command.js';
import { requireTransaction } from './require.js';

export const last: Command = {
  name: 'LAST',
  states: TRANSACTION_ONLY,
  run(conn, { args }) {
    const tx = requireTransaction(conn, args, 0);
    conn.send(`+OK ${tx.lastAccessed}`);
  },
};
