import { NO_ARGS, TRANSACTION, defineCommand } from './command.js';

export const noop = defineCommand({
  name: 'NOOP',
  states: TRANSACTION,
  arity: NO_ARGS,
  run(session) {
    session.send('+OK');
  },
});
