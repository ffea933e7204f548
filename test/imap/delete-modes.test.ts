/**
 * deleteMode at QUIT: `expunge` removes exactly the DELEd messages, `move:Archive` moves them,
 * `flag` only sets \Deleted, `keep` changes nothing. A dropped connection deletes nothing, RSET
 * unmarks, and a UIDVALIDITY change during the session makes QUIT delete nothing.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { startDovecot, type DovecotInstance } from '../helpers/dovecot.js';
import type { TestGateway } from '../helpers/gateway.js';
import {
  assertBytes,
  closeImap,
  dovecotSessions,
  eventually,
  listMailbox,
  messageIdOf,
  openImap,
  putMessages,
  startImapGateway,
  taggedMessage,
  uidValidityOf,
} from '../helpers/imap-harness.js';
import { toCrlf } from '../helpers/maildir.js';
import { expectedSize, loggedIn, waitForNoSessions } from '../helpers/tx-util.js';

let round = 0;

describe('IMAP deleteMode at QUIT', () => {
  let dovecot: DovecotInstance;
  const gateways = new Map<string, TestGateway>();
  /** Tags of the five messages of the current test, in order. */
  let tags: string[] = [];
  const content = (tag: string): string => taggedMessage(tag, `Content of ${tag}.\n`);

  before(async () => {
    dovecot = await startDovecot({ protocols: ['imap'] });
    await dovecot.doveadm(['mailbox', 'create', '-u', 'alice', 'Archive']);
    for (const mode of ['expunge', 'move:Archive', 'flag', 'keep', 'move:Nope']) {
      gateways.set(mode, await startImapGateway(dovecot.imapPort, { tenant: { deleteMode: mode } }));
    }
  });
  beforeEach(async () => {
    for (const box of ['INBOX', 'Archive']) await dovecot.doveadm(['expunge', '-u', 'alice', 'mailbox', box, 'all']);
    round++;
    tags = [1, 2, 3, 4, 5].map((i) => `del-${round}-${i}`);
    putMessages(dovecot, tags.map(content));
  });
  after(async () => {
    for (const g of gateways.values()) await g.stop();
    await dovecot?.stop();
  });

  const gw = (mode: string): TestGateway => gateways.get(mode) as TestGateway;
  const ids = (...n: number[]): string[] => n.map((i) => messageIdOf(tags[i - 1] as string));
  const inbox = async (): Promise<string[]> => (await listMailbox(dovecot)).map((m) => m.messageId);
  const flagged = async (flag: string): Promise<string[]> => (await listMailbox(dovecot)).filter((m) => m.flags.includes(flag)).map((m) => m.messageId);

  async function deleteAndQuit(mode: string, numbers: readonly number[]): Promise<string> {
    const c = await loggedIn(gw(mode));
    for (const n of numbers) assert.match(await c.command(`DELE ${n}`), /^\+OK/);
    return c.quit();
  }

  it('expunge removes exactly the DELEd messages', async () => {
    assert.equal(await deleteAndQuit('expunge', [2, 4]), '+OK Logging out, 2 messages deleted.');
    assert.deepEqual(await inbox(), ids(1, 3, 5));
    const c = await loggedIn(gw('expunge'));
    assert.equal(await c.command('STAT'), `+OK 3 ${[1, 3, 5].reduce((n, i) => n + expectedSize(content(tags[i - 1] as string)), 0)}`);
    await c.quit();
  });

  it('move:Archive moves the DELEd messages (unchanged) to Archive', async () => {
    assert.equal(await deleteAndQuit('move:Archive', [1, 3]), '+OK Logging out, 2 messages deleted.');
    assert.deepEqual(await inbox(), ids(2, 4, 5));
    const archived = await listMailbox(dovecot, 'Archive');
    assert.deepEqual(
      archived.map((m) => m.messageId),
      ids(1, 3),
    );
    const direct = await openImap(dovecot, 'Archive');
    try {
      const sources: Buffer[] = [];
      for await (const m of direct.fetch('1:*', { source: true })) sources.push(m.source as Buffer);
      assertBytes(sources[0] as Buffer, toCrlf(content(tags[0] as string)), 'archived message 1');
      assertBytes(sources[1] as Buffer, toCrlf(content(tags[2] as string)), 'archived message 3');
    } finally {
      await closeImap(direct);
    }
    const c = await loggedIn(gw('move:Archive'));
    assert.match(await c.command('STAT'), /^\+OK 3 /);
    await c.quit();
  });

  it('flag sets \\Deleted on exactly the DELEd messages and removes nothing', async () => {
    assert.match(await deleteAndQuit('flag', [1, 3]), /^\+OK/);
    assert.deepEqual(await inbox(), ids(1, 2, 3, 4, 5));
    assert.deepEqual(await flagged('\\Deleted'), ids(1, 3));
  });

  it('flag: the messages a QUIT reported deleted are not listed again in the next session', async () => {
    assert.equal(await deleteAndQuit('flag', [1, 3]), '+OK Logging out, 2 messages deleted.');
    const c = await loggedIn(gw('flag'));
    const stat = await c.command('STAT');
    const subjects: string[] = [];
    const count = Number(/^\+OK (\d+) /.exec(stat)?.[1] ?? -1);
    for (let n = 1; n <= count; n++) subjects.push(/^Subject: (.*)$/m.exec((await c.multiline(`TOP ${n} 0`)).body.toString('latin1'))?.[1]?.trim() ?? '?');
    await c.quit();
    assert.deepEqual(
      subjects,
      [2, 4, 5].map((i) => tags[i - 1]),
      `the next session lists ${stat}`,
    );
  });

  it('keep leaves every message and flag as it was', async () => {
    const before = await listMailbox(dovecot);
    assert.match(await deleteAndQuit('keep', [1, 2]), /^\+OK/);
    assert.deepEqual(await listMailbox(dovecot), before);
    const c = await loggedIn(gw('keep'));
    assert.match(await c.command('STAT'), /^\+OK 5 /);
    await c.quit();
  });

  it('a connection dropped after DELE deletes nothing and flags nothing', async () => {
    const before = await listMailbox(dovecot);
    const c = await loggedIn(gw('expunge'));
    assert.match(await c.command('DELE 1'), /^\+OK/);
    assert.match(await c.command('DELE 2'), /^\+OK/);
    c.destroy();
    await waitForNoSessions(gw('expunge'));
    await eventually(
      () => dovecotSessions(dovecot),
      (n) => n === 0,
      'the IMAP session to end',
    );
    assert.deepEqual(await listMailbox(dovecot), before);
  });

  it('RSET unmarks: only what was DELEd after it is deleted', async () => {
    const c = await loggedIn(gw('expunge'));
    assert.match(await c.command('DELE 1'), /^\+OK/);
    assert.match(await c.command('DELE 2'), /^\+OK/);
    assert.match(await c.command('RSET'), /^\+OK/);
    assert.match(await c.command('STAT'), /^\+OK 5 /);
    assert.match(await c.command('DELE 3'), /^\+OK/);
    assert.equal(await c.quit(), '+OK Logging out, 1 messages deleted.');
    assert.deepEqual(await inbox(), ids(1, 2, 4, 5));
  });

  it('QUIT without DELE changes nothing', async () => {
    const before = await listMailbox(dovecot);
    const c = await loggedIn(gw('expunge'));
    assert.match((await c.multiline('RETR 1')).status, /^\+OK/);
    assert.equal(await c.quit(), '+OK Logging out.');
    assert.deepEqual(await listMailbox(dovecot), before);
  });

  it('a UIDVALIDITY change during the session makes QUIT answer -ERR [SYS/TEMP] and delete nothing', async () => {
    const c = await loggedIn(gw('expunge'));
    assert.match(await c.command('DELE 1'), /^\+OK/);
    const validity = await uidValidityOf(dovecot);
    await dovecot.doveadm(['mailbox', 'update', '--uid-validity', String(validity + 7n), '-u', 'alice', 'INBOX']);
    assert.match(await c.quit(), /^-ERR \[SYS\/TEMP\] /);
    assert.deepEqual(await inbox(), ids(1, 2, 3, 4, 5));
    assert.deepEqual(await flagged('\\Deleted'), []);
  });

  it('move to a folder that does not exist answers -ERR [SYS/TEMP] and leaves the messages in place', async () => {
    assert.match(await deleteAndQuit('move:Nope', [2]), /^-ERR \[SYS\/TEMP\] /);
    assert.deepEqual(await inbox(), ids(1, 2, 3, 4, 5));
  });
});
