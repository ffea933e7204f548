import { TRANSACTION_ONLY, type Command } from './command.js';

export const noop: Command = {
  name: 'NOOP',
  states: TRANSACTION_ONLY,
  run(conn) {
    conn.send('+OK');
  },
};
