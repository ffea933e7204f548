import { NO_ARGS, TRANSACTION, defineCommand } from './command.js';

export const rset = defineCommand({
  name: 'RSET',
  states: TRANSACTION,
  arity: NO_ARGS,
  async run(session, { tx }) {
    tx.reset();
    const sizes = await tx.liveSizes(session.signal);
    session.send(`+OK Maildrop has ${sizes.length} messages (${sizes.reduce((s, m) => s + m.size, 0)} octets).`);
  },
});
