import { TRANSACTION_ONLY, type Command } from './command.js';
import { requireTransaction } from './require.js';

export const uidl: Command = {
  name: 'UIDL',
  states: TRANSACTION_ONLY,
  run(conn, { args }) {
    const tx = requireTransaction(conn, args, 1);
    if (args.length === 1) {
      const { msn, info } = tx.message(args[0]);
      conn.send(`+OK ${msn} ${info.uidl}`);
      return;
    }
    const lines: string[] = [];
    for (const { msn, info } of tx.live()) lines.push(`${msn} ${info.uidl}`);
    conn.sendMultiline('Unique-ID listing follows.', lines);
  },
};
