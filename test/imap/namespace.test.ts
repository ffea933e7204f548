/**
 * A server whose personal namespace has a prefix (Courier, Cyrus, Dovecot with `prefix = INBOX.`):
 * `folder: Work` is the folder `INBOX.Work`, as imapflow opens it at login, and QUIT must apply
 * the deletions there too, and move to `INBOX.Archive` for `move:Archive`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startDovecot, type DovecotInstance } from '../helpers/dovecot.js';
import type { TestGateway } from '../helpers/gateway.js';
import { closeImap, listMailbox, messageIdOf, openImap, startImapGateway, taggedMessage } from '../helpers/imap-harness.js';
import { loggedIn } from '../helpers/tx-util.js';

describe('IMAP folder names under a namespace prefix (INBOX.)', () => {
  let dovecot: DovecotInstance;
  let expunging: TestGateway;
  let moving: TestGateway;

  async function deliver(tags: readonly string[]): Promise<void> {
    const client = await openImap(dovecot, 'INBOX.Work');
    try {
      for (const tag of tags) await client.append('INBOX.Work', taggedMessage(tag));
    } finally {
      await closeImap(client);
    }
  }
  const work = async (): Promise<string[]> => (await listMailbox(dovecot, 'INBOX.Work')).map((m) => m.messageId);

  before(async () => {
    dovecot = await startDovecot({ protocols: ['imap'], extraConfig: ['namespace inbox {', '  prefix = INBOX.', '  separator = .', '}'].join('\n') });
    await dovecot.doveadm(['mailbox', 'create', '-u', 'alice', 'INBOX.Work', 'INBOX.Archive']);
    expunging = await startImapGateway(dovecot.imapPort, { tenant: { folder: 'Work', deleteMode: 'expunge' } });
    moving = await startImapGateway(dovecot.imapPort, { tenant: { folder: 'Work', deleteMode: 'move:Archive' } });
  });
  after(async () => {
    await expunging?.stop();
    await moving?.stop();
    await dovecot?.stop();
  });

  it('the server really has the prefix: its folders are INBOX, INBOX.Work and INBOX.Archive', async () => {
    const listed = (await dovecot.doveadm(['mailbox', 'list', '-u', 'alice']))
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '');
    assert.deepEqual(listed.sort(), ['INBOX', 'INBOX.Archive', 'INBOX.Work']);
  });

  it('expunge: DELE then QUIT removes the message from INBOX.Work', async () => {
    await deliver(['ns-1', 'ns-2', 'ns-3']);
    const c = await loggedIn(expunging);
    assert.match(await c.command('STAT'), /^\+OK 3 /);
    assert.match(await c.command('DELE 2'), /^\+OK/);
    assert.equal(await c.quit(), '+OK Logging out, 1 messages deleted.');
    assert.deepEqual(await work(), [messageIdOf('ns-1'), messageIdOf('ns-3')]);
  });

  it('move:Archive moves the DELEd message to INBOX.Archive', async () => {
    const c = await loggedIn(moving);
    assert.match(await c.command('STAT'), /^\+OK 2 /);
    assert.match(await c.command('DELE 1'), /^\+OK/);
    assert.equal(await c.quit(), '+OK Logging out, 1 messages deleted.');
    assert.deepEqual(await work(), [messageIdOf('ns-3')]);
    assert.deepEqual(
      (await listMailbox(dovecot, 'INBOX.Archive')).map((m) => m.messageId),
      [messageIdOf('ns-1')],
    );
  });
});
