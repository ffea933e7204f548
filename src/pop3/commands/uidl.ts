import { OPTIONAL_ARG, TRANSACTION, defineCommand } from './command.js';

export const uidl = defineCommand({
  name: 'UIDL',
  states: TRANSACTION,
  arity: OPTIONAL_ARG,
  run(session, { tx }, { args }) {
    if (args.length === 1) {
      const { msn, info } = tx.message(args[0]);
      session.send(`+OK ${msn} ${info.uidl}`);
      return;
    }
    const lines: string[] = [];
    for (const { msn, info } of tx.live()) lines.push(`${msn} ${info.uidl}`);
    session.sendMultiline('Unique-ID listing follows.', lines);
  },
});
