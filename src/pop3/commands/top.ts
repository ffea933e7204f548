import { hasTopFetcher } from '../../../adapters/contract.js';
import { Pop3Error } from '../../errors.js';
import { TRANSACTION_ONLY, type Command } from './command.js';
import { fetchMessage } from './fetch-message.js';
import { requireTransaction } from './require.js';

/** Clients send `TOP n 99999999` to mean "all of it"; any count that large is the same. */
const LINES = /^\d{1,12}$/;

export const top: Command = {
  name: 'TOP',
  states: TRANSACTION_ONLY,
  async run(conn, { args }) {
    const tx = requireTransaction(conn, args, 2, 2);
    const { info } = tx.message(args[0]);
    const arg = args[1] as string;
    if (!LINES.test(arg)) throw new Pop3Error('Invalid number of lines.', undefined, true);
    const lines = Number(arg);
    const drop = tx.drop;
    const source = hasTopFetcher(drop)
      ? await fetchMessage(tx, info.id, conn.signal, (signal) => drop.fetchTop(info.id, lines, signal))
      : await fetchMessage(tx, info.id, conn.signal);
    await conn.streamMessage('Top of message follows.', source, lines);
  },
};
