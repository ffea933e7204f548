/**
 * The IMAP channel and the QUIT update against a stand-in server on a real socket, for what the
 * test Dovecot (2.3, IMAP4rev1) cannot show: an IMAP4rev2 server (RFC 9051), which folds UIDPLUS
 * and MOVE into the base protocol and answers UID SEARCH with ESEARCH, and answers that are
 * missing. The stand-in answers in RFC 9051's wire format.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { ImapDrop } from '../../adapters/imap/drop.js';
import { ImapChannel, type ChannelFacts } from '../../adapters/imap/wire/channel.js';
import { sequenceRanges, uidSets, withNamespace } from '../../adapters/imap/wire/command-args.js';
import { ResponseReader } from '../../adapters/imap/wire/response-reader.js';
import { uidSearch } from '../../adapters/imap/wire/search.js';
import type { ImapTenantConfig } from '../../adapters/imap/config.js';
import { tenantSchema } from '../../src/config/schema.js';
import { fakeServer, type FakeServer } from '../helpers/imap-net.js';

type Answer = (tag: string, command: string) => string;

/** A server that answers each command line with `answer` (and records the lines). */
function standIn(answer: Answer): Promise<FakeServer> {
  return fakeServer({
    onLine: (socket, line) => {
      const [tag = '', ...rest] = line.split(' ');
      socket.write(answer(tag, rest.join(' ')));
    },
  });
}

async function channelTo(port: number, facts: Partial<ChannelFacts> = {}): Promise<ImapChannel> {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  const all: ChannelFacts = { capabilities: new Set(['IMAP4rev2']), rev2: true, utf8: true, selectedPath: 'INBOX', namespacePrefix: '', ...facts };
  return new ImapChannel(socket, socket, () => socket.destroy(), all, 2000);
}

function imapTenant(deleteMode: string): ImapTenantConfig {
  return tenantSchema.parse({ adapter: 'imap', host: '127.0.0.1', tls: 'none', deleteMode }) as ImapTenantConfig;
}

function dropOn(channel: ImapChannel, deleteMode: string): ImapDrop {
  const messages = [3, 4, 5].map((uid) => ({ id: String(uid), uidl: `u${uid}`, size: 10 }));
  return new ImapDrop(channel, imapTenant(deleteMode), {
    uidValidity: 7n,
    messages,
    logger: pino({ level: 'silent' }),
    rememberSize: () => undefined,
  });
}

/** An IMAP4rev2 server that keeps UID 4 whatever it is told (a partial refusal). */
const rev2Server: Answer = (tag, command) => {
  if (/^SELECT /.test(command)) return `* 3 EXISTS\r\n* OK [UIDVALIDITY 7] UIDs valid\r\n${tag} OK [READ-WRITE] done\r\n`;
  if (/^UID SEARCH /.test(command)) return `* ESEARCH (TAG "${tag}") UID ALL 4\r\n${tag} OK done\r\n`;
  if (/^LOGOUT/.test(command)) return `* BYE bye\r\n${tag} OK done\r\n`;
  return `${tag} OK done\r\n`;
};

describe('IMAP channel: QUIT update on an IMAP4rev2 server (stand-in)', () => {
  let stand: FakeServer;
  before(async () => (stand = await standIn(rev2Server)));
  after(() => stand.close());

  it('expunge uses UID EXPUNGE (UIDPLUS is part of rev2), never a bare EXPUNGE; ESEARCH says what is left', async () => {
    stand.received.length = 0;
    const channel = await channelTo(stand.port);
    const result = await dropOn(channel, 'expunge').commit({ deleted: ['3', '4', '5'] });
    assert.deepEqual(result, { removed: 2, failed: [{ id: '4', reason: 'still present after expunge' }] });
    const commands = stand.received.map((l) => l.replace(/^P\d+ /, ''));
    assert.deepEqual(commands, ['SELECT "INBOX"', 'UID STORE 3:5 +FLAGS.SILENT (\\Deleted)', 'UID EXPUNGE 3:5', 'UID SEARCH RETURN (ALL) UID 3:5']);
    await channel.logout(1000);
  });

  it('move uses UID MOVE, to the folder with the namespace prefix', async () => {
    stand.received.length = 0;
    const channel = await channelTo(stand.port, { namespacePrefix: 'INBOX.', selectedPath: 'INBOX.Work' });
    await dropOn(channel, 'move:Archive').commit({ deleted: ['5'] });
    const commands = stand.received.map((l) => l.replace(/^P\d+ /, ''));
    assert.deepEqual(commands, ['SELECT "INBOX.Work"', 'UID MOVE 5 "INBOX.Archive"', 'UID SEARCH RETURN (ALL) UID 5']);
    await channel.logout(1000);
  });

  it('a rev1 server without UIDPLUS gets EXPUNGE; without MOVE, COPY then expunge', async () => {
    stand.received.length = 0;
    const channel = await channelTo(stand.port, { capabilities: new Set(['IMAP4rev1']), rev2: false });
    await dropOn(channel, 'move:Archive').commit({ deleted: ['3'] });
    const commands = stand.received.map((l) => l.replace(/^P\d+ /, ''));
    assert.deepEqual(commands, ['SELECT "INBOX"', 'UID COPY 3 "Archive"', 'UID STORE 3 +FLAGS.SILENT (\\Deleted)', 'EXPUNGE', 'UID SEARCH UID 3']);
    await channel.logout(1000);
  });
});

describe('IMAP channel: answers that cannot be trusted', () => {
  it('a SEARCH that gives no result line fails the update instead of reporting it done', async () => {
    const stand = await standIn((tag, command) => (/^SELECT /.test(command) ? `* OK [UIDVALIDITY 7] ok\r\n${tag} OK done\r\n` : `${tag} OK done\r\n`));
    const channel = await channelTo(stand.port);
    const result = await dropOn(channel, 'expunge').commit({ deleted: ['3'] });
    assert.equal(result.removed, 0);
    assert.match(result.failed[0]?.reason ?? '', /no SEARCH result/);
    await channel.logout(100);
    await stand.close();
  });

  it('a connection already closed at the handover fails the first command at once, not after the timeout', async () => {
    const stand = await standIn(() => '');
    const socket = connect(stand.port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    socket.destroy();
    const facts: ChannelFacts = { capabilities: new Set(), rev2: false, utf8: false, selectedPath: 'INBOX', namespacePrefix: '' };
    const channel = new ImapChannel(socket, socket, () => socket.destroy(), facts, 60_000);
    const started = Date.now();
    await assert.rejects(channel.run('NOOP'), /connection was lost/);
    assert.ok(Date.now() - started < 1000);
    await stand.close();
  });

  it('the rest of a line imapflow had begun to read is skipped, even one ending like a literal', () => {
    const texts: string[] = [];
    const reader = new ResponseReader(
      {
        text: (t) => texts.push(t),
        literalStart: () => texts.push('LITERAL'),
        literalData: () => undefined,
        literalEnd: () => undefined,
        end: () => undefined,
      },
      1024,
      (line) => /^(\* |\+|P\d+ )/.test(line),
    );
    reader.push(Buffer.from('ISTS (a {5}\r\n* 4 EXISTS\r\nP1 OK done\r\n'));
    assert.deepEqual(texts, ['* 4 EXISTS', 'P1 OK done']);
  });
});

describe('IMAP channel: UID SEARCH answers', () => {
  it('ESEARCH ranges list in order, and a list longer than the limit is refused (not expanded)', async () => {
    const stand = await standIn((tag, command) =>
      /HUGE/.test(command)
        ? `* ESEARCH (TAG "${tag}") UID ALL 1:4000000000\r\n${tag} OK done\r\n`
        : /BROKEN/.test(command)
          ? `* ESEARCH (TAG "${tag}") UID ALL 3,,5:\r\n${tag} OK done\r\n`
          : `* ESEARCH (TAG "${tag}") UID ALL 7,3:5\r\n${tag} OK done\r\n`,
    );
    const channel = await channelTo(stand.port);
    const small = await uidSearch(channel, 'UNDELETED', 'listing');
    assert.deepEqual(small.list(100), [3, 4, 5, 7]);
    assert.equal(small.list(3), undefined);
    assert.equal(small.has(4), true);
    const huge = await uidSearch(channel, 'HUGE', 'listing');
    assert.equal(huge.list(10_001), undefined);
    await assert.rejects(uidSearch(channel, 'BROKEN', 'listing'), /malformed ESEARCH/);
    await channel.logout(100);
    await stand.close();
  });
});

describe('IMAP command arguments (sets and names)', () => {
  it('UID sets are split so no command line passes the limit, and cover every UID once', () => {
    const uids = Array.from({ length: 12_000 }, (_, i) => 2 * i + 1);
    const sets = uidSets(uids, 8000);
    assert.ok(sets.length > 1 && sets.every((s) => s.length <= 8000));
    const back = sets.flatMap((s) => s.split(',').map(Number));
    assert.deepEqual(back, uids);
  });

  it('sequence sets from a server (either bound first) answer membership', () => {
    const inSequenceSet = (set: string, uid: number): boolean => (sequenceRanges(set) ?? []).some(([low, high]) => uid >= low && uid <= high);
    assert.equal(inSequenceSet('3:4,7,12:10', 4), true);
    assert.equal(inSequenceSet('3:4,7,12:10', 11), true);
    assert.equal(inSequenceSet('3:4,7,12:10', 5), false);
  });

  it('folder names get the namespace prefix as imapflow gives it; INBOX never does', () => {
    assert.equal(withNamespace('Archive', 'INBOX.'), 'INBOX.Archive');
    assert.equal(withNamespace('INBOX.Archive', 'INBOX.'), 'INBOX.Archive');
    assert.equal(withNamespace('inbox', 'INBOX.'), 'INBOX');
    assert.equal(withNamespace('Archive', ''), 'Archive');
  });
});
