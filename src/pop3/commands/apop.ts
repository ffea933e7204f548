import { Pop3Error } from '../../errors.js';
import { login } from '../login.js';
import { AUTHORIZATION, defineCommand } from './command.js';

export const apop = defineCommand({
  name: 'APOP',
  states: AUTHORIZATION,
  arity: { min: 2, max: 2 },
  async run(session, _state, { args }) {
    const timestamp = session.apopTimestamp;
    if (timestamp === undefined) throw Pop3Error.badCommand('APOP is not available.');
    const [name, digest] = args as [string, string];
    if (!/^[0-9a-fA-F]{32}$/.test(digest)) throw Pop3Error.badCommand('Invalid APOP digest.');
    await login(session, { kind: 'apop', login: name, timestamp, digest });
    session.send('+OK Logged in.');
  },
});
