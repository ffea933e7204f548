import { Pop3Error } from '../../errors.js';
import { AUTHORIZATION, NO_ARGS, defineCommand } from './command.js';

export const stls = defineCommand({
  name: 'STLS',
  states: AUTHORIZATION,
  arity: NO_ARGS,
  async run(session) {
    if (session.isTls) throw new Pop3Error('TLS is already active.');
    if (session.listener.tls !== 'starttls') throw new Pop3Error('STLS is not available on this port.');
    await session.startTls();
  },
});
