/** QUIT: in TRANSACTION, enter UPDATE and apply deletions before answering (as Dovecot does). */
import { LockNotConfirmed } from '../transaction.js';
import { AUTHORIZATION_OR_TRANSACTION, NO_ARGS, defineCommand } from './command.js';

export const quit = defineCommand({
  name: 'QUIT',
  states: AUTHORIZATION_OR_TRANSACTION,
  arity: NO_ARGS,
  async run(session, state) {
    if (state.name === 'AUTHORIZATION') {
      session.finish('+OK Logging out.');
      return;
    }
    const { tx, login } = session.enterUpdate();
    const marked = tx.markedCount;
    let line: string;
    try {
      const result = await tx.commit();
      if (result.failed.length > 0) {
        session.log.warn({ user: login, outcome: 'partial-delete', removed: result.removed, failed: result.failed }, 'some deletions failed');
        line = `-ERR [SYS/TEMP] ${result.failed.length} of ${marked} messages could not be deleted; they will be listed again.`;
      } else {
        session.log.info({ user: login, outcome: 'quit', deleted: result.removed }, 'session ended');
        line = marked > 0 ? `+OK Logging out, ${marked} messages deleted.` : '+OK Logging out.';
      }
    } catch (err) {
      if (err instanceof LockNotConfirmed) {
        session.log.warn({ user: login, outcome: 'lock-not-confirmed', marked }, 'maildrop lock lost or unconfirmable; nothing deleted');
        line = '-ERR [SYS/TEMP] The mailbox lock could not be confirmed; nothing was deleted, messages will be listed again.';
      } else {
        session.log.error({ user: login, err: (err as Error).message }, 'commit failed');
        line = '-ERR [SYS/TEMP] Deleting messages failed; they will be listed again.';
      }
    } finally {
      await tx.end().catch((err: unknown) => session.log.warn({ err }, 'closing the maildrop failed'));
    }
    session.finish(line);
  },
});
