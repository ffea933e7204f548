import { TRANSACTION_ONLY, type Command } from './command.js';
import { requireTransaction } from './require.js';

export const list: Command = {
  name: 'LIST',
  states: TRANSACTION_ONLY,
  async run(conn, { args }) {
    const tx = requireTransaction(conn, args, 1);
    if (args.length === 1) {
      const { msn } = tx.message(args[0]);
      conn.send(`+OK ${msn} ${await tx.sizeOf(msn, conn.signal)}`);
      return;
    }
    const sizes = await tx.liveSizes(conn.signal);
    const octets = sizes.reduce((sum, m) => sum + m.size, 0);
    conn.sendMultiline(`${sizes.length} messages (${octets} octets)`, sizes.map((m) => `${m.msn} ${m.size}`));
  },
};
