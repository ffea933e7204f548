import { TRANSACTION_ONLY, type Command } from './command.js';
import { requireTransaction } from './require.js';

export const rset: Command = {
  name: 'RSET',
  states: TRANSACTION_ONLY,
  async run(conn, { args }) {
    const tx = requireTransaction(conn, args, 0);
    tx.reset();
    const sizes = await tx.liveSizes(conn.signal);
    conn.send(`+OK Maildrop has ${sizes.length} messages (${sizes.reduce((s, m) => s + m.size, 0)} octets).`);
  },
};
