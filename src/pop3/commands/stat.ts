import { TRANSACTION_ONLY, type Command } from './command.js';
import { requireTransaction } from './require.js';

export const stat: Command = {
  name: 'STAT',
  states: TRANSACTION_ONLY,
  async run(conn, { args }) {
    const tx = requireTransaction(conn, args, 0);
    const sizes = await tx.liveSizes(conn.signal);
    const octets = sizes.reduce((sum, m) => sum + m.size, 0);
    conn.send(`+OK ${sizes.length} ${octets}`);
  },
};
