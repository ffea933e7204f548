import { capabilities } from '../capabilities.js';
import { ANY_STATE, type Command } from './command.js';

export const capa: Command = {
  name: 'CAPA',
  states: ANY_STATE,
  run(conn) {
    conn.sendMultiline('Capability list follows.', capabilities(conn));
  },
};
