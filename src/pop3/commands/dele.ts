import { ONE_ARG, TRANSACTION, defineCommand } from './command.js';

export const dele = defineCommand({
  name: 'DELE',
  states: TRANSACTION,
  arity: ONE_ARG,
  run(session, { tx }, { args }) {
    const { msn } = tx.message(args[0]);
    tx.mark(msn);
    session.send(`+OK Message ${msn} marked for deletion.`);
  },
});
