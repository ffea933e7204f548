import { OPTIONAL_ARG, TRANSACTION, defineCommand } from './command.js';

export const list = defineCommand({
  name: 'LIST',
  states: TRANSACTION,
  arity: OPTIONAL_ARG,
  async run(session, { tx }, { args }) {
    if (args.length === 1) {
      const { msn } = tx.message(args[0]);
      session.send(`+OK ${msn} ${await tx.sizeOf(msn, session.signal)}`);
      return;
    }
    const sizes = await tx.liveSizes(session.signal);
    const octets = sizes.reduce((sum, m) => sum + m.size, 0);
    session.sendMultiline(
      `${sizes.length} messages (${octets} octets)`,
      sizes.map((m) => `${m.msn} ${m.size}`),
    );
  },
});
