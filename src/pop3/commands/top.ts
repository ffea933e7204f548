import { hasTopFetcher } from '../../../adapters/contract.js';
import { Pop3Error } from '../../errors.js';
import { TRANSACTION, defineCommand } from './command.js';
import { fetchMessage } from './fetch-message.js';

/** Clients send `TOP n 99999999` to mean "all of it"; any count that large is the same. */
const LINES = /^\d{1,12}$/;

export const top = defineCommand({
  name: 'TOP',
  states: TRANSACTION,
  arity: { min: 2, max: 2 },
  async run(session, { tx }, { args }) {
    const { info } = tx.message(args[0]);
    const arg = args[1] as string;
    if (!LINES.test(arg)) throw Pop3Error.badCommand('Invalid number of lines.');
    const lines = Number(arg);
    const drop = tx.drop;
    const source = hasTopFetcher(drop)
      ? await fetchMessage(tx, info.id, session.signal, (signal) => drop.fetchTop(info.id, lines, signal))
      : await fetchMessage(tx, info.id, session.signal);
    await session.streamMessage('Top of message follows.', source, lines);
  },
});
