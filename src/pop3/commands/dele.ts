import { TRANSACTION_ONLY, type Command } from './command.js';
import { requireTransaction } from './require.js';

export const dele: Command = {
  name: 'DELE',
  states: TRANSACTION_ONLY,
  run(conn, { args }) {
    const tx = requireTransaction(conn, args, 1, 1);
    const { msn } = tx.message(args[0]);
    tx.mark(msn);
    conn.send(`+OK Message ${msn} marked for deletion.`);
  },
};
