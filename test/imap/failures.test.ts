/**
 * Failures under a running POP3 session: Dovecot killed during the RETR of a big message (the
 * POP3 connection closes without the terminating dot and nothing is deleted), messages expunged
 * by another IMAP client after the login (-ERR for those only; the numbering holds; QUIT still
 * succeeds), and the IMAP connection lost between two commands ([SYS/TEMP], nothing deleted).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startDovecot, type DovecotInstance } from '../helpers/dovecot.js';
import type { TestGateway } from '../helpers/gateway.js';
import {
  assertBytes,
  closeImap,
  dovecotProcesses,
  eventually,
  filesOnDisk,
  killDovecot,
  listMailbox,
  messageIdOf,
  openConnectionsTo,
  openImap,
  putMessages,
  startImapGateway,
  taggedMessage,
} from '../helpers/imap-harness.js';
import { StreamingPop3, wireAnswer } from '../helpers/imap-net.js';
import { expectedBody, expectedSize, loggedIn, waitForNoSessions } from '../helpers/tx-util.js';

const MB = 1024 * 1024;
const GONE = '-ERR Message was removed by another client.';

function bigMessage(): Buffer {
  const lines = ['Subject: big', 'Message-ID: <kill-big@popgate.test>', ''];
  let size = 0;
  for (let i = 0; size < 25 * MB; i++) {
    const line = `line ${String(i).padStart(8, '0')} ${'0123456789abcdefghijklmnopqrstuvwxyz'.repeat(2)}`;
    lines.push(line);
    size += line.length + 2;
  }
  return Buffer.from(lines.join('\r\n') + '\r\n', 'latin1');
}

describe('Dovecot killed during a RETR', () => {
  let mailRoot: string;
  let dovecot: DovecotInstance | undefined;
  let restarted: DovecotInstance | undefined;
  const gateways: TestGateway[] = [];
  const small = [taggedMessage('kill-1'), taggedMessage('kill-2')];
  const big = bigMessage();
  before(async () => {
    // The Maildirs live outside Dovecot's own folder, so they outlive it and a second Dovecot can serve them.
    mailRoot = mkdtempSync(join(tmpdir(), 'popgate-imap-kill-'));
    dovecot = await startDovecot({ protocols: ['imap'], mailRoot });
    putMessages(dovecot, [...small, big]);
  });
  after(async () => {
    for (const g of gateways) await g.stop();
    await dovecot?.stop();
    await restarted?.stop();
    rmSync(mailRoot, { recursive: true, force: true });
  });

  it('closes the POP3 connection without the terminating dot, and the DELEd messages are still there', async () => {
    const d = dovecot as DovecotInstance;
    const gw = await startImapGateway(d.imapPort, { tenant: { commandTimeoutMs: 5000 } });
    gateways.push(gw);
    const filesBefore = filesOnDisk(d);
    assert.equal(filesBefore.length, 3);

    const c = await StreamingPop3.connect(gw.port);
    await c.login('alice', 'alicepass');
    assert.match(await c.command('DELE 1'), /^\+OK/);
    assert.match(await c.command('DELE 2'), /^\+OK/);
    assert.equal(await c.command('RETR 3', 30_000), `+OK ${expectedSize(big)} octets`);
    // Stop reading so the gateway is mid-message (held back by the socket), then kill Dovecot.
    c.socket.pause();
    killDovecot(d);
    c.socket.resume();
    const wire = wireAnswer(expectedBody(big));
    const r = await c.checkBody(wire, 30_000);
    assert.equal(r.closed, true, `the connection must close; received ${r.received} of ${wire.length} octets`);
    assert.equal(r.complete, false);
    assert.ok(r.received < wire.length, `received ${r.received} of ${wire.length}`);
    assert.equal(r.mismatchAt, undefined, 'what was sent before the failure is correct');
    assert.notEqual(r.tail.toString('latin1'), '\r\n.\r\n', 'no terminating dot');
    await waitForNoSessions(gw);

    assert.deepEqual(filesOnDisk(d), filesBefore, 'no message file was removed');
    // A new Dovecot on the same Maildir still has all three messages.
    restarted = await startDovecot({ protocols: ['imap'], mailRoot });
    const box = await listMailbox(restarted);
    assert.deepEqual(
      box.map((m) => m.messageId),
      [messageIdOf('kill-1'), messageIdOf('kill-2'), '<kill-big@popgate.test>'],
    );
    assert.ok(
      box.every((m) => !m.flags.includes('\\Deleted')),
      JSON.stringify(box),
    );
    const gw2 = await startImapGateway(restarted.imapPort);
    gateways.push(gw2);
    const c2 = await loggedIn(gw2);
    assert.equal(await c2.command('STAT'), `+OK 3 ${[...small.map((m) => expectedSize(m)), expectedSize(big)].reduce((a, b) => a + b)}`);
    await c2.quit();
  });
});

describe('messages expunged by another IMAP client during a POP3 session', () => {
  let dovecot: DovecotInstance;
  let gw: TestGateway;
  const tags = [1, 2, 3, 4, 5, 6].map((i) => `gone-${i}`);
  const content = (tag: string): string => taggedMessage(tag, `The text of ${tag}.\n`);
  before(async () => {
    dovecot = await startDovecot({ protocols: ['imap'] });
    gw = await startImapGateway(dovecot.imapPort);
  });
  after(async () => {
    await gw?.stop();
    await dovecot?.stop();
  });

  async function freshMailbox(): Promise<number[]> {
    await dovecot.doveadm(['expunge', '-u', 'alice', 'mailbox', 'INBOX', 'all']);
    putMessages(dovecot, tags.map(content));
    const box = await listMailbox(dovecot);
    assert.deepEqual(
      box.map((m) => m.messageId),
      tags.map(messageIdOf),
    );
    return box.map((m) => m.uid);
  }

  async function expungeElsewhere(uids: readonly number[]): Promise<void> {
    const other = await openImap(dovecot);
    try {
      assert.equal(await other.messageDelete(uids.join(','), { uid: true }), true);
    } finally {
      await closeImap(other);
    }
  }

  it('RETR and TOP of an expunged message answer -ERR; the other messages keep their numbers and content', async () => {
    const uids = await freshMailbox();
    const c = await loggedIn(gw);
    const list = await c.lines('LIST');
    await expungeElsewhere([uids[1] as number, uids[3] as number]);
    assert.equal((await listMailbox(dovecot)).length, 4);

    assert.equal(await c.command('RETR 2'), GONE);
    assert.equal(await c.command('TOP 4 0'), GONE);
    // The snapshot still lists six messages, and numbers are unchanged (IMAP sequence numbers shifted).
    assert.deepEqual(await c.lines('LIST'), list);
    for (const n of [1, 3, 5, 6]) {
      const r = await c.multiline(`RETR ${n}`);
      assert.match(r.status, /^\+OK/, `RETR ${n}`);
      assertBytes(r.body, expectedBody(content(tags[n - 1] as string)), `RETR ${n}`);
    }
    assert.equal(await c.command('RETR 4'), GONE, 'the second expunged one, after read-ahead ran');
    assert.match(await c.command('NOOP'), /^\+OK/, 'the session goes on');
    assert.match(await c.quit(), /^\+OK/);
  });

  it('an expunge after read-ahead started does not break the session either', async () => {
    const uids = await freshMailbox();
    const c = await loggedIn(gw);
    assert.match((await c.multiline('RETR 1')).status, /^\+OK/);
    await expungeElsewhere([uids[2] as number]);
    for (const n of [2, 3, 4, 5, 6]) {
      const status = await c.command(`RETR ${n}`);
      if (n === 3) {
        // Read ahead before the expunge, or fetched after it: either the true message or -ERR.
        if (status.startsWith('+OK')) assertBytes(await c.readMultiline(), expectedBody(content(tags[2] as string)), 'RETR 3');
        else assert.equal(status, GONE);
        continue;
      }
      assert.match(status, /^\+OK/, `RETR ${n}`);
      assertBytes(await c.readMultiline(), expectedBody(content(tags[n - 1] as string)), `RETR ${n}`);
    }
    assert.match(await c.quit(), /^\+OK/);
  });

  it('QUIT answers +OK when another client already expunged some of the DELEd messages, and removes the rest', async () => {
    const uids = await freshMailbox();
    const c = await loggedIn(gw);
    for (const n of [1, 2, 3]) assert.match(await c.command(`DELE ${n}`), /^\+OK/);
    await expungeElsewhere([uids[1] as number, uids[4] as number]);
    assert.match(await c.quit(), /^\+OK/);
    assert.deepEqual(
      (await listMailbox(dovecot)).map((m) => m.messageId),
      [4, 6].map((i) => messageIdOf(`gone-${i}`)),
    );
  });
});

describe('the IMAP connection lost between two POP3 commands', () => {
  let dovecot: DovecotInstance;
  let gw: TestGateway;
  const tags = [1, 2, 3].map((i) => `lost-${i}`);
  before(async () => {
    dovecot = await startDovecot({ protocols: ['imap'] });
    putMessages(
      dovecot,
      tags.map((t) => taggedMessage(t)),
    );
    gw = await startImapGateway(dovecot.imapPort);
  });
  after(async () => {
    await gw?.stop();
    await dovecot?.stop();
  });

  it('RETR answers -ERR [SYS/TEMP] (not "removed by another client"), and QUIT deletes nothing', async () => {
    const c = await loggedIn(gw);
    try {
      assert.match(await c.command('DELE 1'), /^\+OK/);
      // Kill this session's imap process and wait until the gateway has seen its connection close.
      const imap = await eventually(
        () => dovecotProcesses(dovecot, 'imap'),
        (p) => p.length === 1,
        'one imap process',
      );
      for (const pid of imap) process.kill(pid, 'SIGKILL');
      await eventually(
        () => openConnectionsTo(dovecot.imapPort),
        (n) => n === 0,
        'the gateway to notice the closed IMAP connection',
      );
      const retr = await c.command('RETR 2');
      assert.match(retr, /^-ERR \[SYS\/TEMP\] /, `RETR 2 after the IMAP connection was lost: ${retr}`);
      assert.match(await c.quit(), /^-ERR \[SYS\/TEMP\] /);
    } finally {
      c.destroy();
    }
    assert.deepEqual(
      (await listMailbox(dovecot)).map((m) => m.messageId),
      tags.map(messageIdOf),
      'nothing deleted',
    );
  });
});
