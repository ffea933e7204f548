import { TRANSACTION_ONLY, type Command } from './command.js';
import { fetchMessage } from './fetch-message.js';
import { requireTransaction } from './require.js';

export const retr: Command = {
  name: 'RETR',
  states: TRANSACTION_ONLY,
  async run(conn, { args }) {
    const tx = requireTransaction(conn, args, 1, 1);
    const { msn, info } = tx.message(args[0]);
    const size = await tx.sizeOf(msn, conn.signal);
    const source = await fetchMessage(tx, info.id, conn.signal);
    const sent = await conn.streamMessage(`${size} octets`, source);
    if (sent !== size) conn.log.warn({ msn, listed: size, sent }, 'message size differed from the listed size');
    tx.retrieved(msn, sent);
  },
};
