/** LAST (RFC 1460, removed in RFC 1939): fetchmail still sends it; answer as Dovecot does. */
import { NO_ARGS, TRANSACTION, defineCommand } from './command.js';

export const last = defineCommand({
  name: 'LAST',
  states: TRANSACTION,
  arity: NO_ARGS,
  run(session, { tx }) {
    session.send(`+OK ${tx.lastAccessed}`);
  },
});
