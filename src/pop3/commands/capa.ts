import { capabilities } from '../capabilities.js';
import { AUTHORIZATION_OR_TRANSACTION, NO_ARGS, defineCommand } from './command.js';

export const capa = defineCommand({
  name: 'CAPA',
  states: AUTHORIZATION_OR_TRANSACTION,
  arity: NO_ARGS,
  run(session) {
    session.sendMultiline('Capability list follows.', capabilities(session));
  },
});
