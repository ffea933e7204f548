/**
 * RETR and TOP through the IMAP adapter, byte for byte: 8-bit, malformed (no header, bare CR,
 * very long lines, no final newline), sizes at and around the 512 KiB partial-fetch size, dot
 * lines and CRLFs split across two partial fetches, TOP around its 32 KiB first fetch. And the
 * \Seen flag: never set by RETR/TOP (BODY.PEEK, EXAMINE) unless markSeen is on.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startDovecot, type DovecotInstance } from '../helpers/dovecot.js';
import type { TestGateway } from '../helpers/gateway.js';
import {
  assertBytes,
  eventually,
  listMailbox,
  messageIdOf,
  putMessages,
  startImapGateway,
  taggedMessage,
  type StoredMessage,
} from '../helpers/imap-harness.js';
import { expectedBody, expectedSize, loggedIn } from '../helpers/tx-util.js';

const CHUNK = 512 * 1024;
const TOP_CHUNK = 32 * 1024;
const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1');

/** `prefix` and CRLF lines (`linePrefix` + x...) making exactly `target` octets, ending with CRLF. */
function padTo(prefix: string, target: number, linePrefix = ''): string {
  let r = target - prefix.length;
  const min = linePrefix.length + 3;
  if (r < min) throw new Error(`padTo: ${r} octets left, need at least ${min}`);
  const lines: string[] = [];
  const line = (len: number): string => linePrefix + 'x'.repeat(len - linePrefix.length - 2) + '\r\n';
  while (r > 1000) {
    lines.push(line(500));
    r -= 500;
  }
  lines.push(line(r));
  return prefix + lines.join('');
}

const head = (tag: string): string => `From: sender@example.com\r\nTo: alice@example.org\r\nSubject: ${tag}\r\nMessage-ID: <${tag}@popgate.test>\r\n`;

/** A CRLF message of exactly `size` octets. */
const exactly = (tag: string, size: number): string => padTo(head(tag) + '\r\n', size);

/** What TOP n k must send (un-stuffed): header, blank line, first k body lines (all of a message without a blank line). */
function expectedTop(content: string | Buffer, k: number): Buffer {
  const body = expectedBody(content);
  const end = body.indexOf('\r\n\r\n');
  if (end < 0) return body;
  let pos = end + 4;
  for (let i = 0; i < k; i++) {
    const lf = body.indexOf('\n', pos);
    if (lf < 0) return body;
    pos = lf + 1;
  }
  return body.subarray(0, pos);
}

interface Fixture {
  readonly label: string;
  readonly content: Buffer;
}

function fixtures(): Fixture[] {
  const f: Fixture[] = [];
  const add = (label: string, content: string | Buffer): void => {
    f.push({ label, content: typeof content === 'string' ? latin1(content) : content });
  };
  add(
    '8-bit octets and UTF-8',
    Buffer.concat([
      latin1(taggedMessage('r-8bit', '', 'Content-Transfer-Encoding: 8bit\n')),
      latin1('raw \x80\x81\xfe\xff caf\xe9\n'),
      Buffer.from('Grüße 日本語 📬\n', 'utf8'),
    ]),
  );
  add('no header at all', 'This message has no header lines.\nJust text\n\nand a blank line above.\n');
  add('bare CRs', taggedMessage('r-bare-cr', 'bare\rCR inside\n\r\nline after a CR-only line\rand\r\r\n'));
  add('a 1 MB line', taggedMessage('r-long-line', 'z'.repeat(1_000_000) + '\nshort line after\n'));
  add('no final newline', taggedMessage('r-no-final', 'first line\nthe last line has no line end'));
  add('dot lines and a terminator look-alike', head('r-dots') + '\r\n.\r\n..\r\n.x\r\nbefore\r\n.\r\nafter\r\n. \r\n');
  add('exactly 512 KiB', exactly('r-512k', CHUNK));
  add('exactly 1 MiB', exactly('r-1m', 2 * CHUNK));
  add('512 KiB + 1', exactly('r-512k1', CHUNK + 1));
  add('a lone dot line starting the second partial fetch', padTo(head('r-dot-boundary') + '\r\n', CHUNK) + '.\r\n..\r\nend\r\n');
  add('a CRLF split over two partial fetches, then a dot line', padTo(head('r-crlf-split') + '\r\n', CHUNK + 1) + '.dot first\r\nend\r\n');
  add('header only, no blank line, no body', head('r-header-only'));
  add('blank line split over the first TOP fetch', padTo(head('r-top-split'), TOP_CHUNK - 1, 'X-Pad: ') + '\r\nbody 1\r\nbody 2\r\n');
  add('a 40 KB header block', padTo(head('r-big-header'), 40_000, 'X-Pad: ') + '\r\nb1\r\nb2\r\nb3\r\nb4\r\n');
  add('exactly 32 KiB', exactly('r-32k', TOP_CHUNK));
  return f;
}

describe('IMAP RETR and TOP, byte for byte', () => {
  let dovecot: DovecotInstance;
  let gw: TestGateway;
  const messages = fixtures();
  before(async () => {
    dovecot = await startDovecot({ protocols: ['imap'] });
    putMessages(
      dovecot,
      messages.map((m) => m.content),
    );
    gw = await startImapGateway(dovecot.imapPort);
  });
  after(async () => {
    await gw?.stop();
    await dovecot?.stop();
  });

  it('the fixtures are what they claim (sizes, and the split points)', () => {
    const size = (label: string): number => expectedSize((messages.find((m) => m.label === label) as Fixture).content);
    assert.equal(size('exactly 512 KiB'), CHUNK);
    assert.equal(size('exactly 1 MiB'), 2 * CHUNK);
    assert.equal(size('512 KiB + 1'), CHUNK + 1);
    assert.equal(size('exactly 32 KiB'), TOP_CHUNK);
    const dot = (messages.find((m) => m.label.startsWith('a lone dot line')) as Fixture).content;
    assert.equal(dot.subarray(CHUNK - 2, CHUNK + 3).toString('latin1'), '\r\n.\r\n');
    const split = (messages.find((m) => m.label.startsWith('a CRLF split')) as Fixture).content;
    assert.equal(split.subarray(CHUNK - 1, CHUNK + 2).toString('latin1'), '\r\n.');
    const top = (messages.find((m) => m.label.startsWith('blank line split')) as Fixture).content;
    assert.equal(top.subarray(TOP_CHUNK - 3, TOP_CHUNK + 2).toString('latin1'), '\r\n\r\nb', 'the blank line is octets 32767-32768');
  });

  it('RETR in order (read-ahead on) gives every message exactly, with the listed size', async () => {
    const c = await loggedIn(gw);
    const list = await c.lines('LIST');
    assert.deepEqual(
      list.lines,
      messages.map((m, i) => `${i + 1} ${expectedSize(m.content)}`),
    );
    for (const [i, m] of messages.entries()) {
      const r = await c.multiline(`RETR ${i + 1}`, 30_000);
      assert.equal(r.status, `+OK ${expectedSize(m.content)} octets`, m.label);
      assertBytes(r.body, expectedBody(m.content), `RETR ${i + 1} (${m.label})`);
    }
    assert.match(await c.quit(), /^\+OK/);
  });

  it('RETR in reverse order, then pipelined, gives the same bytes', async () => {
    const c = await loggedIn(gw);
    for (let i = messages.length; i >= 1; i--) {
      const m = messages[i - 1] as Fixture;
      const r = await c.multiline(`RETR ${i}`, 30_000);
      assertBytes(r.body, expectedBody(m.content), `RETR ${i} (${m.label})`);
    }
    c.send(messages.map((_, i) => `RETR ${i + 1}\r\n`).join(''));
    for (const [i, m] of messages.entries()) {
      const status = await c.readLine(30_000);
      assert.equal(status, `+OK ${expectedSize(m.content)} octets`);
      assertBytes(await c.readMultiline(30_000), expectedBody(m.content), `pipelined RETR ${i + 1} (${m.label})`);
    }
    assert.match(await c.quit(), /^\+OK/);
  });

  it('TOP n 0 and TOP n k give the header, the blank line and exactly k body lines', async () => {
    const c = await loggedIn(gw);
    const cases: [string, number][] = [
      ['8-bit octets and UTF-8', 0],
      ['8-bit octets and UTF-8', 1],
      ['dot lines and a terminator look-alike', 0],
      ['dot lines and a terminator look-alike', 5],
      ['a 1 MB line', 0],
      ['a 1 MB line', 1],
      ['no final newline', 2],
      ['no final newline', 50],
      ['header only, no blank line, no body', 0],
      ['blank line split over the first TOP fetch', 0],
      ['blank line split over the first TOP fetch', 1],
      ['a 40 KB header block', 0],
      ['a 40 KB header block', 3],
      ['exactly 1 MiB', 0],
      ['exactly 1 MiB', 5],
      ['a lone dot line starting the second partial fetch', 99_999_999],
    ];
    for (const [label, k] of cases) {
      const n = messages.findIndex((m) => m.label === label) + 1;
      assert.ok(n > 0, label);
      const r = await c.multiline(`TOP ${n} ${k}`, 30_000);
      assert.match(r.status, /^\+OK/);
      assertBytes(r.body, expectedTop((messages[n - 1] as Fixture).content, k), `TOP ${n} ${k} (${label})`);
    }
    assert.match(await c.quit(), /^\+OK/);
  });
});

describe('IMAP RETR and the \\Seen flag', () => {
  let dovecot: DovecotInstance;
  const tags = [1, 2, 3, 4, 5, 6].map((i) => `seen-${i}`);
  before(async () => {
    dovecot = await startDovecot({ protocols: ['imap'] });
    putMessages(
      dovecot,
      tags.map((t) => taggedMessage(t)),
    );
  });
  after(() => dovecot?.stop());

  const seen = (box: readonly StoredMessage[]): string[] => box.filter((m) => m.flags.includes('\\Seen')).map((m) => m.messageId);

  it('RETR and TOP leave \\Seen unset when markSeen is off (the default)', async () => {
    const gw = await startImapGateway(dovecot.imapPort);
    try {
      const c = await loggedIn(gw);
      for (let i = 1; i <= tags.length; i++) assert.match((await c.multiline(`RETR ${i}`)).status, /^\+OK/);
      assert.match((await c.multiline('TOP 1 0')).status, /^\+OK/);
      assert.deepEqual(seen(await listMailbox(dovecot)), [], 'no \\Seen during the session');
      assert.match(await c.quit(), /^\+OK/);
      const box = await listMailbox(dovecot);
      assert.equal(box.length, tags.length);
      assert.deepEqual(seen(box), [], 'no \\Seen after QUIT');
    } finally {
      await gw.stop();
    }
  });

  it('with markSeen: true, exactly the RETRieved messages get \\Seen (not TOP, not read-ahead)', async () => {
    const gw = await startImapGateway(dovecot.imapPort, { tenant: { markSeen: true } });
    try {
      const c = await loggedIn(gw);
      // RETR 2 then 3 reads 4.. ahead; TOP 5 reads the header of 5.
      assert.match((await c.multiline('RETR 2')).status, /^\+OK/);
      assert.match((await c.multiline('RETR 3')).status, /^\+OK/);
      assert.match((await c.multiline('TOP 5 0')).status, /^\+OK/);
      const want = [messageIdOf('seen-2'), messageIdOf('seen-3')];
      await eventually(
        async () => seen(await listMailbox(dovecot)),
        (s) => s.length >= 2,
        '\\Seen on the retrieved messages',
      );
      assert.match(await c.quit(), /^\+OK/);
      assert.deepEqual(seen(await listMailbox(dovecot)), want);
    } finally {
      await gw.stop();
    }
  });
});
