import { ONE_ARG, TRANSACTION, defineCommand } from './command.js';
import { fetchMessage } from './fetch-message.js';

export const retr = defineCommand({
  name: 'RETR',
  states: TRANSACTION,
  arity: ONE_ARG,
  async run(session, { tx }, { args }) {
    const { msn, info } = tx.message(args[0]);
    const size = await tx.sizeOf(msn, session.signal);
    const source = await fetchMessage(tx, info.id, session.signal);
    const sent = await session.streamMessage(`${size} octets`, source);
    if (sent !== size) session.log.warn({ msn, listed: size, sent }, 'message size differed from the listed size');
    tx.retrieved(msn, sent);
  },
});
