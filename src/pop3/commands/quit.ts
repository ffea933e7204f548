/** QUIT: in TRANSACTION, enter UPDATE and apply deletions before answering (as Dovecot does). */
import { ANY_STATE, type Command } from './command.js';

export const quit: Command = {
  name: 'QUIT',
  states: ANY_STATE,
  async run(conn) {
    const tx = conn.transaction;
    if (conn.state !== 'TRANSACTION' || tx === undefined) {
      conn.finish('+OK Logging out.');
      return;
    }
    conn.state = 'UPDATE';
    const marked = tx.markedCount;
    let line: string;
    try {
      const result = await tx.commit();
      if (result.failed.length > 0) {
        conn.log.warn({ user: conn.user, outcome: 'partial-delete', removed: result.removed, failed: result.failed }, 'some deletions failed');
        line = `-ERR [SYS/TEMP] ${result.failed.length} of ${marked} messages could not be deleted; they will be listed again.`;
      } else {
        conn.log.info({ user: conn.user, outcome: 'quit', deleted: result.removed }, 'session ended');
        line = marked > 0 ? `+OK Logging out, ${marked} messages deleted.` : '+OK Logging out.';
      }
    } catch (err) {
      conn.log.error({ user: conn.user, err: (err as Error).message }, 'commit failed');
      line = '-ERR [SYS/TEMP] Deleting messages failed; they will be listed again.';
    } finally {
      await tx.end().catch((err: unknown) => conn.log.warn({ err }, 'closing the maildrop failed'));
    }
    conn.finish(line);
  },
};
