import { NO_ARGS, TRANSACTION, defineCommand } from './command.js';

export const stat = defineCommand({
  name: 'STAT',
  states: TRANSACTION,
  arity: NO_ARGS,
  async run(session, { tx }) {
    const sizes = await tx.liveSizes(session.signal);
    const octets = sizes.reduce((sum, m) => sum + m.size, 0);
    session.send(`+OK ${sizes.length} ${octets}`);
  },
});
